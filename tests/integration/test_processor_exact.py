"""gtp-processor against the real broker and Redis (issue 4, acceptance 1-4):
a seeded chaotic stream is counted exactly as an independent model of docs/windows.md
says — after a clean run, after SIGKILLs at random moments, with two
instances sharing the partitions, and across a 10 s Redis outage. Every
rejected event is in the DLQ with its reason and source headers, and the insights
keys (docs/redis.md, issue 18) equal the model too: counters and sorted sets exactly,
employers as the model's names give them and within HyperLogLog's 2 % overall."""
import os
import random
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

COUNT = int(os.environ.get("GTP_TEST_EVENTS", "40000"))


def start_processor(topic, dlq, db, group, log_name, threads=1):
    cmd = [T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
           "--redis", T.redis_url(db), "-g", group, "--metrics-port", "0",
           "--flush-ms", "100", "--flush-events", "5000", "--enrich-threads", str(threads)]
    return T.spawn(cmd, log_name)


def stop(pr):
    T.stop_daemon(pr, "processor")


def check(name, topic, dlq, db, exp, ends):
    r = T.redis_db(db)
    T.compare_counts(T.trend_counts(r), exp.counts)
    T.index_check(r, exp.counts, name)
    assert exp.employers and any(k.startswith("remote:") for k in exp.icounts) and \
        any(k.startswith("level:") for k in exp.icounts), \
        "%s: the stream must exercise remote postings, levels and employers" % name
    T.insights_check(r, exp, name)
    stats = {k.decode(): v.decode() for k, v in r.hgetall("gtp:stats").items()}
    want = {"events_total": exp.events, "rejected_total": len(exp.rejected),
            "late_total": exp.late, "duplicates_total": exp.duplicates,
            "counted_total": exp.counted}
    for k, v in want.items():
        assert int(stats.get(k, 0)) == v, "%s: stats %s = %s, model %s" % (name, k, stats.get(k), v)
    T.check_dlq(name, dlq, topic, exp)
    T.log("%s: %d trend keys equal, %d events, %d rejected, %d late, %d duplicates" % (
        name, len(exp.counts), exp.events, len(exp.rejected), exp.late, exp.duplicates))


def scenario(name, seed, db, runner, live=False):
    """live: the stream is produced (at a bounded rate) while the runner
    works, so faults hit mid-stream; otherwise the topic is pre-filled."""
    topic = T.private_topic("test.proc")
    dlq = T.private_topic("test.proc.dlq", 3)
    r = T.redis_db(db)
    r.flushdb()
    ends, state = T.stream(topic, COUNT, seed, live)
    group = "gtp-processor-test-" + uuid.uuid4().hex[:8]
    runner(topic, dlq, db, group, ends)
    exp = state["exp"]
    assert exp.late > 0 and exp.duplicates > 0 and exp.rejected, \
        "the stream must exercise late events, duplicates and rejects"
    check(name, topic, dlq, db, exp, state["ends"])


def clean_run(topic, dlq, db, group, ends):
    pr = start_processor(topic, dlq, db, group, "proc-clean.log")
    T.wait_caught_up(T.redis_db(db), topic, ends(), procs=[pr])
    stop(pr)


def stored_progress(r, topic):
    return sum(int(r.hget("gtp:part:%s:%d" % (topic, p), "next") or 0) for p in range(6))


def kill_run(topic, dlq, db, group, ends):
    """Each kill lands at a random moment after the new instance has made
    progress of its own, so every restart resumes mid-stream."""
    rnd = random.Random(int(os.environ.get("GTP_TEST_SEED", time.time())))
    r = T.redis_db(db)
    for i in range(3):
        before = stored_progress(r, topic)
        pr = start_processor(topic, dlq, db, group, "proc-kill.log")
        deadline = time.time() + 120
        while stored_progress(r, topic) <= before and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(rnd.uniform(0.0, 1.5))
        T.log("SIGKILL %d at stored offset sum %d" % (i + 1, stored_progress(r, topic)))
        pr.kill()
        pr.wait()
    pr = start_processor(topic, dlq, db, group, "proc-kill.log")
    T.wait_caught_up(T.redis_db(db), topic, ends(), procs=[pr])
    stop(pr)


def two_instances(topic, dlq, db, group, ends):
    a = start_processor(topic, dlq, db, group, "proc-two-a.log", threads=0)
    time.sleep(0.5)
    b = start_processor(topic, dlq, db, group, "proc-two-b.log", threads=3)
    T.wait_caught_up(T.redis_db(db), topic, ends(), procs=[a, b])
    stop(a)
    stop(b)


def resend_after_restart(topic, dlq, db, group, ends):
    """The last 300 records of every partition sent again after the processor
    stopped (a producer retrying what it had sent): the restarted processor
    must know their ids from the dedup state stored in Redis."""
    r = T.redis_db(db)
    msgs, first = T.read_topic(topic)
    pr = start_processor(topic, dlq, db, group, "proc-resend.log")
    T.wait_caught_up(r, topic, first, procs=[pr])
    pr.kill()
    pr.wait()
    p = Producer({"bootstrap.servers": T.BROKERS, "enable.idempotence": True,
                  "message.max.bytes": 8 << 20})
    resent = 0
    for part, rows in msgs.items():
        for _, _, key, value, _ in rows[-300:]:
            p.produce(topic, value=value, key=key, partition=part)
            resent += 1
    assert p.flush(60) == 0, "could not re-send"
    T.log("re-sent %d records after a SIGKILL" % resent)
    pr = start_processor(topic, dlq, db, group, "proc-resend.log")
    T.wait_caught_up(r, topic, ends(), procs=[pr])
    stop(pr)


def redis_outage(topic, dlq, db, group, ends):
    pr = start_processor(topic, dlq, db, group, "proc-outage.log")
    time.sleep(3)
    T.services("stop-redis")
    time.sleep(10)
    assert pr.poll() is None, "processor exited during the redis outage"
    T.services("start-redis")
    T.wait_caught_up(T.redis_db(db), topic, ends(), procs=[pr])
    stop(pr)


def main():
    os.makedirs(os.path.join(T.BUILD, "test-logs"), exist_ok=True)
    only = sys.argv[1:] or ["clean", "kill", "two", "outage", "resend"]
    table = {"clean": (clean_run, 31, 11, False), "kill": (kill_run, 32, 12, True),
             "two": (two_instances, 33, 13, True), "outage": (redis_outage, 34, 14, True),
             "resend": (resend_after_restart, 35, 15, False)}
    for name in only:
        fn, seed, db, live = table[name]
        T.log("scenario", name)
        scenario(name, seed, db, fn, live)
    T.log("ok")


if __name__ == "__main__":
    main()
