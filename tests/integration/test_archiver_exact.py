"""gtp-archiver against the real broker (issue 5, acceptance 1-2): a seeded chaotic stream
(late events, duplicates, rejects) is archived so that pyarrow (hive partitioning), DuckDB
(read_parquet with hive_partitioning) and deltalake each read exactly the rows an
independent model (gtptest.expected_from_topic) says the archive must hold, every column
compared - after a clean run, after SIGKILLs at random moments, after crashes forced between
the file rename and the Delta commit (and right after the commit), across a restart with
re-sent duplicates, with two instances sharing the partitions, and with a frozen instance
coming back after its partitions moved on (fenced), every instance compacting and vacuuming
the table as it goes (GTP_TEST_COMPACT=0 turns that off; the run fails if no scenario
compacted anything). Every rejected event is in the DLQ, no orphan or temp file remains
(files compaction replaced wait for vacuum's retention), and /metrics agrees with the model.

Usage: GTP_BUILD_DIR=<build> scripts/py tests/integration/test_archiver_exact.py [scenario...]
scenarios: cli clean restart kill crash two zombie (default: all)."""
import collections
import glob
import json
import os
import re
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

import duckdb  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402
from deltalake import DeltaTable  # noqa: E402

COUNT = int(os.environ.get("GTP_TEST_EVENTS", "30000"))
COLUMNS = ["event_id", "posted_at", "title", "company", "skills_array", "experience_level",
           "job_id", "source", "location", "is_remote", "date_posted", "region"]


# Every instance compacts and vacuums as it archives (every second, replaced files deleted
# after 10 s, the daemon's least), so each scenario's crashes, kills, rebalances and
# fencing happen with compaction commits racing the rolls (GTP_TEST_COMPACT=0: without).
COMPACT = os.environ.get("GTP_TEST_COMPACT", "1") != "0"


def start_archiver(topic, dlq, group, root, log_name, port=0, env_extra=None, roll_rows=1000,
                   roll_seconds=1, compact=None):
    """compact: None for COMPACT; tests that read the directory with plain globs before a
    compaction of their own pass False."""
    cmd = [T.binary("gtp-archiver"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
           "-g", group, "--archive-dir", root, "--metrics-port", str(port),
           "--roll-seconds", str(roll_seconds), "--roll-rows", str(roll_rows)]
    if COMPACT if compact is None else compact:
        cmd += ["--compact-interval", "1", "--vacuum-retention", "10 seconds"]
    env = dict(os.environ)
    env.pop("GTP_ARCHIVER_FAILPOINT", None)
    env.update(env_extra or {})
    return T.spawn(cmd, log_name, env=env)


def stop(pr):
    T.stop_daemon(pr, "archiver")


def log_state(root):
    """Independent reading of the Delta log: {appId: txn version}, live add paths."""
    txn, live = {}, set()
    for a in T.delta_actions(root):
        if "txn" in a:
            txn[a["txn"]["appId"]] = a["txn"]["version"]
        if "add" in a:
            path = urllib.request.url2pathname(a["add"]["path"])
            assert path not in live, "path added twice to the log: %s" % path
            live.add(path)
        if "remove" in a:
            live.discard(urllib.request.url2pathname(a["remove"]["path"]))
    return txn, live


def wait_archived(root, topic, ends, timeout=300, procs=()):
    """Until the log's txn of every partition reaches its last offset."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pr in procs:
            if pr.poll() is not None:
                raise AssertionError(T.died(pr, "archiver"))
        try:
            txn, _ = log_state(root)
        except (OSError, ValueError):
            txn = {}
        if all(end == 0 or txn.get("gtp-archiver-%s-%d" % (topic, p), -1) >= end - 1
               for p, end in ends.items()):
            return
        time.sleep(0.2)
    raise AssertionError("archiver did not catch up within %ds" % timeout)


def norm_expected(rec):
    return (rec["event_id"], T.parse_ts_us(rec["posted_at"]), rec["title"], rec["company"],
            tuple(rec["skills_array"]), rec["experience_level"], rec["job_id"], rec["source"],
            rec["location"], rec["is_remote"], rec["date_posted"], rec["region"])


def rows_of(table):
    """Arrow table -> list of normalized tuples (posted_at as integer microseconds)."""
    t = table.select(COLUMNS)
    posted = pc.cast(t.column("posted_at"), "int64").to_pylist()
    cols = {c: t.column(c).to_pylist() for c in COLUMNS if c != "posted_at"}
    out = []
    for i in range(t.num_rows):
        out.append((cols["event_id"][i], posted[i], cols["title"][i], cols["company"][i],
                    tuple(cols["skills_array"][i]) if cols["skills_array"][i] is not None
                    else None,
                    cols["experience_level"][i], cols["job_id"][i], cols["source"][i],
                    cols["location"][i], cols["is_remote"][i], str(cols["date_posted"][i]),
                    cols["region"][i]))
    return out


def compare(reader, got, want):
    g, w = collections.Counter(got), collections.Counter(want)
    if g != w:
        missing, extra = w - g, g - w
        raise AssertionError("%s: %d rows, model %d; %d missing (e.g. %s), %d extra (e.g. %s)" % (
            reader, len(got), len(want), sum(missing.values()), list(missing)[:2],
            sum(extra.values()), list(extra)[:2]))


def removed_paths(root):
    """Paths the log removed (compaction's tombstones)."""
    return {urllib.request.url2pathname(a["remove"]["path"])
            for a in T.delta_actions(root) if "remove" in a}


def check(name, root, topic, dlq, exp, readers=("pyarrow", "duckdb", "deltalake")):
    want = [norm_expected(r) for r in exp.archived]
    # No temp files; every file the log references is there; a file the log does not
    # reference is one compaction replaced (vacuum deletes it after its retention) or one
    # a compaction cut short by a kill wrote, never a roll's.
    _, live = log_state(root)
    removed = removed_paths(root)
    on_disk = set()
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "_delta_log"]
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            assert not f.endswith(".tmp"), "%s: temp file left: %s" % (name, rel)
            if f.endswith(".parquet"):
                on_disk.add(rel)
    stray = {p for p in on_disk - live
             if p not in removed and not os.path.basename(p).startswith("part-compact-")}
    assert not stray and live <= on_disk, "%s: files not in the log %s, log files missing %s" % (
        name, sorted(stray)[:5], sorted(live - on_disk)[:5])

    # pyarrow and DuckDB over the directory, hive partitioning (types given: date and
    # string); given the log's file list while replaced files await vacuum
    import pyarrow as pa
    part = ds.partitioning(pa.schema([("date_posted", pa.date32()), ("region", pa.string())]),
                           flavor="hive")
    listed = sorted(os.path.join(root, p) for p in live) if on_disk != live else None
    if "pyarrow" in readers:
        src = ds.dataset(listed, format="parquet", partitioning=part,
                         partition_base_dir=root) if listed else \
            ds.dataset(root, format="parquet", partitioning=part)
        compare("pyarrow", rows_of(src.to_table()), want)
    if "duckdb" in readers:
        con = duckdb.connect()
        # the Hive layout only: a recursive ** would also take the Delta checkpoints in _delta_log
        glob_path = os.path.join(root, "date_posted=*", "region=*", "*.parquet").replace("'", "''")
        what = "[%s]" % ", ".join("'%s'" % f.replace("'", "''") for f in listed) if listed \
            else "'%s'" % glob_path
        t = con.sql("SELECT * FROM read_parquet(%s, hive_partitioning=true)" %
                    what).to_arrow_table()
        compare("duckdb", rows_of(t), want)
    # deltalake through the log.
    if "deltalake" in readers:
        dt = DeltaTable(root)
        assert dt.metadata().partition_columns == ["date_posted", "region"]
        compare("deltalake", rows_of(dt.to_pyarrow_table()), want)

    T.check_dlq(name, dlq, topic, exp)
    T.log("%s: %s each read the %d expected rows (%d late kept, "
          "%d duplicates dropped, %d rejected in the dlq) from %d files; %d compacted away" % (
              name, ", ".join(readers), len(want), exp.late, exp.duplicates, len(exp.rejected),
              len(live), len(removed)))
    return len(removed)


def produce_edge_cases(topic):
    """Hand-made events the generator does not make: a NUL byte inside a string, empty
    strings, non-ASCII text, absent optional fields, a value just under 1 MiB."""
    from confluent_kafka import Producer
    ts = "2024-03-15T00:30:00Z"
    events = [
        {"event_id": "edge-nul", "timestamp": ts, "source": "s\x00rc",
         "payload": {"job_id": "e1", "title": "Data\x00Engineer", "company": "A\x00B",
                     "location": "London, UK", "is_remote": False}},
        {"event_id": "edge-empty", "timestamp": ts, "source": "",
         "payload": {"job_id": "e2", "title": "Senior \U0001F680 Engineer", "company": "",
                     "location": "Z\u00fcrich, Schweiz", "description": ""}},
        {"event_id": "edge-min", "timestamp": "2024-03-15T00:31:00.123456+02:00",
         "payload": {"job_id": "e3", "title": "x"}},
        {"event_id": "edge-big", "timestamp": ts,
         "payload": {"job_id": "e4", "title": "T" * 1000, "company": "\u00e9" * 1000,
                     "description": "Python " * 140000}},
    ]
    p = Producer({"bootstrap.servers": T.BROKERS, "message.max.bytes": 8 << 20})
    for ev in events:
        # json.dumps escapes NUL and non-ASCII (\u0000, surrogate pairs): valid JSON text
        p.produce(topic, json.dumps(ev).encode(), key=ev["payload"]["job_id"])
    assert p.flush(30) == 0


def scenario(name, seed, runner, live=False):
    topic = T.private_topic("test.arch")
    dlq = T.private_topic("test.arch.dlq", 3)
    root = os.path.join(T.BUILD, "test-archive-%s-%s" % (name, uuid.uuid4().hex[:8]))
    ends, state = T.stream(topic, COUNT, seed, live)
    if not live:
        produce_edge_cases(topic)
    group = "gtp-archiver-test-" + uuid.uuid4().hex[:8]
    runner(topic, dlq, group, root, ends, state)
    exp = state["exp"]
    assert exp.late > 0 and exp.duplicates > 0 and exp.rejected, \
        "the stream must exercise late events, duplicates and rejects"
    compacted = check(name, root, topic, dlq, exp)
    if not os.environ.get("GTP_TEST_KEEP"):
        shutil.rmtree(root, ignore_errors=True)
    return compacted


def metrics(port):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def clean_run(topic, dlq, group, root, ends, state):
    port = T.free_port()
    # checkpoints every 3 versions: the run makes only a handful of commits
    pr = start_archiver(topic, dlq, group, root, "arch-clean.log", port=port,
                        env_extra={"GTP_CHECKPOINT_INTERVAL": "3"})
    wait_archived(root, topic, ends(), procs=[pr])
    exp = state["exp"]
    edge = {r["event_id"]: r for r in exp.archived if r["event_id"].startswith("edge-")}
    assert len(edge) == 4 and "\x00" in edge["edge-nul"]["title"], sorted(edge)
    m = metrics(port)
    assert m.get("gtp_archiver_rows_written_total") == len(exp.archived), m
    assert m.get("gtp_late_events_total") == exp.late, m
    assert m.get("gtp_duplicate_events_total") == exp.duplicates, m
    # counted (neither late nor a duplicate) and late events are the archived rows
    assert m.get('gtp_archiver_events_total{outcome="counted"}') + exp.late == len(exp.archived), m
    rej = sum(v for k, v in m.items() if k.startswith("gtp_rejected_events_total"))
    assert rej == len(exp.rejected), (rej, len(exp.rejected))
    h = urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=5)
    assert h.status == 200
    assert m.get("gtp_delta_checkpoints_total", 0) >= 1, "no checkpoint was written"
    stop(pr)
    maintain_check(root, exp)


def maintain_check(root, exp):
    """gtp-archiver --maintain on a copy of the finished archive, with no log retention:
    it checkpoints the latest version, deletes every commit before it, and every reader
    still sees exactly the archived rows (deltalake now from the checkpoint alone)."""
    import pyarrow as pa
    copy = root + "-maintained"
    shutil.copytree(root, copy)
    try:
        logdir = os.path.join(copy, "_delta_log")
        before = max(int(f[:20]) for f in os.listdir(logdir) if re.fullmatch(r"\d{20}\.json", f))
        for _ in range(2):  # the second run finds nothing to do
            res = subprocess.run([T.binary("gtp-archiver"), "--maintain", "--archive-dir", copy,
                                  "--log-retention", "0 seconds", "--vacuum-retention",
                                  "0 seconds", "--metrics-port", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
            assert res.returncode == 0, "--maintain exited %d: %s" % (
                res.returncode, res.stdout.decode(errors="replace")[-2000:])
        # compaction of the small files may have added versions
        latest = max(int(f[:20]) for f in os.listdir(logdir) if re.fullmatch(r"\d{20}\.json", f))
        assert latest >= before
        with open(os.path.join(logdir, "_last_checkpoint")) as f:
            assert json.load(f)["version"] == latest
        left = sorted(f for f in os.listdir(logdir) if f.endswith(".json"))
        assert left == ["%020d.json" % latest], "commits left after cleanup: %s" % left[:5]
        want = sorted(r["event_id"] for r in exp.archived)
        got = sorted(DeltaTable(copy).to_pyarrow_table(columns=["event_id"])
                     .column("event_id").to_pylist())
        assert got == want, "deltalake from the checkpoint: %d rows, model %d" % (
            len(got), len(want))
        part = ds.partitioning(pa.schema([("date_posted", pa.date32()), ("region", pa.string())]),
                               flavor="hive")
        n = ds.dataset(copy, format="parquet", partitioning=part).count_rows()
        assert n == len(want), "pyarrow after maintenance: %d rows, model %d" % (n, len(want))
        T.log("maintain: %d compaction commit(s), checkpoint at version %d, %d older commits "
              "deleted, readers agree" % (latest - before, latest, latest))
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def kill_run(topic, dlq, group, root, ends, state):
    rnd = random.Random(int(os.environ.get("GTP_TEST_SEED", time.time())))
    for i in range(3):
        pr = start_archiver(topic, dlq, group, root, "arch-kill.log")
        time.sleep(rnd.uniform(0.5, 3.0))
        T.log("SIGKILL %d" % (i + 1))
        pr.kill()
        pr.wait()
    pr = start_archiver(topic, dlq, group, root, "arch-kill.log")
    wait_archived(root, topic, ends(), procs=[pr])
    stop(pr)


def crash_run(topic, dlq, group, root, ends, state):
    """Forced crashes. Each run uses a new consumer group: the position must come from the
    Delta log, not from Kafka's committed offsets.
    1. Between the files' rename and the commit: the run must leave files the log does not
       reference (else this proves nothing). Rolls are row-triggered at a size the next run
       does not use, so the replay's offset ranges (file names) differ from the crashed
       roll's, as after a time-triggered roll: only the start-up clean-up removes them.
    2. Right after commits, many times with small rolls: duplicates whose original was
       archived before a restart must still be recognized (dedup state from the log)."""
    ends()
    for n, rows in ((3, 1000), (5, 1300)):
        pr = start_archiver(topic, dlq, group + "-f%d" % n, root, "arch-crash.log",
                            roll_rows=rows, roll_seconds=600,
                            env_extra={"GTP_ARCHIVER_FAILPOINT": "files:%d" % n})
        rc = pr.wait(timeout=120)
        assert rc == -signal.SIGKILL, "failpoint files:%d: exit %s" % (n, rc)
        _, live = log_state(root)
        disk = {os.path.relpath(f, root)
                for f in glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True)}
        assert disk - live, "failpoint files:%d left no uncommitted file" % n
        T.log("crash at files:%d left %d uncommitted file(s)" % (n, len(disk - live)))
    for i in range(60):
        pr = start_archiver(topic, dlq, "%s-c%d" % (group, i), root, "arch-crash.log",
                            roll_rows=250, roll_seconds=600,
                            env_extra={"GTP_ARCHIVER_FAILPOINT": "commit:6"})
        try:
            rc = pr.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # fewer than 6 rolls left: the rest is for the last run (the final roll of a
            # graceful stop may still meet the failpoint)
            pr.send_signal(signal.SIGTERM)
            rc = pr.wait(timeout=60)
            assert rc in (0, -signal.SIGKILL), "archiver exited %s on SIGTERM" % rc
            break
        assert rc == -signal.SIGKILL, "failpoint commit:6: exit %s" % rc
    T.log("%d crashes right after a commit" % (i + 1))
    pr = start_archiver(topic, dlq, group + "-last", root, "arch-crash.log", roll_rows=3000)
    wait_archived(root, topic, ends(), procs=[pr])
    stop(pr)


def restart_run(seed):
    """Dedup state across a restart, deterministically: archive a stream, SIGKILL the
    archiver, re-send exact copies of archived events (their windows still open), restart
    with a new consumer group: the copies are duplicates only if the state came back from
    the log."""
    topic = T.private_topic("test.arch.rs", 2)
    dlq = T.private_topic("test.arch.rs.dlq", 1)
    root = os.path.join(T.BUILD, "test-archive-restart-%s" % uuid.uuid4().hex[:8])
    group = "gtp-archiver-test-" + uuid.uuid4().hex[:8]
    T.generate(topic, 3000, seed, 0.0)
    msgs, ends = T.read_topic(topic)
    pr = start_archiver(topic, dlq, group + "-a", root, "arch-restart.log")
    wait_archived(root, topic, ends, procs=[pr])
    pr.kill()
    pr.wait()
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": T.BROKERS})
    rnd = random.Random(seed)
    for part, rows in msgs.items():
        for off, ts, key, value, _ in rnd.sample(rows, 50):
            p.produce(topic, value, key=key, partition=part)
    assert p.flush(30) == 0
    msgs, ends = T.read_topic(topic)
    exp = T.expected_from_topic(msgs)
    assert exp.duplicates >= 90, "only %d re-sent copies are duplicates" % exp.duplicates
    pr = start_archiver(topic, dlq, group + "-b", root, "arch-restart.log")
    wait_archived(root, topic, ends, procs=[pr])
    stop(pr)
    check("restart", root, topic, dlq, exp)
    if not os.environ.get("GTP_TEST_KEEP"):
        shutil.rmtree(root, ignore_errors=True)


def two_instances(topic, dlq, group, root, ends, state):
    a = start_archiver(topic, dlq, group, root, "arch-two-a.log")
    time.sleep(1.0)
    b = start_archiver(topic, dlq, group, root, "arch-two-b.log")
    wait_archived(root, topic, ends(), procs=[a, b])
    stop(a)
    stop(b)


def cli_checks():
    """Exit codes of docs/programs.md."""
    b = T.binary("gtp-archiver")
    root = os.path.join(T.BUILD, "test-archive-cli-%s" % uuid.uuid4().hex[:8])
    cases = [(["--help"], 0), (["--version"], 0), (["--bogus"], 64), (["--codec", "lz4"], 78),
             (["--roll-rows", "0"], 78), (["--archive-dir", "/proc/gtp-nope"], 78),
             (["-b", "127.0.0.1:1", "--startup-timeout", "2", "--archive-dir", root], 69)]
    for args, want in cases:
        rc = subprocess.run([b, "--metrics-port", "0", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=60).returncode
        assert rc == want, "gtp-archiver %s: exit %d, want %d" % (" ".join(args), rc, want)
    shutil.rmtree(root, ignore_errors=True)


def zombie_run(topic, dlq, group, root, ends, state):
    """A is frozen (SIGSTOP) past the session timeout while the stream flows: B takes every
    partition over; then A wakes up holding rows it believes it owns. Its commits must be
    fenced (B's fencing commits on assignment), and the archive stays exact."""
    tag = uuid.uuid4().hex[:6]
    a = start_archiver(topic, dlq, group, root, "arch-zombie-a-%s.log" % tag)
    time.sleep(3)
    a.send_signal(signal.SIGSTOP)
    time.sleep(0.5)
    b = start_archiver(topic, dlq, group, root, "arch-zombie-b-%s.log" % tag)
    time.sleep(16)
    a.send_signal(signal.SIGCONT)
    wait_archived(root, topic, ends(), procs=[a, b])
    stop(a)
    stop(b)
    with open(os.path.join(T.BUILD, "test-logs", "arch-zombie-a-%s.log" % tag)) as f:
        T.log("zombie: A was fenced %d time(s)" % f.read().count("fenced by another writer"))


def main():
    os.makedirs(os.path.join(T.BUILD, "test-logs"), exist_ok=True)
    only = sys.argv[1:] or ["cli", "clean", "restart", "kill", "crash", "two", "zombie"]
    compacted = {}
    table = {"clean": (clean_run, 41, False), "kill": (kill_run, 42, True),
             "crash": (crash_run, 43, False), "two": (two_instances, 44, True),
             "zombie": (zombie_run, 46, True)}
    for name in only:
        if name == "cli":
            cli_checks()
            continue
        if name == "restart":
            T.log("scenario", name)
            restart_run(45)
            continue
        fn, seed, live = table[name]
        T.log("scenario", name)
        compacted[name] = scenario(name, seed, fn, live)
    if COMPACT and compacted:
        # the scenarios must really race compaction with their rolls, crashes and fencing
        idle = [n for n, c in compacted.items() if not c]
        assert len(idle) < len(compacted), "no scenario compacted anything: %s" % compacted
        T.log("files compacted away per scenario: %s" % compacted)
    T.log("ok")


if __name__ == "__main__":
    main()
