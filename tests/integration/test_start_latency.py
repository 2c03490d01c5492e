"""A daemon fetches as soon as the group assigns it partitions (docs/kafka.md "Start-up").

librdkafka 2.0 makes a partition's state when metadata first names it and hands it to the
leader's broker thread asynchronously. The group's assignment used to come in the same
metadata round, so in about two starts of five the start-offset query ran before that
hand-over, found no leader, and waited out librdkafka's fixed 500 ms retry before the first
fetch. The daemon skeleton now asks for the topic's metadata before it joins the group.

A processor starts STARTS times on a filled topic, each time as a new group with an empty
Redis database (so every partition starts from its first offset), with librdkafka's protocol
log. In each start the first Fetch request must follow the first assignment within
GAP_MS; the previous build missed that in 8 of 20 starts (a 500-504 ms gap)."""
import datetime
import os
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

DB = int(os.environ.get("GTP_TEST_START_DB", "10"))
STARTS = 10
GAP_MS = 300
STAMP = rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z "


def stamp(line):
    m = re.match(STAMP, line)
    return datetime.datetime.strptime(m.group(1).decode(), "%Y-%m-%dT%H:%M:%S.%f") if m else None


def first_times(path, start):
    """(assigned, first Fetch request) times in the log from byte offset start, or None each."""
    assigned = fetched = None
    with open(path, "rb") as f:
        f.seek(start)
        for line in f:
            if assigned is None and b"consumer: assigned " in line:
                assigned = stamp(line)
            elif assigned is not None and b"Sent FetchRequest" in line:
                fetched = stamp(line)
                break
    return assigned, fetched


def main():
    topic = T.private_topic("test.start")
    dlq = T.private_topic("test.start.dlq", 1)
    T.generate(topic, 6000, 8, 0)
    r = T.redis_db(DB)
    log_name = "start-latency-%s.log" % uuid.uuid4().hex[:8]
    gaps = []
    for i in range(STARTS):
        r.flushdb()
        path = os.path.join(T.BUILD, "test-logs", log_name)
        start = os.path.getsize(path) if os.path.exists(path) else 0
        cmd = [T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
               "--redis", T.redis_url(DB), "-g", "gtptest-start-" + uuid.uuid4().hex[:8],
               "--metrics-port", "0", "--log-level", "debug", "-X", "debug=protocol"]
        pr = T.spawn(cmd, log_name)
        try:
            deadline = time.time() + 30
            assigned = fetched = None
            while time.time() < deadline and fetched is None:
                if pr.poll() is not None:
                    raise SystemExit("processor exited %s\n%s" % (pr.returncode, T.log_tail(pr)))
                time.sleep(0.05)
                assigned, fetched = first_times(path, start)
            assert assigned is not None, "start %d: no assignment logged in 30 s" % i
            assert fetched is not None, (
                "start %d: no Fetch request in the protocol log: is debug=protocol logged?" % i)
            T.stop_daemon(pr, "processor")
        finally:
            T.kill_all([pr])
        gap = (fetched - assigned).total_seconds() * 1000
        gaps.append(gap)
        T.log("start %d: first fetch %.0f ms after the assignment" % (i, gap))
    slow = [g for g in gaps if g > GAP_MS]
    assert not slow, "%d of %d starts fetched more than %d ms after the assignment: %s" % (
        len(slow), STARTS, GAP_MS, ", ".join("%.0f ms" % g for g in slow))
    T.log("ok: the slowest of %d starts fetched %.0f ms after its assignment"
          % (STARTS, max(gaps)))


if __name__ == "__main__":
    T.exit_on_signals()
    main()
