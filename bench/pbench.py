"""Processor benchmarks (issue 8), run with scripts/py (redis, confluent-kafka).

  pbench.py fill       --topic T --count N [--seed S]     create T (6 partitions), fill it chaos-free
  pbench.py throughput --topic T [--rounds R]             gtp-processor to the last flush vs kcat -C,
                                                          alternating, medians of R (default 3)
  pbench.py latency    --rate R --seconds S [--extra F]   event-to-Redis latency at a steady rate
  pbench.py compare    --topic T                          gtp-processor vs the Spark job, same stream
  pbench.py scaling    --topic T --instances 1,2,3        N processors in one group
  pbench.py insights   --topic T [--rounds R]             events/s with and without --insights
  pbench.py ab         --topic T --builds a=DIR,b=DIR     builds alternating: events/s, CPU, Redis
                       [--rounds R] [--extra FLAGS]       time per command, every key's value equal

Each prints one JSON object on stdout (progress on stderr). Redis DBs 8, 9 and 10
only (flushed before use); private topics and consumer groups only.

How "done" is detected: gtp-processor stores each partition's next offset in
the Redis hash gtp:part:<topic>:<p> (field next) in the same atomic flush as
the counts, so the processor has delivered everything when next equals the
log-end offset of every partition. The monitor polls those hashes every 5 ms.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import redis
from confluent_kafka import Consumer, TopicPartition

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("GTP_BUILD_DIR", os.path.join(ROOT, "build"))
BROKERS = os.environ.get("BROKERS", "127.0.0.1:9092")
# scripts/services.sh's GTP_REDIS_PORT when the services run on private ports
REDIS_PORT = int(os.environ.get("GTP_REDIS_PORT", "6379"))
CLK = os.sysconf("SC_CLK_TCK")
# Against scripts/services.sh --cluster (bench/cluster.sh): BROKERS lists the three nodes,
# SENTINELS ("host:port,...") the Sentinels; the processors get a redis-sentinel:// URL
# and the harness reads the primary the Sentinels name.
SENTINELS = os.environ.get("SENTINELS", "")
MASTER = os.environ.get("GTP_CLUSTER_MASTER", "gtp")


def log(msg):
    print(f"pbench: {msg}", file=sys.stderr, flush=True)


def rurl(db):
    if SENTINELS:
        return f"redis-sentinel://{SENTINELS}/{MASTER}?db={db}"
    return f"redis://127.0.0.1:{REDIS_PORT}/{db}"


def primary(db):
    """A client of the primary: the Sentinels' in cluster mode."""
    if SENTINELS:
        from redis.sentinel import Sentinel
        hosts = [(h, int(p)) for h, p in (x.rsplit(":", 1) for x in SENTINELS.split(","))]
        return Sentinel(hosts, socket_timeout=5).master_for(MASTER, db=db)
    return redis.Redis.from_url(rurl(db))


def fresh_db(db):
    assert db in (8, 9, 10), "benchmarks may only use redis dbs 8, 9 and 10"
    r = primary(db)
    r.flushdb()
    return r


def settle_aof(r, timeout=120):
    """Compact Redis's append-only file (BGREWRITEAOF) and wait for the rewrite to finish, so a
    measured run starts from the same state and no rewrite falls inside it by chance. Redis
    rewrites the file once it has doubled (and is 64 MB or more): a 1M-event run writes about
    35 MB to it, so on the benchmark's Redis, holding the other pieces' databases, nearly every
    such run set one off part way through; its fork and its child, serializing every database,
    shared the two cores with the run (bench/README.md, "Append-only file rewrites"). Without
    AOF, or where CONFIG or BGREWRITEAOF is refused (a managed Redis), this does nothing."""
    try:
        if r.config_get("appendonly").get("appendonly") != "yes":
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = r.info("persistence")
            if not p["aof_rewrite_in_progress"] and not p["aof_rewrite_scheduled"]:
                break
            time.sleep(0.05)
        before = r.info("persistence")["aof_rewrites"]
        r.bgrewriteaof()
        while time.time() < deadline:
            time.sleep(0.05)
            p = r.info("persistence")
            if p["aof_rewrites"] > before and not p["aof_rewrite_in_progress"]:
                return
    except redis.ResponseError as e:
        log(f"append-only file not compacted before the run: {e}")


def aof_state(r):
    """(AOF rewrites so far, CPU seconds of Redis's child processes so far): a rewrite during a
    run shows in its figures."""
    cpu = r.info("cpu")
    return (r.info("persistence")["aof_rewrites"],
            cpu["used_cpu_sys_children"] + cpu["used_cpu_user_children"])


def end_offsets(topic, parts=6):
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"gtp.bench.wm.{os.getpid()}"})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(parts)]
    finally:
        c.close()


def services(*args):
    cluster = ["--cluster"] if SENTINELS else []
    subprocess.run([os.path.join(ROOT, "scripts", "services.sh"), *cluster, *args], check=True,
                   stdout=subprocess.DEVNULL)


def generator(*args):
    return [os.path.join(BUILD, "gtp-generator"), "-b", BROKERS, "--metrics-port", "0",
            "--log-level", "warn", *args]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def proc_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def scrape(port, name):
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    m = re.search(r"^" + re.escape(name) + r"(?:\{\})? (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


def start_processor(topic, db, group, taxonomy=None, metrics_port=0, extra=()):
    cmd = [os.path.join(BUILD, "gtp-processor"), "-b", BROKERS, "-t", topic, "--redis", rurl(db),
           "-g", group, "--dlq-topic", topic + ".dlq", "--metrics-port", str(metrics_port),
           "--log-level", "warn", *extra]
    if taxonomy:
        cmd += ["--taxonomy", taxonomy]
    return subprocess.Popen(cmd, stderr=sys.stderr)


def wait_done(r, topic, ends, procs, timeout=900):
    """Poll gtp:part:<topic>:<p> next every 5 ms until every partition reaches its end offset.
    The poll is one pre-packed pipeline on a connection of its own: the harness shares the two
    cores with what it measures, and redis-py's pipeline object cost three times the CPU."""
    deadline = time.time() + timeout
    pipe_keys = [f"gtp:part:{topic}:{p}" for p in range(len(ends))]
    try:
        conn = r.connection_pool.get_connection()
    except TypeError:  # redis-py before 5.3 wants a command name
        conn = r.connection_pool.get_connection("HGET")
    packed = conn.pack_commands([("HGET", k, "next") for k in pipe_keys])
    try:
        while time.time() < deadline:
            conn.send_packed_command(packed, check_health=False)
            nexts = [int(x) if x is not None else 0 for x in (conn.read_response() for _ in pipe_keys)]
            if all(n >= e for n, e in zip(nexts, ends)):
                return time.time()
            for p in procs:
                if p.poll() is not None:
                    raise SystemExit(f"pbench: gtp-processor exited early with {p.returncode}")
            time.sleep(0.005)
    finally:
        r.connection_pool.release(conn)
    raise SystemExit(f"pbench: processor not done after {timeout}s: {nexts} of {ends}")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def redis_cpu_s(r):
    """CPU seconds of the Redis server so far (shared server: other clients count too)."""
    i = r.info("cpu")
    return i["used_cpu_sys"] + i["used_cpu_user"]


def brokers_cpu_s():
    """CPU seconds of the Kafka nodes whose pids BROKER_PIDS lists (bench/cluster.sh); 0 when unset."""
    return sum(proc_cpu_s(int(p)) for p in os.environ.get("BROKER_PIDS", "").split() if p)


def trend_counts(r):
    keys = list(r.scan_iter("trend:*", count=5000))
    vals = r.mget(keys) if keys else []
    return {k.decode(): int(v) for k, v in zip(keys, vals)}


# ---- fill -----------------------------------------------------------------------------------------

def cmd_fill(a):
    services("create-topic", a.topic, "6")
    services("create-topic", a.topic + ".dlq", "3")
    t0 = time.time()
    subprocess.run(generator("-t", a.topic, "--seed", str(a.seed), "--count", str(a.count),
                             "--rate", "0", "--chaos", "0"), check=True, stderr=subprocess.DEVNULL)
    ends = end_offsets(a.topic)
    if sum(ends) != a.count:
        raise SystemExit(f"pbench: topic {a.topic} holds {sum(ends)} messages, expected {a.count}")
    return {"topic": a.topic, "count": a.count, "seed": a.seed, "fill_s": round(time.time() - t0, 2),
            "end_offsets": ends}


# ---- throughput -----------------------------------------------------------------------------------

def run_processor_to_done(topic, db, taxonomy=None, tag="tp", extra=()):
    ends = end_offsets(topic)
    r = fresh_db(db)
    settle_aof(r)
    group = f"gtp.bench.{tag}.{os.getpid()}.{time.time_ns()}"
    rc0, (rw0, ch0) = redis_cpu_s(r), aof_state(r)
    t0 = time.time()
    p = start_processor(topic, db, group, taxonomy, extra=extra)
    t_done = wait_done(r, topic, ends, [p])
    cpu, hwm = proc_cpu_s(p.pid), proc_hwm_kb(p.pid)
    rcpu, (rw1, ch1) = redis_cpu_s(r) - rc0, aof_state(r)
    rc = stop(p)
    if rc != 0:
        raise SystemExit(f"pbench: gtp-processor exited {rc}")
    n = sum(ends)
    return {"events": n, "seconds": round(t_done - t0, 3), "events_per_s": round(n / (t_done - t0)),
            "cpu_s": round(cpu, 2), "redis_cpu_s": round(rcpu, 2), "peak_rss_kb": hwm,
            "aof_rewrites": rw1 - rw0, "redis_children_cpu_s": round(ch1 - ch0, 2), "redis": r}


def upper_median(xs):
    """The middle value of xs (the upper one of the two for an even count)."""
    xs = sorted(xs)
    return xs[len(xs) // 2]


def kcat_consume_s(topic):
    """Seconds for kcat -C -e to read topic from the beginning to its end, output discarded."""
    t0 = time.time()
    with open(os.devnull, "wb") as dn:
        subprocess.run(["kcat", "-C", "-e", "-q", "-o", "beginning", "-t", topic, "-b", BROKERS],
                       stdout=dn, check=True)
    return time.time() - t0


def cmd_throughput(a):
    """kcat -C -e and gtp-processor (to the last flush) on the same topic, alternating, --rounds
    each: the medians, so one run slowed by the machine moves neither figure; the peak RSS is
    the largest of the processor's runs (the figure held against a limit)."""
    ends = end_offsets(a.topic)
    n = sum(ends)
    kcat, runs = [], []
    for i in range(a.rounds):
        log(f"round {i + 1}/{a.rounds}: kcat -C consume-only baseline over {n} messages")
        settle_aof(primary(8))  # a rewrite the last run set off would slow kcat too
        kcat.append(kcat_consume_s(a.topic))
        log(f"round {i + 1}/{a.rounds}: gtp-processor to the last flush over {n} messages")
        x = run_processor_to_done(a.topic, 8, tag="tp")
        r = x.pop("redis")
        x["redis_keys"] = r.dbsize()
        runs.append(x)

    med = upper_median
    secs, kcat_s = med([x["seconds"] for x in runs]), med(kcat)
    return {"events": n, "rounds": a.rounds, "seconds": secs, "events_per_s": round(n / secs),
            "cpu_s": med([x["cpu_s"] for x in runs]),
            "redis_cpu_s": med([x["redis_cpu_s"] for x in runs]),
            "peak_rss_kb": max(x["peak_rss_kb"] for x in runs),
            "peak_rss_kb_median": med([x["peak_rss_kb"] for x in runs]),
            "kcat_seconds": round(kcat_s, 3), "kcat_events_per_s": round(n / kcat_s),
            "redis_keys": runs[-1]["redis_keys"],
            "runs": runs, "kcat_runs_s": [round(k, 3) for k in kcat]}


# ---- live: the per-flush Redis cost at a steady rate ----------------------------------------------

def cmd_live(a):
    """K processors in one group under a live stream of about --rate events/s for --seconds:
    Redis CPU per flush and per event at the flush sizes of a live pipeline (--flush-ms
    default, 250 ms), where the backlog runs above measure the largest flushes."""
    topic = f"gtp.bench.live.{os.getpid()}"
    services("create-topic", topic, "6")
    services("create-topic", topic + ".dlq", "3")
    r = fresh_db(9)
    settle_aof(r)
    try:
        ports = [free_port() for _ in range(a.instances)]
        group = f"gtp.bench.live.{os.getpid()}"
        procs = [start_processor(topic, 9, group, metrics_port=pt) for pt in ports]
        time.sleep(5)  # the group settles before the first event
        rc0, kc0, t0 = redis_cpu_s(r), brokers_cpu_s(), time.time()
        f0 = sum(scrape(pt, "gtp_processor_flushes_total") or 0 for pt in ports)
        g = subprocess.Popen(generator("-t", topic, "--rate", str(a.rate), "--start", "now",
                                       "--chaos", "0", "--seed", "7"), stderr=subprocess.DEVNULL)
        time.sleep(a.seconds)
        g.send_signal(signal.SIGTERM)
        g.wait(30)
        ends = end_offsets(topic)
        wait_done(r, topic, ends, procs, timeout=120)
        secs = time.time() - t0
        rcpu, kcpu = redis_cpu_s(r) - rc0, brokers_cpu_s() - kc0
        flushes = sum(scrape(pt, "gtp_processor_flushes_total") or 0 for pt in ports) - f0
        pcpu = sum(proc_cpu_s(p.pid) for p in procs)
        for p in procs:
            stop(p)
    finally:
        services("delete-topic", topic)
        services("delete-topic", topic + ".dlq")
    n = sum(ends)
    return {"instances": a.instances, "events": n, "seconds": round(secs, 2),
            "events_per_s": round(n / secs), "flushes": int(flushes),
            "events_per_flush": round(n / max(1, flushes)),
            "redis_cpu_s": round(rcpu, 3), "redis_cpu_ms_per_flush": round(rcpu * 1000 / max(1, flushes), 3),
            "redis_cpu_us_per_event": round(rcpu * 1e6 / max(1, n), 2),
            "brokers_cpu_s": round(kcpu, 2), "processors_cpu_s": round(pcpu, 2), "cores": os.cpu_count()}


# ---- latency --------------------------------------------------------------------------------------

def cmd_latency(a):
    topic = f"gtp.bench.lat.{os.getpid()}"
    services("create-topic", topic, "6")
    services("create-topic", topic + ".dlq", "3")
    r = fresh_db(8)
    settle_aof(r)
    try:
        proc = start_processor(topic, 8, f"gtp.bench.lat.{os.getpid()}",
                               extra=tuple(a.extra.split()))
        # plain consumer: the Kafka-only baseline, and the CreateTime of every message
        c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"gtp.bench.latc.{os.getpid()}",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "fetch.wait.max.ms": 10})
        c.subscribe([topic])
        created, seen_kafka = {}, {}
        visible = {}  # (p, offset range end) -> first time seen in redis
        stop_ev = threading.Event()

        def consume():
            while not stop_ev.is_set():
                for m in c.consume(1000, 0.05):
                    if m.error():
                        continue
                    now = time.time() * 1000
                    key = (m.partition(), m.offset())
                    created[key] = m.timestamp()[1]
                    seen_kafka[key] = now

        def watch():
            last = [0] * 6
            keys = [f"gtp:part:{topic}:{p}" for p in range(6)]
            while not stop_ev.is_set():
                pipe = r.pipeline(transaction=False)
                for k in keys:
                    pipe.hget(k, "next")
                now = time.time() * 1000
                for p, v in enumerate(pipe.execute()):
                    v = int(v) if v is not None else 0
                    if v > last[p]:
                        visible[(p, last[p], v)] = now
                        last[p] = v
                time.sleep(0.005)

        threads = [threading.Thread(target=consume), threading.Thread(target=watch)]
        for t in threads:
            t.start()
        time.sleep(3)  # let both consumers join their groups before the first event
        # The generator's daily cycle modulates --rate: scale it so the achieved rate is a.rate.
        cal = subprocess.run(["timeout", "3"] + generator("--rate", str(a.rate), "--start", "now",
                             "--chaos", "0", "--seed", "5", "--out", "-"),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got = cal.stdout.count(b"\n") / 3.0
        rate = round(a.rate * a.rate / got) if got > 0 else a.rate
        log(f"generator at --rate {rate} (gives ~{a.rate}/s now) for {a.seconds}s, wall-clock timestamps")
        t0 = time.time()
        g = subprocess.Popen(generator("-t", topic, "--rate", str(rate), "--start", "now",
                                       "--chaos", "0", "--seed", "5"), stderr=subprocess.DEVNULL)
        time.sleep(a.seconds)
        g.send_signal(signal.SIGTERM)
        g.wait(30)
        gen_s = time.time() - t0
        ends = end_offsets(topic)
        wait_done(r, topic, ends, [proc], timeout=120)
        time.sleep(0.2)
        stop_ev.set()
        for t in threads:
            t.join()
        c.close()
        hwm = proc_hwm_kb(proc.pid)
        stop(proc)
    finally:
        services("delete-topic", topic)
        services("delete-topic", topic + ".dlq")

    n = sum(ends)
    redis_lat = []
    for (p, lo, hi), t in visible.items():
        for off in range(lo, hi):
            ct = created.get((p, off))
            if ct is not None:
                redis_lat.append(t - ct)
    kafka_lat = [seen_kafka[k] - created[k] for k in created]

    def pct(xs, q):
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else None

    if len(redis_lat) < 0.99 * n:
        raise SystemExit(f"pbench: latency measured for {len(redis_lat)} of {n} events")
    return {"events": n, "seconds": round(gen_s, 2), "rate_events_per_s": round(n / gen_s),
            "p50_ms": pct(redis_lat, 0.50), "p99_ms": pct(redis_lat, 0.99),
            "max_ms": pct(redis_lat, 1.0), "kafka_p50_ms": pct(kafka_lat, 0.50),
            "kafka_p99_ms": pct(kafka_lat, 0.99), "peak_rss_kb": hwm}


# ---- compare with Spark ---------------------------------------------------------------------------

def cmd_compare(a):
    tax = os.path.join(ROOT, "bench", "spark", "taxonomy")
    n = sum(end_offsets(a.topic))
    log(f"gtp-processor on {n} events with the comparison taxonomy (redis db 9)")
    proc = run_processor_to_done(a.topic, 9, taxonomy=tax, tag="cmp")
    ours = trend_counts(proc.pop("redis"))
    log("spark reference job (redis db 10); the first run installs pyspark and the connector")
    r10 = fresh_db(10)
    settle_aof(r10)
    ck = f"/tmp/gtp-spark-ck.{os.getpid()}"
    result = ck + ".json"
    t0 = time.time()
    subprocess.run([os.path.join(ROOT, "bench", "spark", "run.sh"), "--brokers", BROKERS,
                    "--topic", a.topic, "--redis", rurl(10), "--checkpoint", ck, "--result", result,
                    "--taxonomy", tax], check=True, stdout=sys.stderr,
                   stderr=open(a.spark_log, "w") if a.spark_log else None)
    wall = time.time() - t0
    subprocess.run(["rm", "-rf", ck])
    with open(result) as f:
        spark = json.load(f)
    os.unlink(result)
    theirs = trend_counts(r10)
    diff = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
    for k in diff[:10]:
        log(f"MISMATCH {k}: gtp-processor {ours.get(k)} spark {theirs.get(k)}")
    spark.update({"events": n, "events_per_s": round(n / spark["query_s"]),
                  "events_per_s_incl_startup": round(n / spark["total_s"]),
                  "run_wall_s": round(wall, 2)})
    return {"events": n, "processor": proc, "spark": spark, "trend_keys": len(ours),
            "total_count": sum(ours.values()), "mismatched_keys": len(diff),
            "spark_input_rows_ok": spark["input_rows"] == n,
            "counts_agree": not diff and spark["input_rows"] == n and len(ours) > 0}


# ---- scaling --------------------------------------------------------------------------------------

def cmd_scaling(a):
    ends = end_offsets(a.topic)
    n = sum(ends)
    out = []
    for k in [int(x) for x in a.instances.split(",")]:
        r = fresh_db(8)
        settle_aof(r)
        group = f"gtp.bench.scale{k}.{os.getpid()}"
        ports = [free_port() for _ in range(k)]
        rc0 = redis_cpu_s(r)
        kc0 = brokers_cpu_s()
        t0 = time.time()
        procs = [start_processor(a.topic, 8, group, metrics_port=pt) for pt in ports]
        t_done = wait_done(r, a.topic, ends, procs)
        secs = t_done - t0
        rcpu = redis_cpu_s(r) - rc0
        kcpu = brokers_cpu_s() - kc0
        per = []
        for p, pt in zip(procs, ports):
            msgs = scrape(pt, "gtp_processor_messages_total") or 0
            flushes = scrape(pt, "gtp_processor_flushes_total") or 0
            fsum = scrape(pt, "gtp_processor_flush_duration_seconds_sum") or 0
            per.append({"events": int(msgs), "events_per_s": round(msgs / secs),
                        "flushes": int(flushes), "flush_s": round(fsum, 3),
                        "cpu_s": round(proc_cpu_s(p.pid), 2), "peak_rss_kb": proc_hwm_kb(p.pid)})
        for p in procs:
            stop(p)
        total = trend_counts(r)
        out.append({"instances": k, "seconds": round(secs, 3), "events_per_s": round(n / secs),
                    "per_instance": per, "total_count": sum(total.values()),
                    "redis_cpu_s": round(rcpu, 2), "brokers_cpu_s": round(kcpu, 2),
                    "flushes": sum(x["flushes"] for x in per),
                    "redis_cpu_ms_per_flush": round(
                        rcpu * 1000 / max(1, sum(x["flushes"] for x in per)), 3),
                    "processors_cpu_s": round(sum(x["cpu_s"] for x in per), 2)})
        log(f"{k} instance(s): {n / secs:.0f} events/s")
    counts = {o["total_count"] for o in out}
    return {"events": n, "runs": out, "same_counts": len(counts) == 1, "cores": os.cpu_count()}


# ---- insights cost ---------------------------------------------------------------------------------

def evalsha_stats(r):
    """(calls, µs) of EVALSHA on the server so far: the flush script's time inside Redis."""
    st = r.info("commandstats").get("cmdstat_evalsha", {})
    return st.get("calls", 0), st.get("usec", 0)


def cmd_insights(a):
    """The same topic processed with --insights true and false, alternating (so load drift
    hits both alike); the median of each side is the figure."""
    runs = {"on": [], "off": []}
    for i in range(a.rounds):
        for mode in (("on", "off") if i % 2 == 0 else ("off", "on")):
            r = fresh_db(8)
            c0, u0 = evalsha_stats(r)
            res = run_processor_to_done(a.topic, 8, tag="ins",
                                        extra=("--insights=" + ("true" if mode == "on" else "false"),))
            r = res.pop("redis")
            c1, u1 = evalsha_stats(r)
            res.update({"redis_keys": r.dbsize(), "flushes": c1 - c0,
                        "lua_ms_per_flush": round((u1 - u0) / max(1, c1 - c0) / 1000, 3),
                        "lua_s_total": round((u1 - u0) / 1e6, 3)})
            runs[mode].append(res)
            log(f"insights {mode}: {res['events_per_s']} events/s, {res['flushes']} flushes, "
                f"{res['lua_ms_per_flush']} ms Lua per flush, {res['redis_keys']} keys")

    def med(mode, k):
        xs = sorted(x[k] for x in runs[mode])
        return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2

    on, off = med("on", "events_per_s"), med("off", "events_per_s")
    return {"events": runs["on"][0]["events"], "rounds": a.rounds,
            "events_per_s_on": on, "events_per_s_off": off,
            "cost_pct": round((off - on) / off * 100, 1),
            # load-independent: processor + redis CPU seconds for the same events
            "cpu_cost_pct": round(((med("on", "cpu_s") + med("on", "redis_cpu_s")) /
                                   (med("off", "cpu_s") + med("off", "redis_cpu_s")) - 1) * 100, 1),
            "cpu_s_on": med("on", "cpu_s"), "cpu_s_off": med("off", "cpu_s"),
            "redis_cpu_s_on": med("on", "redis_cpu_s"), "redis_cpu_s_off": med("off", "redis_cpu_s"),
            "lua_ms_per_flush_on": med("on", "lua_ms_per_flush"),
            "lua_ms_per_flush_off": med("off", "lua_ms_per_flush"),
            "lua_s_on": med("on", "lua_s_total"), "lua_s_off": med("off", "lua_s_total"),
            "runs": runs}


# ---- A/B of two builds ----------------------------------------------------------------------------

def db_values(r):
    """Every key's value: strings (a HyperLogLog as its PFCOUNT: its encoding may differ for
    equal registers), sorted sets with scores, hashes (less gtp:stats' last_flush_ms)."""
    out = {}
    for k in r.scan_iter(count=5000):
        t = r.type(k).decode()
        if t == "string":
            v = r.get(k)
            v = ("hll", r.pfcount(k)) if v.startswith(b"HYLL") else v
        elif t == "zset":
            v = r.zrange(k, 0, -1, withscores=True)
        elif t == "hash":
            v = {f: x for f, x in r.hgetall(k).items() if f != b"last_flush_ms"}
        else:
            v = t
        out[k] = v
    return out


def cmd_ab(a):
    """Builds (name=dir,...) on one topic, alternating, ROUNDS each, insights on: events/s,
    CPU, Redis's time per command inside the flush script (INFO commandstats, reset per run),
    and every key's value compared with the first run's (fails when any differs)."""
    global BUILD
    builds = dict(b.split("=", 1) for b in a.builds.split(","))
    runs = {n: [] for n in builds}
    ref, differ = None, 0
    for i in range(a.rounds):
        for name in (list(builds) if i % 2 == 0 else list(builds)[::-1]):
            BUILD = builds[name]
            fresh_db(8).config_resetstat()
            x = run_processor_to_done(a.topic, 8, tag="ab", extra=tuple(a.extra.split()))
            r = x.pop("redis")
            st = r.info("commandstats")
            for c in ("evalsha", "pfadd", "zincrby", "incrby", "expire"):
                x[c + "_calls"] = st.get("cmdstat_" + c, {}).get("calls", 0)
                x[c + "_s"] = round(st.get("cmdstat_" + c, {}).get("usec", 0) / 1e6, 3)
            vals = db_values(r)
            ref = ref if ref is not None else vals
            x["keys"], x["same_values"] = len(vals), vals == ref
            differ += not x["same_values"]
            runs[name].append(x)
            log(f"ab {name}: {x['events_per_s']} events/s, cpu {x['cpu_s']} s, redis "
                f"{x['redis_cpu_s']} s, script {x['evalsha_s']} s, pfadd {x['pfadd_s']} s, "
                f"{x['keys']} keys, same values: {x['same_values']}, "
                f"aof rewrites {x['aof_rewrites']}")

    def med(name, k):
        return upper_median(x[k] for x in runs[name])
    keys = ("events_per_s", "cpu_s", "redis_cpu_s", "peak_rss_kb", "evalsha_s", "pfadd_s",
            "zincrby_s", "evalsha_calls")
    res = {"rounds": a.rounds, "values_differ": differ,
           "median": {n: {k: med(n, k) for k in keys} for n in builds}, "runs": runs}
    if differ:
        log(f"FAIL: {differ} runs left values different from the first run's")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fill")
    f.add_argument("--topic", required=True)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--seed", type=int, default=42)
    t = sub.add_parser("throughput")
    t.add_argument("--topic", required=True)
    t.add_argument("--rounds", type=int, default=3)
    lt = sub.add_parser("latency")
    lt.add_argument("--rate", type=int, default=5000)
    lt.add_argument("--seconds", type=int, default=30)
    lt.add_argument("--extra", default="", help="gtp-processor flags, e.g. --flush-idle-ms=0")
    c = sub.add_parser("compare")
    c.add_argument("--topic", required=True)
    c.add_argument("--spark-log", default=None)
    lv = sub.add_parser("live")
    lv.add_argument("--rate", type=int, default=5000)
    lv.add_argument("--seconds", type=int, default=30)
    lv.add_argument("--instances", type=int, default=3)
    s = sub.add_parser("scaling")
    s.add_argument("--topic", required=True)
    s.add_argument("--instances", default="1,2,3")
    ins = sub.add_parser("insights")
    ins.add_argument("--topic", required=True)
    ins.add_argument("--rounds", type=int, default=3)
    ab = sub.add_parser("ab")
    ab.add_argument("--topic", required=True)
    ab.add_argument("--builds", required=True, help="name=build_dir,name=build_dir,...")
    ab.add_argument("--rounds", type=int, default=3)
    ab.add_argument("--extra", default="--insights=true", help="gtp-processor flags for all")
    a = ap.parse_args()
    res = globals()["cmd_" + a.cmd](a)
    print(json.dumps(res))
    if a.cmd == "ab" and res["values_differ"]:
        sys.exit(1)
    if a.cmd == "compare" and not res["counts_agree"]:
        log(f"FAIL: gtp-processor and spark disagree on {res['mismatched_keys']} trend keys "
            f"(spark read {res['spark']['input_rows']} of {res['events']} events)")
        sys.exit(1)


if __name__ == "__main__":
    main()
