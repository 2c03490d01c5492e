"""The Spark reference peer: the blueprint's streaming job in PySpark.

Kafka source -> from_json -> broadcast-keyword Python UDF (skills) and a region
UDF -> explode -> withWatermark("timestamp", "2 hours") ->
groupBy(window("timestamp", "1 hour"), skill, region).count() -> foreachBatch
into Redis as trend:{skill}:{region}:{YYYY-MM-DD-HH} (update mode: each batch
carries the running totals of the groups it changed, so SET is idempotent).

It runs with trigger(availableNow=True): it reads everything in the topic when
it starts and stops when that is processed, which gives a clean "time to last
result". Measurements (written as JSON to --result): wall times, input rows,
CPU seconds of the whole process tree (driver Python, JVM, Python workers) and
its peak RSS summed over the tree, sampled every 100 ms.

Run through bench/spark/run.sh, which installs pyspark and the Kafka connector.
"""
import argparse
import json
import os
import sys
import threading
import time

T0 = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import logic  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def tree_pids(root):
    """root and all its descendants, from /proc/*/stat parent links."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_rss_kb(root):
    total = 0
    for p in tree_pids(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def tree_cpu_s(root):
    """user+sys of the live tree plus what its members reaped from dead children."""
    ticks = 0
    for p in tree_pids(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        ticks += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / CLK


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.cpu_s = 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(os.getpid()))
            self.cpu_s = max(self.cpu_s, tree_cpu_s(os.getpid()))
            self.stop.wait(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brokers", default="127.0.0.1:9092")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    ap.add_argument("--taxonomy", default=os.path.join(HERE, "taxonomy"))
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--jars", default="", help="comma list of jars (Kafka connector)")
    ap.add_argument("--shuffle-partitions", type=int, default=6)
    ap.add_argument("--max-offsets-per-trigger", type=int, default=0, help="0 = no limit")
    ap.add_argument("--result", required=True)
    a = ap.parse_args()

    sampler = Sampler()
    sampler.start()

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    import redis

    spark = (
        SparkSession.builder.appName("gtp-spark-reference")
        .master("local[*]")
        .config("spark.jars", a.jars)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(a.shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.streaming.metricsEnabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(os.path.join(HERE, "logic.py"))
    t_session = time.time()

    # The seed's broadcast keyword list; the places tables travel the same way.
    kw = spark.sparkContext.broadcast(logic.load_keywords(a.taxonomy))
    places = spark.sparkContext.broadcast(logic.load_places(a.taxonomy))
    compiled = {}

    def skills_udf(title, description):
        pats = compiled.get("p")
        if pats is None:
            pats = compiled["p"] = logic.compile_keywords(kw.value)
        return logic.find_skills(pats, title, description)

    def region_udf(location):
        return logic.find_region(places.value, location)

    find_skills = F.udf(skills_udf, T.ArrayType(T.StringType()))
    find_region = F.udf(region_udf, T.StringType())

    schema = T.StructType(
        [
            T.StructField("event_id", T.StringType()),
            T.StructField("timestamp", T.StringType()),
            T.StructField("source", T.StringType()),
            T.StructField(
                "payload",
                T.StructType(
                    [
                        T.StructField("job_id", T.StringType()),
                        T.StructField("title", T.StringType()),
                        T.StructField("company", T.StringType()),
                        T.StructField("location", T.StringType()),
                        T.StructField("description", T.StringType()),
                        T.StructField("is_remote", T.BooleanType()),
                    ]
                ),
            ),
        ]
    )

    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", a.brokers)
        .option("subscribe", a.topic)
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "false")
    )
    if a.max_offsets_per_trigger > 0:
        reader = reader.option("maxOffsetsPerTrigger", str(a.max_offsets_per_trigger))
    ev = (
        reader.load()
        .select(F.from_json(F.col("value").cast("string"), schema).alias("e"))
        .select(
            F.col("e.timestamp").cast("timestamp").alias("timestamp"),
            F.col("e.payload.title").alias("title"),
            F.col("e.payload.description").alias("description"),
            F.col("e.payload.location").alias("location"),
        )
        .where(F.col("timestamp").isNotNull() & F.col("title").isNotNull())
    )
    counts = (
        ev.select(
            "timestamp",
            F.explode(find_skills("title", "description")).alias("skill"),
            find_region("location").alias("region"),
        )
        .withWatermark("timestamp", "2 hours")
        .groupBy(F.window("timestamp", "1 hour"), "skill", "region")
        .count()
    )

    r = redis.Redis.from_url(a.redis)
    written = {"keys": 0, "batches": 0}

    def to_redis(batch, batch_id):
        rows = batch.select(
            "skill", "region", F.date_format("window.start", "yyyy-MM-dd-HH").alias("h"), "count"
        ).collect()
        pipe = r.pipeline(transaction=True)
        for row in rows:
            pipe.set(f"trend:{row.skill}:{row.region.lower()}:{row.h}", row["count"])
        pipe.execute()
        written["keys"] += len(rows)
        written["batches"] += 1

    t_start = time.time()
    q = (
        counts.writeStream.outputMode("update")
        .foreachBatch(to_redis)
        .option("checkpointLocation", a.checkpoint)
        .trigger(availableNow=True)
        .start()
    )
    q.awaitTermination()
    t_end = time.time()
    rows_in = sum(p.get("numInputRows", 0) for p in q.recentProgress)
    sampler.stop.set()
    sampler.join()
    cpu = max(sampler.cpu_s, tree_cpu_s(os.getpid()))
    peak = max(sampler.peak_kb, tree_rss_kb(os.getpid()))
    res = {
        "input_rows": rows_in,
        "batches": written["batches"],
        "keys_written": written["keys"],
        "startup_s": round(t_session - T0, 3),
        "query_s": round(t_end - t_start, 3),
        "total_s": round(t_end - T0, 3),
        "cpu_s": round(cpu, 2),
        "peak_rss_kb": peak,
        "batch_ms": [p.get("durationMs", {}) for p in q.recentProgress],
    }
    with open(a.result, "w") as f:
        json.dump(res, f)
    print(json.dumps(res))
    spark.stop()


if __name__ == "__main__":
    main()
