"""gtp:hours is trimmed in the flush script (docs/redis.md, "Retention"): a
member whose hour starts more than --retention before the newest hour is
removed in the same atomic flush that adds hours, while the newest hour is
always kept (the dashboard's "last N hours" end there).

The processor runs with --retention 3600; the generator writes a seeded batch
at 2024-03-01T00 (one simulated hour, 100 events per simulated second at
--rate 0), then one at 03:00, then one at 03:30. After the first batch
gtp:hours holds 00; after the second only 03 (00 is 3 h behind the newest
hour); the third adds nothing, and 03 stays. The trend keys of hour 00 keep
their own TTL and are not touched."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

DB = int(os.environ.get("GTP_TEST_HOURS_DB", "11"))
RETENTION = 3600


def ends(topic):
    return T.read_topic(topic)[1]


def hours(r):
    return [m.decode() for m in r.zrange("gtp:hours", 0, -1)]


def main():
    topic = T.private_topic("test.hours")
    dlq = T.private_topic("test.hours.dlq", 1)
    r = T.redis_db(DB)
    r.flushdb()
    cmd = [T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
           "--redis", T.redis_url(DB), "-g", "gtptest-hours-" + uuid.uuid4().hex[:8],
           "--metrics-port", "0", "--flush-ms", "100", "--retention", str(RETENTION)]
    pr = T.spawn(cmd, "hours-trim-processor.log")
    try:
        steps = [("2024-03-01T00:00:00Z", ["2024-03-01-00"]),
                 ("2024-03-01T03:00:00Z", ["2024-03-01-03"]),
                 ("2024-03-01T03:30:00Z", ["2024-03-01-03"])]
        for i, (start, want) in enumerate(steps):
            T.generate(topic, 2000, 40 + i, 0, extra=("--start", start))
            T.wait_caught_up(r, topic, ends(topic), timeout=120, procs=[pr])
            got = hours(r)
            assert got == want, "after the batch at %s gtp:hours is %s, expected %s" % (
                start, got, want)
            T.log("after the batch at %s: gtp:hours %s" % (start, got))
        old = list(r.scan_iter(match="trend:*:2024-03-01-00"))
        assert old, "the trend keys of hour 00 are gone: only gtp:hours is trimmed"
        assert all(0 < r.ttl(k) <= RETENTION for k in old), "trend keys lost their TTL"
        T.stop_daemon(pr, "processor")
    finally:
        if pr.poll() is None:
            pr.kill()
            pr.wait()
    r.flushdb()
    for t in (topic, dlq):
        T.services("delete-topic", t)
    print("hours trim: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
