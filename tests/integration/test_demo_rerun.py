"""Re-running the demo counts nothing twice (docs/events.md, "Resuming").

scripts/run.sh runs twice in a row on one private topic, Redis DB and archive
(as test_e2e_demo.py does, without the build step). Each run backfills
GTP_DEMO_HOURS simulated hours, continues live for a few seconds and is
stopped with SIGTERM, which drains the consumers. Before the generator
resumed the topic's timeline, the second run backfilled the same hours again
with new event ids: the hours still inside the processor's 2 h watermark
doubled in Redis, and the archive took every hour a second time.

Checked after run 2, against what run 1 left:
- Redis: every hour before the hour of run 1's newest event (gtp:stats
  last_event_us) has the same total mentions (gtp:pulse:{hour}) as after run
  1; only that hour and later ones may grow; run 2 added something;
- the archive: the same rows per hour for those hours (DuckDB over the Parquet
  files);
- the topic: every message of run 2 carries a gtp.sim_us header later than
  the newest one of run 1, and the second generator logged that it resumed.

The `late` chaos kind is switched off (GTP_CHAOS_KINDS): a late event of run 2
is a new event that may rightly land, within the watermark, in an hour run 1
had produced, which would blur "nothing counted twice" with "nothing new"."""
import os
import re
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

DB = int(os.environ.get("GTP_TEST_RERUN_DB", "12"))
HOURS = 6
LIVE_SECONDS = 4
KINDS = ("bad_location,bad_date,time_format,missing_field,wrong_type,malformed,invalid_utf8,"
         "oversized,html,duplicate,future")


def sim_time(port):
    """The generator's simulated clock (s) from its /metrics, or None."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return None
    m = re.search(r"^gtp_generator_simulated_time_seconds (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def run_demo(env, tmp, n, gen_port):
    """One run.sh: until the generator is live, LIVE_SECONDS more, then SIGTERM."""
    out_path = os.path.join(tmp, "run%d.out" % n)
    with open(out_path, "wb") as out:
        run = subprocess.Popen([os.path.join(T.ROOT, "scripts", "run.sh")], env=env,
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            assert run.poll() is None, "run %d: run.sh exited early with %s:\n%s" % (
                n, run.returncode, open(out_path).read())
            assert time.time() < deadline, "run %d: the generator never went live:\n%s" % (
                n, open(out_path).read())
            s = sim_time(gen_port)
            if s is not None and s > time.time() - 10:
                break
            time.sleep(0.5)
        time.sleep(LIVE_SECONDS)
        run.send_signal(signal.SIGTERM)
        rc = run.wait(timeout=180)
        T.demo_check_exits(open(out_path).read(), rc, "run %d" % n)
    finally:
        T.demo_kill(run, out_path)


def redis_hours(r):
    """{hour label: total mentions in gtp:pulse:{hour}}."""
    out = {}
    for h in r.zrange("gtp:hours", 0, -1):
        out[h.decode()] = int(sum(s for _, s in r.zrange(b"gtp:pulse:" + h, 0, -1,
                                                        withscores=True)))
    return out


def archive_hours(archive):
    """{hour label: archived rows whose posted_at falls in it}."""
    glob_path = os.path.join(archive, "date_posted=*", "region=*", "*.parquet").replace("'", "''")
    rows = duckdb.sql(
        "SELECT strftime(date_trunc('hour', posted_at AT TIME ZONE 'UTC'), '%%Y-%%m-%%d-%%H'), "
        "count(*) FROM read_parquet('%s', hive_partitioning=true) GROUP BY 1" % glob_path
    ).fetchall()
    return dict(rows)


def sim_headers(topic):
    """({partition: end offset}, {partition: [gtp.sim_us of each message or None]})."""
    msgs, ends = T.read_topic(topic, with_headers=True)
    out = {}
    for p, lst in msgs.items():
        out[p] = []
        for _, _, _, _, headers in lst:
            v = dict(headers or []).get("gtp.sim_us")
            out[p].append(int(v) if v is not None else None)
    return ends, out


def main():
    topic = "test.rerun.%s" % uuid.uuid4().hex[:10]
    tmp = tempfile.mkdtemp(prefix="gtp-rerun-")
    archive = os.path.join(tmp, "archive")
    ports = [T.free_port() for _ in range(3)]
    r = T.redis_db(DB)
    r.flushdb()
    env = T.demo_env("rerun", topic, DB, tmp, "127.0.0.1:%d" % T.free_port(), ports)
    env.update({"GTP_DEMO_HOURS": str(HOURS), "GTP_DEMO_RATE": "2", "GTP_CHAOS_KINDS": KINDS})
    T.log("run.sh twice: topic %s, redis db %d, archive %s" % (topic, DB, archive))

    run_demo(env, tmp, 1, ports[0])
    redis1, archive1 = redis_hours(r), archive_hours(archive)
    last1 = int(r.hget("gtp:stats", "last_event_us"))
    cut = T.hour_label(last1)
    T.log("run 1: %d hours in redis, newest event %s (hour %s), %d archived rows" % (
        len(redis1), last1, cut, sum(archive1.values())))

    run_demo(env, tmp, 2, ports[0])
    redis2, archive2 = redis_hours(r), archive_hours(archive)
    T.log("run 2: %d hours in redis, %d archived rows" % (len(redis2), sum(archive2.values())))

    # Hour labels are YYYY-MM-DD-HH: they sort in time order.
    grew = {h: (redis1.get(h), redis2.get(h)) for h in redis2
            if h < cut and redis2.get(h) != redis1.get(h)}
    assert not grew, "hours before %s changed in redis (run 1, run 2): %s" % (cut, grew)
    assert all(redis2.get(h, 0) >= n for h, n in redis1.items()), (redis1, redis2)
    assert sum(redis2.values()) > sum(redis1.values()), "run 2 counted nothing new"
    agrew = {h: (archive1.get(h), archive2.get(h)) for h in archive2
             if h < cut and archive2.get(h) != archive1.get(h)}
    assert not agrew, "hours before %s changed in the archive (run 1, run 2): %s" % (cut, agrew)

    ends, sims = sim_headers(topic)
    logs2 = open(os.path.join(tmp, "logs", "gtp-generator.log")).read()
    assert "continuing from there" in logs2, "the second generator did not resume"
    # run 1's messages are the ones before the offsets the first resume read
    first = [s for lst in sims.values() for s in lst]
    assert None not in first, "messages without a gtp.sim_us header"
    m = re.search(r"newest simulated time on \S+ is (\S+): continuing", logs2)
    resumed = T.parse_ts_us(m.group(1))
    before = [s for s in first if s <= resumed]
    after = [s for s in first if s > resumed]
    assert before and after, "run 1 or run 2 produced nothing (%d, %d)" % (len(before),
                                                                         len(after))
    assert max(before) == resumed, "resumed at %d, run 1's newest is %d" % (resumed, max(before))
    for p, lst in sims.items():
        # per partition, run 1's messages come first: the clock never goes back
        assert lst == sorted(lst), "partition %d: simulated clock went back" % p

    T.log("demo rerun: run 1 newest event in %s; %d earlier hours unchanged in redis and the "
          "archive; run 2 added %d mentions and %d rows, all after %s" % (
              cut, len([h for h in redis1 if h < cut]), sum(redis2.values()) - sum(redis1.values()),
              sum(archive2.values()) - sum(archive1.values()), m.group(1)))
    T.demo_cleanup(r, topic, tmp)
    print("demo rerun: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
