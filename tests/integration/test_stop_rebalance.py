"""A graceful stop in every consumer state (issue 14), for gtp-processor and
gtp-archiver against the real broker: the operator's sequence that once made
librdkafka 2.0.2 abort in rd_kafka_destroy (an instance SIGKILLed three times
0.5-2.5 s apart, as a crash-looping container is, then a fourth started and
stopped with SIGTERM while the group still waits for the killed members'
sessions to expire), with the stop moment varied round by round so that it
lands before the first assignment, inside the rebalance, and mid-flush or
mid-roll once consuming. A round fails on any exit status but 0, on a stop
that takes longer than the drain time, and on a core dump or an assertion or
sanitizer report in the daemon's log. The stop also lands while the daemon is
paused: the processor's Redis (a private redis-server) killed, the archiver's
archive on a full 8 MiB tmpfs (needs root to mount; left out otherwise).

    scripts/py tests/integration/test_stop_rebalance.py            # CI: 3 rounds per daemon
    scripts/py tests/integration/test_stop_rebalance.py --rounds 50 [--daemon processor|archiver]
        [--seed S]   # the acceptance run: 50 in a row per daemon, each with a fresh group

Each round uses a fresh consumer group, a flushed Redis DB (processor) or an
empty archive directory (archiver), so every round has the whole topic
(20,000 events) to work through.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import gtptest as T

DB = int(os.environ.get("GTP_TEST_STOP_DB", "8"))
EVENTS = 20000
DRAIN_S = 30  # a stop must end within this (the daemons give Redis 10 s, then close)
BAD_LOG = ("Assertion", "AddressSanitizer", "runtime error:", "core dumped", "LeakSanitizer")


def start(daemon, topic, dlq, group, root, logname, redis_url=None):
    common = ["-b", T.BROKERS, "-t", topic, "--dlq-topic", dlq, "-g", group,
              "--metrics-port", "0"]
    if daemon == "processor":
        cmd = [T.binary("gtp-processor"), *common, "--redis", redis_url or T.redis_url(DB),
               "--flush-ms", "200"]
    else:
        cmd = [T.binary("gtp-archiver"), *common, "--archive-dir", root, "--roll-seconds", "2"]
    return T.spawn(cmd, logname)


def small_tmpfs(path):
    """Mount an 8 MiB tmpfs on path; False when mounting is not allowed."""
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "gtp-stop", path],
                          stderr=subprocess.DEVNULL).returncode == 0


def fill(path):
    subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(path, "filler"), "bs=64k"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def one_round(daemon, topic, dlq, rng, n, can_mount, only=None):
    """Returns None when the round passed, else the reason."""
    group = "gtp-stop-%s-%s" % (daemon, uuid.uuid4().hex[:8])
    root = tempfile.mkdtemp(prefix="gtp-stop-arch-")
    logname = "stop-%s-%03d.log" % (daemon, n)
    path = os.path.join(T.BUILD, "test-logs", logname)
    if os.path.exists(path):
        os.unlink(path)
    # Mostly around 8 s (the killed members' 10 s sessions have not expired:
    # the group is mid-rebalance), sometimes before the first join completes,
    # sometimes after the assignment, while batches flush or files roll, and
    # sometimes while the daemon is paused: the processor's Redis killed, the
    # archiver's disk full (blocked in its assignment, writing the fencing commit,
    # or failing its rolls).
    kinds = ["rebalance", "rebalance", "rebalance", "early", "late", "paused"]
    kind = only or rng.choice(kinds if daemon == "processor" or can_mount else kinds[:-1])
    wait = {"rebalance": rng.uniform(6.0, 10.0), "early": rng.uniform(0.05, 1.5),
            "late": rng.uniform(11.0, 16.0), "paused": rng.uniform(14.0, 22.0)}[kind]
    redis_srv, redis_url, mounted = None, None, False
    if daemon == "processor" and kind == "paused":
        port = T.free_port()
        redis_srv = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        redis_url = "redis://127.0.0.1:%d/0" % port
        time.sleep(0.3)
    elif daemon == "processor":
        T.redis_db(DB).flushdb()
    elif kind == "paused":
        mounted = small_tmpfs(root)
    try:
        for _ in range(3):
            pr = start(daemon, topic, dlq, group, root, logname, redis_url)
            time.sleep(rng.uniform(0.5, 2.5))
            pr.kill()
            pr.wait()
        if mounted:
            fill(root)  # the killed instances made the table; the last one finds the disk full
        pr = start(daemon, topic, dlq, group, root, logname, redis_url)
        if redis_srv:
            time.sleep(wait - 2.0)
            redis_srv.kill()  # the processor pauses intake and retries
            redis_srv.wait()
            time.sleep(2.0)
        else:
            time.sleep(wait)
        if pr.poll() is not None:
            return "%s round %d: exited by itself with %s before the stop%s" % (
                daemon, n, pr.returncode, T.log_tail(pr))
        t0 = time.monotonic()
        pr.send_signal(signal.SIGTERM)
        try:
            rc = pr.wait(timeout=DRAIN_S)
        except subprocess.TimeoutExpired:
            pr.send_signal(signal.SIGABRT)  # a core or a stack for the log
            pr.wait()
            return "%s round %d (%s, stop at %.1f s): still running %d s after SIGTERM%s" % (
                daemon, n, kind, wait, DRAIN_S, T.log_tail(pr))
        took = time.monotonic() - t0
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        bad = [b for b in BAD_LOG if b in text]
        if rc != 0 or bad:
            return "%s round %d (%s, stop at %.1f s): exit %s%s%s" % (
                daemon, n, kind, wait, rc, ", log says " + ", ".join(bad) if bad else "",
                T.log_tail(pr, 40))
        T.log("%s round %d: %s, SIGTERM at %.1f s, exit 0 in %.1f s" % (daemon, n, kind, wait, took))
        return None
    finally:
        if redis_srv and redis_srv.poll() is None:
            redis_srv.kill()
            redis_srv.wait()
        if mounted:
            subprocess.run(["umount", root])
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--daemon", choices=["processor", "archiver", "both"], default="both")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--kind", choices=["rebalance", "early", "late", "paused"], default=None,
                    help="every round of this kind (default: a random mix)")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    T.log("seed %d (--seed %d repeats this plan)" % (seed, seed))
    topic = T.private_topic("gtp.stop", 6)
    dlq = T.private_topic("gtp.stop.dlq", 3)
    T.generate(topic, EVENTS, seed % 100000, 0.05)
    daemons = ["processor", "archiver"] if a.daemon == "both" else [a.daemon]
    failures = []
    probe = tempfile.mkdtemp(prefix="gtp-stop-probe-")
    can_mount = small_tmpfs(probe)
    if can_mount:
        subprocess.run(["umount", probe])
    else:
        T.log("cannot mount a tmpfs (not root?): the archiver's disk-full rounds are left out")
    os.rmdir(probe)
    t0 = time.monotonic()
    try:
        for d in daemons:
            passed = 0
            for n in range(1, a.rounds + 1):
                why = one_round(d, topic, dlq, rng, n, can_mount, a.kind)
                if why:
                    T.log("FAIL:", why)
                    failures.append(why)
                else:
                    passed += 1
            T.log("%s: %d of %d rounds passed" % (d, passed, a.rounds))
    finally:
        T.services("delete-topic", topic)
        T.services("delete-topic", dlq)
    T.log("%.0f s in all" % (time.monotonic() - t0))
    if failures:
        T.log("%d round(s) failed (seed %d)" % (len(failures), seed))
        sys.exit(1)
    T.log("ok")


if __name__ == "__main__":
    main()
