"""The native demo end to end (issue 7): scripts/run.sh, exactly as the README's
run command starts it, but private (its own topic, Redis DB, archive dir,
ports and consumer groups) so it can run beside other tests, and without the
setup/build step (ctest has built GTP_BUILD_DIR).

While it runs, the dashboard's three views must fill: /api/pulse 5 series with
non-zero totals, /api/heatmap regions, /api/stats events > 0; the time from
start to data is measured. Then SIGTERM to run.sh must stop every daemon with
exit status 0 after the consumers drained the topic, and nothing may be lost:
the processor's stored next offsets (Redis gtp:part:*) equal the topic's end
offsets, the archiver's Delta txn version per partition equals end - 1, and
DuckDB reads the Hive-partitioned archive with as many rows as the Delta log's
add actions declare."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

import duckdb  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402

DB = int(os.environ.get("GTP_TEST_E2E_DB", "4"))
RUN_SECONDS = int(os.environ.get("GTP_TEST_E2E_SECONDS", "60"))
DATA_DEADLINE = 90  # seconds from start until the dashboard must show data
DAEMONS = ("gtp-processor", "gtp-archiver", "gtp-dashboard", "gtp-generator")


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def views_ok(base):
    """(all three views show data, short description)."""
    try:
        pulse = get_json(base + "api/pulse?hours=24&top=5")
        heat = get_json(base + "api/heatmap?hours=24")
        stats = get_json(base + "api/stats")
    except (OSError, ValueError) as e:
        return False, "no answer (%s)" % e
    series = pulse.get("series") or []
    ok = (len(series) == 5 and all(s.get("total", 0) > 0 for s in series) and
          all(len(s.get("counts") or []) == len(pulse.get("hours") or []) for s in series) and
          len(heat.get("regions") or []) > 0 and stats.get("events_total", 0) > 0)
    return ok, "pulse %d series (totals %s), heatmap %d regions, events_total %s" % (
        len(series), [s.get("total") for s in series], len(heat.get("regions") or []),
        stats.get("events_total"))


def end_offsets(topic):
    c = Consumer({"bootstrap.servers": T.BROKERS, "group.id": "gtptest-" + uuid.uuid4().hex,
                  "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=30)
    ends = {}
    for p in sorted(md.topics[topic].partitions):
        ends[p] = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
    c.close()
    return ends


def delta_log(root):
    """{appId: txn version}, live add paths, rows the adds declare (stats.numRecords)."""
    txn, live = {}, {}
    for a in T.delta_actions(root):
        if "txn" in a:
            txn[a["txn"]["appId"]] = a["txn"]["version"]
        if "add" in a:
            stats = json.loads(a["add"].get("stats") or "{}")
            live[a["add"]["path"]] = stats.get("numRecords")
        if "remove" in a:
            live.pop(a["remove"]["path"], None)
    return txn, live


def main():
    topic = "test.e2e.%s" % uuid.uuid4().hex[:10]
    dlq = topic + ".dlq"
    tmp = tempfile.mkdtemp(prefix="gtp-e2e-")
    archive = os.path.join(tmp, "archive")
    listen = "127.0.0.1:%d" % T.free_port()
    base = "http://%s/" % listen
    ports = [T.free_port() for _ in range(3)]
    redis_url = "redis://127.0.0.1:%d/%d" % (T.REDIS_PORT, DB)
    r = T.redis_db(DB)
    r.flushdb()
    env = dict(os.environ)
    env.update({
        "GTP_TOPIC": topic, "GTP_DLQ_TOPIC": dlq, "GTP_REDIS_URL": redis_url,
        "GTP_DEMO_ARCHIVE": archive, "GTP_DEMO_LISTEN": listen,
        "GTP_DEMO_METRICS_PORTS": ",".join(map(str, ports)),
        "GTP_DEMO_GROUP_PREFIX": "gtp-e2e-" + uuid.uuid4().hex[:8],
        "GTP_DEMO_LOGS": os.path.join(tmp, "logs"), "GTP_DEMO_BUILD": T.BUILD,
        "GTP_DEMO_NO_BUILD": "1", "GTP_KEEP_SERVICES": "1",
    })
    out_path = os.path.join(tmp, "run.out")
    T.log("run.sh: topic %s, redis db %d, archive %s, dashboard %s, metrics %s" % (
        topic, DB, archive, base, ports))
    t0 = time.time()
    with open(out_path, "wb") as out:
        run = subprocess.Popen([os.path.join(T.ROOT, "scripts", "run.sh")], env=env,
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    rc = None
    try:
        # 1. The dashboard's three views fill.
        first_data, last = None, ""
        while time.time() - t0 < DATA_DEADLINE:
            assert run.poll() is None, "run.sh exited early with %s:\n%s" % (
                run.returncode, open(out_path).read())
            ok, last = views_ok(base)
            if ok:
                first_data = time.time() - t0
                break
            time.sleep(0.5)
        assert first_data is not None, "no data on the dashboard %ds after start: %s\n%s" % (
            DATA_DEADLINE, last, open(out_path).read())
        T.log("dashboard shows data %.1f s after run.sh started: %s" % (first_data, last))
        # Past the 24 h backfill (24 s at 3600x), into the live phase.
        while time.time() - t0 < RUN_SECONDS:
            assert run.poll() is None, "run.sh exited early with %s:\n%s" % (
                run.returncode, open(out_path).read())
            time.sleep(1)
        ok, last = views_ok(base)
        assert ok, "dashboard lost its data: " + last

        # 2. SIGTERM: every daemon stops with 0 after the consumers drained.
        ts = time.time()
        run.send_signal(signal.SIGTERM)
        rc = run.wait(timeout=180)
        out = open(out_path).read()
        T.log("run.sh stopped in %.1f s with status %d" % (time.time() - ts, rc))
        for d in DAEMONS:
            m = re.search(r"%s \(pid \d+\) exited with status (\d+)" % d, out)
            assert m and m.group(1) == "0", "%s did not exit 0 on SIGTERM:\n%s" % (d, out)
        assert "consumers caught up with the topic" in out, out
        assert rc == 0, "run.sh exited %d:\n%s" % (rc, out)
        # librdkafka warns about a property given to the wrong kind of client (a consumer
        # property on the dead-letter producer): the demo's own commands must cause none.
        for f in sorted(os.listdir(os.path.join(tmp, "logs"))):
            with open(os.path.join(tmp, "logs", f), errors="replace") as fh:
                warns = [line for line in fh if "CONFWARN" in line]
            assert not warns, "%s: librdkafka configuration warnings:\n%s" % (f, "".join(warns[:5]))
        # The shared services are left running (GTP_KEEP_SERVICES, and not ours).
        subprocess.run([os.path.join(T.ROOT, "scripts", "services.sh"), "status"],
                       stdout=subprocess.DEVNULL, check=True)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
            for d in DAEMONS:  # daemons run in their own sessions
                for m in re.finditer(r"started %s \(pid (\d+)\)" % d, open(out_path).read()):
                    try:
                        os.kill(int(m.group(1)), signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    # 3. Nothing lost: positions equal the end of every partition.
    ends = end_offsets(topic)
    total = sum(ends.values())
    assert total > 0, "the generator produced nothing"
    for p, end in ends.items():
        nxt = r.hget("gtp:part:%s:%d" % (topic, p), "next")
        assert nxt is not None and int(nxt) == end, \
            "processor partition %d: stored next %s, topic end %d" % (p, nxt, end)
    txn, live = delta_log(archive)
    for p, end in ends.items():
        v = txn.get("gtp-archiver-%s-%d" % (topic, p))
        assert v == end - 1, "archiver partition %d: delta txn %s, topic end %d" % (p, v, end)
    stats = r.hgetall("gtp:stats")
    events = int(stats.get(b"events_total", 0))
    assert events == total, "gtp:stats events_total %d, topic holds %d" % (events, total)

    # 4. DuckDB reads the archive, Hive partitions included.
    con = duckdb.connect()
    # the Hive layout only: a recursive ** would also take the Delta checkpoints in _delta_log
    glob_path = os.path.join(archive, "date_posted=*", "region=*", "*.parquet").replace("'", "''")
    rows, parts, regions = con.sql(
        "SELECT count(*), count(DISTINCT date_posted), count(DISTINCT region) "
        "FROM read_parquet('%s', hive_partitioning=true)" % glob_path).fetchall()[0]
    declared = sum(n for n in live.values() if n is not None)
    assert rows > 0 and parts >= 1 and regions > 1, (rows, parts, regions)
    assert rows == declared, "duckdb reads %d rows, the delta log declares %d" % (rows, declared)
    files = glob.glob(os.path.join(archive, "date_posted=*", "region=*", "*.parquet"))
    assert len(files) == len(live), "%d parquet files on disk, %d live in the log" % (
        len(files), len(live))
    valid = int(stats.get(b"valid_total", 0))
    dups = int(stats.get(b"duplicates_total", 0))
    assert rows == valid - dups, "archive has %d rows; processor saw %d valid, %d duplicates" % (
        rows, valid, dups)

    T.log("e2e: %d events on %d partitions, data on the dashboard after %.1f s, "
          "%d archived rows in %d files (%d days, %d regions), every daemon exit 0, "
          "positions at the topic end" % (total, len(ends), first_data, rows, len(files), parts,
                                          regions))
    r.flushdb()
    for t in (topic, dlq):
        subprocess.run([os.path.join(T.ROOT, "scripts", "services.sh"), "delete-topic", t],
                       check=False)
    shutil.rmtree(tmp, ignore_errors=True)
    print("e2e demo: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
