"""The refill thread (include/gtp/consumer.h, README "Keeping the consumer fed") wakes
librdkafka's fetcher with a ListOffsets request to the partition leader. It must do so in a
backlog, where the fetcher stops on a full queue, and not under a live stream, where the
fetcher never stops and every wake-up would be a request to the broker for nothing.

A processor runs with librdkafka's protocol debug log while the generator writes a live
stream at 3,000 events/s, and then while it drains a backlog of 60,000 events. The requests
it sent are counted from the log:
  - live: at most one wake-up per 1,000 messages consumed (GTP_REFILL_EVERY), each two
    ListOffsets requests (the watermark query asks for both ends), plus the start-offset
    queries of the 6 partitions (each may be asked twice); waking every 5 ms while messages
    arrive sent 3,532 for the same stream;
  - both runs end with every event counted in Redis (the processor caught up)."""
import os
import re
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

DB = int(os.environ.get("GTP_TEST_REFILL_DB", "14"))
LIVE = 24000
BACKLOG = 60000


def sent(path, what):
    with open(path, "rb") as f:
        return len(re.findall(rb"Sent " + what.encode() + rb"Request", f.read()))


def main():
    topic = T.private_topic("test.refill")
    dlq = T.private_topic("test.refill.dlq", 1)
    r = T.redis_db(DB)
    r.flushdb()
    log_name = "refill-processor-%s.log" % uuid.uuid4().hex[:8]
    cmd = [T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq,
           "--redis", T.redis_url(DB), "-g", "gtptest-refill-" + uuid.uuid4().hex[:8],
           "--metrics-port", "0", "--log-level", "debug", "-X", "debug=protocol"]
    pr = T.spawn(cmd, log_name)
    try:
        time.sleep(2)  # joined and assigned before the stream starts
        subprocess.run([T.binary("gtp-generator"), "-b", T.BROKERS, "-t", topic, "--count",
                        str(LIVE), "--seed", "5", "--chaos", "0", "--rate", "3000",
                        "--metrics-port", "0"], check=True, stdout=subprocess.DEVNULL)
        T.wait_caught_up(r, topic, T.read_topic(topic)[1], timeout=120, procs=[pr])
        live = sent(pr.gtp_log, "ListOffsets")
        fetches = sent(pr.gtp_log, "Fetch")
        T.log("live stream of %d events: %d ListOffsets, %d Fetch requests"
              % (LIVE, live, fetches))
        assert fetches > 0, "no fetch request in the protocol log: is debug=protocol logged?"
        assert live <= 2 * (LIVE // 1000 + 1) + 12, (
            "%d ListOffsets requests for a live stream of %d events" % (live, LIVE))

        # a backlog: the processor stopped, the topic filled, the processor back
        T.stop_daemon(pr, "processor")
        T.generate(topic, BACKLOG, 6, 0)
        pr = T.spawn(cmd, log_name)
        T.wait_caught_up(r, topic, T.read_topic(topic)[1], timeout=120, procs=[pr])
        T.log("backlog of %d events drained" % BACKLOG)
    finally:
        T.kill_all([pr])
    T.log("ok")


if __name__ == "__main__":
    T.exit_on_signals()
    main()
