"""The archive over a long live run (docs/archive.md, "Long runs"): gtp-archiver archives a
live generator (chaos, late events and duplicates; a compressed simulated clock covering at
least 3 days of event time) with tiny rolls until it has made GTP_TEST_ROLLS rolls (Delta
commits of new data), with its own maintenance running: checkpoints every 10 versions, and
after the first restart compaction every few seconds, vacuum and log cleanup with short
retentions. Every reader must see exactly the rows the independent model computes from the
topic, every column:

  1. at about 100 rolls, the archiver stopped, compaction not yet run: pyarrow (hive
     dataset over the directory), DuckDB (read_parquet, hive glob), deltalake and Spark with
     delta-spark (GTP_TEST_SPARK=all; by default Spark reads only at step 3);
  2. restart cost: a new instance is timed from process start until every partition is
     assigned (its state restored from the last checkpoint and the commits after it), with
     its peak RSS, at about 100 rolls and again at GTP_TEST_ROLLS rolls; the second may not
     cost more than twice the first (+1 s, +16 MiB): what a restart reads is bounded by the
     checkpoint interval and the open state, not by the number of commits;
  3. after the live run, with the daemon's compaction and vacuum having run all along:
     deltalake, Spark, and pyarrow and DuckDB given the file list of the log; the log's JSON
     commits are bounded by the log retention (older ones are gone behind checkpoints), the
     daemon wrote checkpoints, compacted, vacuumed and cleaned the log (its /metrics say so);
  4. after `gtp-archiver --maintain` with vacuum retention 0 (the cron path): every closed
     (date_posted, region) partition holds at most 2 files under the target size, nothing
     unreferenced is on disk, and the four readers (plain hive globs again) agree.

The instances after the first run with compaction; the first two of them are SIGKILLed
by the failpoint seam (GTP_ARCHIVER_FAILPOINT) in the middle of a compaction and of a
checkpoint write, under the live feed, then two instances share the partitions (each
compacting the same table), and the rows must still come out exact.

CI runs the short form (300 rolls, ~3 min); the long form runs 2,000 rolls with Spark
reading at every step:

  GTP_BUILD_DIR=<build> scripts/py tests/integration/test_archive_long.py
  GTP_BUILD_DIR=<build> scripts/py tests/integration/test_archive_long.py --rolls 2000 --spark-all
"""
import collections
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtptest as T  # noqa: E402
import test_archiver_exact as X  # noqa: E402
import test_archive_maintenance as M  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

ROLLS = int(os.environ.get("GTP_TEST_ROLLS", "300"))
FIRST = 100                      # rolls at the first restart
SPARK_ALL = os.environ.get("GTP_TEST_SPARK", "") == "all"
for _i, _a in enumerate(sys.argv[1:]):
    if _a == "--rolls":
        ROLLS = int(sys.argv[_i + 2])
    elif _a == "--spark-all":
        SPARK_ALL = True
DAYS = 3.5                       # event time the live feed covers at least
ROLL_ROWS = 4
CKPT = 10
LOG_RETENTION_S = 20             # JSON commits older than this behind a checkpoint go
VACUUM_RETENTION_S = 10
COMPACT_S = 5
SLACK_S = 10                     # see the JSON commits' bound below
START = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)

SPARK_DUMP = r'''
import os, sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.appName("gtp-test-long").master("local[2]")
         .config("spark.jars", os.environ["GTP_DELTA_JARS"])
         .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
         .config("spark.sql.catalog.spark_catalog",
                 "org.apache.spark.sql.delta.catalog.DeltaCatalog")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.ui.showConsoleProgress", "false")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.read.format("delta").load(sys.argv[1]).coalesce(1).write.parquet(sys.argv[2])
'''


# ---- the Delta log, read from its checkpoint on (log cleanup deletes early commits) -----

def log_view(root):
    """(version, {appId: txn version}, live add paths, json commit count), reading the
    checkpoint named by _last_checkpoint (pyarrow) and the JSON commits after it. Retries
    when a concurrent checkpoint's cleanup removes a file under our feet."""
    for _ in range(50):
        try:
            return _log_view(root)
        except (FileNotFoundError, AssertionError, OSError, ValueError, pa.ArrowInvalid):
            time.sleep(0.1)
    return _log_view(root)


def _log_view(root):
    log_dir = os.path.join(root, "_delta_log")
    txn, live, start = {}, set(), 0
    lc = os.path.join(log_dir, "_last_checkpoint")
    if os.path.exists(lc):
        with open(lc) as f:
            ck = json.load(f)["version"]
        t = pq.read_table(os.path.join(log_dir, "%020d.checkpoint.parquet" % ck),
                          columns=["txn", "add"]).to_pylist()
        for r in t:
            if r["txn"]:
                txn[r["txn"]["appId"]] = r["txn"]["version"]
            if r["add"]:
                live.add(urllib.request.url2pathname(r["add"]["path"]))
        start = ck + 1
    names = sorted(n for n in os.listdir(log_dir) if re.fullmatch(r"\d{20}\.json", n))
    versions = [int(n[:20]) for n in names]
    newer = [v for v in versions if v >= start]
    assert newer == list(range(start, start + len(newer))), "log gap after %d" % (start - 1)
    if not os.path.exists(lc):
        assert not versions or versions[0] == 0, "no checkpoint and no version 0"
    for v in newer:
        with open(os.path.join(log_dir, "%020d.json" % v), "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                a = json.loads(line)
                if "txn" in a:
                    txn[a["txn"]["appId"]] = a["txn"]["version"]
                if "add" in a:
                    live.add(urllib.request.url2pathname(a["add"]["path"]))
                if "remove" in a:
                    live.discard(urllib.request.url2pathname(a["remove"]["path"]))
    version = newer[-1] if newer else start - 1
    return version, txn, live, len(versions)


def archived_offsets(root, topic):
    """{partition: last archived offset} from the log's txn actions (-1: none)."""
    _, txn, _, _ = log_view(root)
    out = {}
    prefix = "gtp-archiver-%s-" % topic
    for app, v in txn.items():
        if app.startswith(prefix):
            out[int(app[len(prefix):])] = v
    return out


def wait_offsets(root, topic, ends, procs, timeout=600):
    """Until the log's txn of every partition reaches ends (offset of the next message)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pr in procs:
            if pr.poll() is not None:
                raise AssertionError(T.died(pr, "archiver"))
        got = archived_offsets(root, topic)
        if all(ends[p] == 0 or got.get(p, -1) >= ends[p] - 1 for p in ends):
            return
        time.sleep(0.3)
    raise AssertionError("archive did not reach %s (at %s)" % (ends, archived_offsets(root, topic)))


# ---- daemons -------------------------------------------------------------------------------

def metrics(port):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    out = collections.Counter()
    for line in text.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name.split("{")[0]] += float(value)
    return out


class Archiver:
    """One gtp-archiver instance; start() returns once every partition is assigned and
    records how long that took and the peak RSS at that moment."""

    def __init__(self, topic, dlq, group, root, n, maintain, failpoint=None, parts=6):
        self.port = T.free_port()
        self.log = "long-archiver-%d.log" % n
        cmd = [T.binary("gtp-archiver"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
               "-g", group, "--archive-dir", root, "--metrics-port", str(self.port),
               "--roll-rows", str(ROLL_ROWS), "--roll-seconds", "1",
               "--checkpoint-interval", str(CKPT),
               "--log-retention", "%d seconds" % LOG_RETENTION_S,
               "--vacuum-retention", "%d seconds" % VACUUM_RETENTION_S,
               "--compact-interval", str(COMPACT_S if maintain else 0)]
        env = dict(os.environ)
        env.pop("GTP_ARCHIVER_FAILPOINT", None)
        if failpoint:
            env["GTP_ARCHIVER_FAILPOINT"] = failpoint
        path = os.path.join(T.BUILD, "test-logs", self.log)
        start_at = os.path.getsize(path) if os.path.exists(path) else 0
        t0 = time.monotonic()
        self.pr = T.spawn(cmd, self.log, env=env)
        while True:
            if self.pr.poll() is not None:
                raise AssertionError(T.died(self.pr, "archiver"))
            with open(path, "rb") as f:
                f.seek(start_at)
                n_assigned = len(re.findall(rb"assigned \S+ from offset", f.read()))
            if n_assigned >= parts:
                break
            time.sleep(0.01)
        self.restart_s = time.monotonic() - t0
        with open("/proc/%d/status" % self.pr.pid) as f:
            self.rss_kib = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
        self.last = collections.Counter()

    def scrape(self):
        try:
            self.last = metrics(self.port)
        except OSError:
            pass
        return self.last

    def killed(self, gen, timeout=300):
        """Wait for the failpoint's SIGKILL, scraping /metrics until then."""
        deadline = time.time() + timeout
        while self.pr.poll() is None:
            assert time.time() < deadline, "the failpoint never fired"
            assert gen.poll() is None, T.died(gen, "generator")
            self.scrape()
            time.sleep(0.2)
        assert self.pr.returncode == -9, T.died(self.pr, "archiver")
        return self.last

    def stop(self):
        self.scrape()
        X.stop(self.pr)
        return self.last


# ---- readers -------------------------------------------------------------------------------

def spark_rows(root, tmp):
    out = os.path.join(tmp, "spark-%s" % uuid.uuid4().hex[:6])
    script = os.path.join(tmp, "spark_dump.py")
    with open(script, "w") as f:
        f.write(SPARK_DUMP)
    res = subprocess.run([os.path.join(T.ROOT, "scripts", "spark"), script, root, out],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    assert res.returncode == 0, "spark failed:\n%s" % res.stdout.decode(errors="replace")[-3000:]
    rows = X.rows_of(pq.read_table(out))
    shutil.rmtree(out, ignore_errors=True)
    return rows


def read_listed(root, paths):
    """pyarrow and DuckDB given the log's file list (what docs/archive.md tells plain
    Parquet readers to do while removed files wait for vacuum)."""
    files = sorted(os.path.join(root, p) for p in paths)
    part = ds.partitioning(pa.schema([("date_posted", pa.date32()), ("region", pa.string())]),
                           flavor="hive")
    out = {"pyarrow (log's files)": X.rows_of(
        ds.dataset(files, format="parquet", partitioning=part, partition_base_dir=root)
        .to_table())}
    lst = ", ".join("'%s'" % f.replace("'", "''") for f in files)
    out["duckdb (log's files)"] = X.rows_of(duckdb.connect().sql(
        "SELECT * FROM read_parquet([%s], hive_partitioning=true)" % lst).to_arrow_table())
    return out


def check_readers(what, root, want, tmp, spark, listed=None):
    got = read_listed(root, listed) if listed is not None else M.read_all(
        root, ("pyarrow", "duckdb"))
    got["deltalake"] = X.rows_of(DeltaTable(root).to_pyarrow_table())
    if spark:
        got["spark"] = spark_rows(root, tmp)
    for reader, rows in got.items():
        X.compare("%s, %s" % (what, reader), rows, want)
    T.log("%s: %s each read the %d rows the model expects" % (what, ", ".join(got), len(want)))


def model_upto(model, topic, upto, fed):
    """Feed the model the messages after fed[p] up to upto[p] (inclusive offsets)."""
    starts = {p: fed.get(p, -1) + 1 for p in upto}
    msgs, _ = T.read_topic(topic, starts=starts)
    part = {p: [m for m in rows if m[0] <= upto[p]] for p, rows in msgs.items()}
    model.feed(part)
    for p in upto:
        fed[p] = max(fed.get(p, -1), upto[p])


def main():
    topic = T.private_topic("test.long")
    dlq = T.private_topic("test.long.dlq", 3)
    group = "gtp-long-" + uuid.uuid4().hex[:8]
    root = os.path.join(T.BUILD, "test-long-%s" % uuid.uuid4().hex[:8])
    tmp = tempfile.mkdtemp(prefix="gtp-long-", dir=T.BUILD)
    # At 120 events/s and rolls of 4 rows the archiver makes about 6 rolls a second on
    # this machine; the simulated clock is sized so that DAYS of event time pass in about
    # the time the rolls take (the feed runs on until the last instance has lived through
    # the retentions, so event time may cover more).
    events_per_s = 120.0
    wall_s = max(ROLLS / 5.0, 30.0)
    speed = DAYS * 86400 / wall_s
    rate = events_per_s / speed
    gen = T.spawn([T.binary("gtp-generator"), "-b", T.BROKERS, "-t", topic, "--seed", "4242",
                   "--chaos", "0.1", "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "--speed", "%.3f" % speed, "--rate", "%.6f" % rate, "--metrics-port", "0"],
                  "long-generator.log")
    t_gen = time.monotonic()
    instances, rolls, figures = [], 0, {}
    arch = None
    try:
        arch = Archiver(topic, dlq, group, root, 1, maintain=False)
        T.log("live feed: %.0f events/s at speed %.0f (%.1f days in %.0f s); archiver 1 up" % (
            events_per_s, speed, DAYS, wall_s))

        others = []  # instances beside arch

        def rolls_now():
            return rolls + sum(a.scrape()["gtp_archiver_commits_total"] for a in [arch] + others)

        samples = []  # (time, log version, JSON commits on disk)

        def run_until(want, need_s=0.0):
            t0 = time.monotonic()
            while rolls_now() < want or time.monotonic() - t0 < need_s:
                if gen.poll() is not None:
                    raise AssertionError(T.died(gen, "generator"))
                if arch.pr.poll() is not None:
                    raise AssertionError(T.died(arch.pr, "archiver"))
                v, _, _, njson = log_view(root)
                samples.append((time.monotonic(), v, njson))
                time.sleep(0.5)

        # 1. about FIRST rolls without compaction: the readers against the model's prefix
        run_until(FIRST)
        c = arch.stop()
        rolls += c["gtp_archiver_commits_total"]
        instances.append(c)
        model, fed = T.Model(), {}
        model_upto(model, topic, archived_offsets(root, topic), fed)
        want = [X.norm_expected(r) for r in model.exp.archived]
        check_readers("at %d rolls, before compaction" % rolls, root, want, tmp, SPARK_ALL)

        # 2. restart at FIRST rolls, then on with compaction, vacuum and log cleanup; the
        # first two instances are SIGKILLed by their failpoint in the middle of the
        # daemon's compaction (its third new file published, not committed) and of a
        # checkpoint write (the Parquet file published, not its snapshot nor
        # _last_checkpoint), each under the live feed
        for n, fp in ((2, "compact:3"), (3, "checkpoint:2")):
            arch = Archiver(topic, dlq, group, root, n, maintain=True, failpoint=fp)
            if not figures:
                figures[rolls] = (arch.restart_s, arch.rss_kib, log_view(root)[0])
                T.log("restart at %d rolls (log version %d): %.2f s, peak RSS %d KiB" % (
                    rolls, figures[rolls][2], arch.restart_s, arch.rss_kib))
            c = arch.killed(gen)
            rolls += c["gtp_archiver_commits_total"]
            instances.append(c)
            T.log("archiver %d killed by failpoint %s at about %d rolls" % (n, fp, rolls))
        # two instances share the partitions (a rebalance moves some), each rolling,
        # checkpointing and compacting the same table
        arch = Archiver(topic, dlq, group, root, 4, maintain=True)
        others.append(Archiver(topic, dlq, group, root, 6, maintain=True, parts=1))
        run_until(ROLLS)
        for a in others + [arch]:
            c = a.stop()
            rolls += c["gtp_archiver_commits_total"]
            instances.append(c)
        others.clear()
        T.log("two instances side by side until %d rolls" % rolls)
        arch = Archiver(topic, dlq, group, root, 5, maintain=True)
        figures[rolls] = (arch.restart_s, arch.rss_kib, log_view(root)[0])
        T.log("restart at %d rolls (log version %d): %.2f s, peak RSS %d KiB" % (
            rolls, figures[rolls][2], arch.restart_s, arch.rss_kib))
        # live on until DAYS of event time have passed and this instance has compacted,
        # vacuumed and cleaned the log behind it a few times
        run_until(0, max(t_gen + wall_s - time.monotonic(),
                         LOG_RETENTION_S + VACUUM_RETENTION_S + 2 * COMPACT_S))
        T.stop_daemon(gen, "generator")
        gen = None
        msgs, ends = T.read_topic(topic, starts={p: fed[p] + 1 for p in fed})
        wait_offsets(root, topic, ends, [arch.pr])
        c = arch.stop()
        rolls += c["gtp_archiver_commits_total"]
        instances.append(c)
        arch = None
        model.feed(msgs)
        exp = model.exp
        want = [X.norm_expected(r) for r in exp.archived]
        span = (max(model.max_ts.values()) - min(
            T.parse_ts_us(r["posted_at"]) for r in exp.archived)) / 86400e6
        T.log("live run: %d rolls, %d events (%d late, %d duplicates, %d rejected), %.1f days "
              "of event time" % (rolls, exp.events, exp.late, exp.duplicates,
                                 len(exp.rejected), span))
        assert rolls >= ROLLS, "only %d rolls" % rolls
        assert span >= 3.0, "event time covers only %.1f days" % span
        assert exp.late > 0 and exp.duplicates > 0, "the feed must hold late events and dups"

        # 3. the daemon's own maintenance, and the readers through the log
        total = collections.Counter()
        for m in instances:
            total.update(m)
        version, _, live, njson = log_view(root)
        # JSON commits on disk: those younger than the log retention, plus at most the
        # checkpoint interval's worth since the last cleanup (checked once the first
        # commits are older than the retention), with SLACK_S for the sampling, file times
        # in whole seconds and a checkpoint waiting for a compaction round on the
        # maintenance thread (rounds of up to 4 s were seen on a loaded machine)
        worst_json = (0, 0)
        for t, v, n in samples:
            if t < t_gen + LOG_RETENTION_S + 2 * SLACK_S:
                continue
            before = [sv for st, sv, _ in samples if st <= t - LOG_RETENTION_S - SLACK_S]
            bound = v - before[-1] + 2 * CKPT + 2
            assert n <= bound, "%d JSON commits at version %d, bound %d" % (n, v, bound)
            worst_json = max(worst_json, (n, v))
        max_json = max(n for _, _, n in samples)
        T.log("maintenance in the daemon: %d checkpoints, %d compactions (%d files into %d), "
              "%d files vacuumed, %d log files cleaned; log version %d, %d JSON commits on disk "
              "(at most %d seen during the run)" % (
                  total["gtp_delta_checkpoints_total"], total["gtp_delta_compactions_total"],
                  total["gtp_delta_compacted_files_total"],
                  total["gtp_delta_compaction_files_written_total"],
                  total["gtp_delta_vacuumed_files_total"],
                  total["gtp_delta_log_files_cleaned_total"], version, njson, max_json))
        # a checkpoint round may cover more than CKPT versions when the maintenance thread was
        # busy compacting meanwhile
        assert total["gtp_delta_checkpoints_total"] >= rolls // CKPT // 4, "too few checkpoints"
        assert total["gtp_delta_compacted_files_total"] > 0, "the daemon never compacted"
        assert total["gtp_delta_vacuumed_files_total"] > 0, "the daemon never vacuumed"
        assert total["gtp_delta_log_files_cleaned_total"] > 0, "the log was never cleaned"
        check_readers("after the live run", root, want, tmp, True, listed=live)

        # 4. the cron path: checkpoint, compact everything closed, vacuum all removed files
        day = M.closed_before({p: ts for p, ts in model.max_ts.items() if ts is not None})
        res = subprocess.run([T.binary("gtp-archiver"), "--maintain", "-t", topic,
                              "--archive-dir", root, "--vacuum-retention", "0 seconds",
                              "--log-retention", "%d seconds" % LOG_RETENTION_S,
                              "--metrics-port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        assert res.returncode == 0, "--maintain: %s" % res.stdout.decode(errors="replace")[-2000:]
        dt = DeltaTable(root)
        adds = dt.get_add_actions(flatten=True)
        adds = adds if isinstance(adds, pa.Table) else pa.table(adds)
        small = collections.Counter()
        for a in adds.to_pylist():
            d = a["partition.date_posted"]
            d = d if isinstance(d, datetime.date) else datetime.date.fromisoformat(str(d))
            if d < day and a["size_bytes"] < 128 << 20:
                small[(d, a["partition.region"])] += 1
        worst = small.most_common(1)
        assert small, "no closed partition to check (closed before %s)" % day
        assert worst[0][1] <= 2, "closed partition %s keeps %d small files" % worst[0]
        _, _, live, njson = log_view(root)
        on_disk = set()
        for dirpath, dirnames, names in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "_delta_log"]
            on_disk |= {os.path.relpath(os.path.join(dirpath, n), root) for n in names}
        assert on_disk == live, "unreferenced after vacuum: %s" % sorted(on_disk - live)[:5]
        T.log("after --maintain: %d live files, %d closed partitions with at most %d small "
              "file(s), nothing unreferenced" % (len(live), len(small), worst[0][1]))
        check_readers("after --maintain", root, want, tmp, SPARK_ALL)

        # 2 (verdict). restart cost does not grow with the number of commits
        (r1, (s1, k1, v1)), (r2, (s2, k2, v2)) = sorted(figures.items())
        T.log("restart: %d rolls (version %d) %.2f s %d KiB; %d rolls (version %d) %.2f s %d KiB"
              % (r1, v1, s1, k1, r2, v2, s2, k2))
        assert s2 <= 2 * s1 + 1.0, "restart at %d rolls took %.2f s, at %d %.2f s" % (
            r2, s2, r1, s1)
        assert k2 <= 2 * k1 + 16384, "restart RSS at %d rolls %d KiB, at %d %d KiB" % (
            r2, k2, r1, k1)
    finally:
        if gen is not None and gen.poll() is None:
            gen.kill()
        for a in ([arch] if arch is not None else []) + others:
            if a.pr.poll() is None:
                a.pr.kill()
        T.services("delete-topic", topic)
        T.services("delete-topic", dlq)
        if not os.environ.get("GTP_TEST_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(tmp, ignore_errors=True)
    T.log("ok")


if __name__ == "__main__":
    main()
