"""Fault injection against the whole live pipeline (issue 9, acceptance 2): gtp-generator
produces a seeded chaotic stream (--chaos 0.2) into a private topic while gtp-processor
(Redis db 3) and gtp-archiver (archive on a small tmpfs) consume it, and faults hit them
mid-stream:

  kafka          the broker stopped ~10 s, then started again (scripts/services.sh)
  redis          Redis stopped ~10 s, then started again (AOF: its data survives)
  kill-processor SIGKILL of the processor at 3 random moments, restarted each time
  kill-archiver  SIGKILL of the archiver at 3 random moments, restarted each time
  disk-full      the archive's file system filled with a ballast file: the archiver must
                 report it (/metrics disk errors, /healthz 503), stay alive, and resume
                 when the ballast is removed
  burst          the generator at 10x the normal rate for half of the round

and, in soak mode only, combined faults:

  kafka-kill     both daemons SIGKILLed and restarted while the broker is down
  redis-kill     the processor SIGKILLed and restarted while Redis is down
  disk-full-kill the archiver SIGKILLed and restarted on the full disk: its start-up must
                 wait for space and report it (/healthz 503)
  none           no fault

Each fault is one round of a continuing stream; after every round both daemons must
reach the end of the topic and then equal an independent model of the whole topic so
far (gtptest.Model, fed only the new messages): every trend:* key and the stats in
Redis, the archive read by pyarrow, DuckDB and deltalake (every column), no temp or
unreferenced file in the archive, and each daemon's DLQ holding exactly the rejects.

The generator keeps producing through the Kafka outage (librdkafka buffers and
retries). Should it give up and exit non-zero, nothing is re-sent: the model is
computed from what the topic holds, so an event the generator lost is simply not
expected; the round's log says so.

Short mode (no --minutes, what CTest runs): each fault once, in the order above.
Soak mode: --minutes N runs rounds with a random fault (any of the above) at a random
moment and a random stream size until N minutes have passed (the round under way then
finishes), then prints a per-fault summary.

  scripts/py tests/integration/test_faults.py [--seed S] [--minutes N] [--events N]
                                              [--rate R] [fault ...]

The seed drives every random choice (generator seeds, fault moments, soak plan); it is
printed at the start and on failure (fault moments also depend on timing, so a rerun
repeats the plan and the stream, not the exact interleaving). Services are found through
GTP_TEST_BROKERS / GTP_TEST_REDIS_PORT; scripts/services.sh must manage the same ones
(GTP_KAFKA_PORT, GTP_KAFKA_CONTROLLER_PORT, GTP_REDIS_PORT), defaults 9092/6379."""
import argparse
import collections
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402
import test_archiver_exact as A  # noqa: E402
import test_processor_exact as P  # noqa: E402

FAULTS = ["kafka", "redis", "kill-processor", "kill-archiver", "disk-full", "burst"]
SOAK_ONLY = ["disk-full-kill", "kafka-kill", "redis-kill", "none"]
DB = 3
READERS = ("pyarrow", "duckdb", "deltalake")
SPEED = 600           # simulated seconds per wall second: a round spans a few simulated hours
# Round n's simulated clock starts n weeks after this (a Friday morning): every round meets
# the same daily and weekly cycle (so the same rate), and never starts behind the end of
# the previous one (which would make most of it late).
SIM_START = 1710493200  # 2024-03-15T09:00:00Z
WEEK = 7 * 86400
TMPFS_SIZE = "256m"
LOGS = os.path.join(T.BUILD, "test-logs")
KAFKA_PORT = int(T.BROKERS.split(",")[0].rsplit(":", 1)[1])


def check_ports():
    """The tests' services must be the ones scripts/services.sh stops and starts."""
    svc_kafka = int(os.environ.get("GTP_KAFKA_PORT", "9092"))
    svc_redis = int(os.environ.get("GTP_REDIS_PORT", "6379"))
    if KAFKA_PORT != svc_kafka or T.REDIS_PORT != svc_redis:
        raise SystemExit("test_faults: the tests use kafka %s and redis port %d, but "
                         "scripts/services.sh manages ports %d and %d: set GTP_KAFKA_PORT / "
                         "GTP_REDIS_PORT to match GTP_TEST_BROKERS / GTP_TEST_REDIS_PORT" % (
                             T.BROKERS, T.REDIS_PORT, svc_kafka, svc_redis))


def port_open(port):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def http_get(port, path):
    """(status, body) of a daemon's endpoint; (None, reason) when it does not answer."""
    return T.http_get(port, path)


def metric(port, name):
    status, body = http_get(port, "/metrics")
    if status != 200:
        return None
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_for(what, cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("%s: not within %ds" % (what, timeout))


class Pipeline:
    """The private topic, both daemons, their state, and the model of what they must hold."""

    def __init__(self, rnd, rate):
        self.rnd = rnd
        self.rate = rate
        self.topic, self.dlq = None, {}
        self.mnt, self.mounted = None, False
        self.rounds = 0
        self.model = T.Model()
        self.ends = {}
        self.procs = {}
        self.ports = {}
        self.gen, self.stopping = None, False

    def setup(self):
        """Separate from __init__ so that cleanup() undoes a half-done set-up."""
        self.topic = T.private_topic("test.faults")
        self.dlq = {"processor": T.private_topic("test.faults.dlqp", 3),
                    "archiver": T.private_topic("test.faults.dlqa", 3)}
        self.group = {"processor": "gtp-processor-faults-" + uuid.uuid4().hex[:8],
                      "archiver": "gtp-archiver-faults-" + uuid.uuid4().hex[:8]}
        T.redis_db(DB).flushdb()
        self.mnt = tempfile.mkdtemp(prefix="gtp-faults-")
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "gtp-faults",
                              self.mnt], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.mounted = res.returncode == 0
        if not self.mounted:
            T.log("cannot mount a tmpfs on %s (%s): archive on the ordinary disk, the disk-full "
                  "fault is skipped" % (self.mnt, res.stdout.decode().strip() or res.returncode))
        self.root = os.path.join(self.mnt, "archive")
        self.ballast = os.path.join(self.mnt, "ballast")
        self.start("processor")
        self.start("archiver")

    # ---- daemons ------------------------------------------------------------------------

    def start(self, which):
        port = T.free_port()
        logf = open(os.path.join(LOGS, "faults-%s.log" % which), "ab")
        common = ["-b", T.BROKERS, "-t", self.topic, "--dlq-topic", self.dlq[which],
                  "-g", self.group[which], "--metrics-port", str(port)]
        if which == "processor":
            cmd = [T.binary("gtp-processor"), *common, "--redis", T.redis_url(DB)]
        else:
            cmd = [T.binary("gtp-archiver"), *common, "--archive-dir", self.root,
                   "--roll-seconds", "10"]
        env = dict(os.environ)
        env.pop("GTP_ARCHIVER_FAILPOINT", None)
        self.procs[which] = subprocess.Popen(cmd, stdout=logf, stderr=logf, env=env)
        self.ports[which] = port
        logf.close()

    def alive(self, when):
        for which, pr in self.procs.items():
            if pr.poll() is not None:
                raise AssertionError("%s exited %s %s (see %s)" % (
                    which, pr.returncode, when, os.path.join(LOGS, "faults-%s.log" % which)))

    def kill(self, which):
        self.procs[which].kill()
        self.procs[which].wait()

    def stop(self):
        """SIGTERM both: a graceful stop must still work after all the faults."""
        rcs = {}
        for which, pr in self.procs.items():
            if pr.poll() is None:
                pr.send_signal(signal.SIGTERM)
        for which, pr in self.procs.items():
            try:
                rcs[which] = pr.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pr.kill()
                rcs[which] = pr.wait()
        return rcs

    # ---- the stream ---------------------------------------------------------------------

    def produce(self, phases):
        """Run generator phases [(count, events per wall second)] one after the other in a
        thread, each with its own seed and a simulated clock continuing the stream.
        Returns (thread, results: [(count, rate, seed, exit code)])."""
        plan = []
        sim = SIM_START + self.rounds * WEEK
        self.rounds += 1
        for count, rate in phases:
            plan.append((count, rate, self.rnd.randrange(1, 1 << 62), sim))
            sim += int(count / rate * SPEED * 1.5) + 60
        results = []

        def run():
            logf = open(os.path.join(LOGS, "faults-generator.log"), "ab")
            for count, rate, seed, start in plan:
                cmd = [T.binary("gtp-generator"), "-b", T.BROKERS, "-t", self.topic,
                       "--count", str(count), "--seed", str(seed), "--chaos", "0.2",
                       "--rate", "%g" % (rate / SPEED), "--speed", str(SPEED),
                       "--start", iso(start), "--metrics-port", "0"]
                if self.stopping:
                    break
                self.gen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf)
                results.append((count, rate, seed, self.gen.wait()))
            logf.close()

        th = threading.Thread(target=run, daemon=True)
        th.start()
        return th, results

    # ---- checks -------------------------------------------------------------------------

    def check(self, name, readers):
        """Both daemons at the end of the topic, then equal to the model of all of it."""
        t0 = time.time()
        msgs, ends = T.read_topic(self.topic, starts=self.ends)
        exp = self.model.feed(msgs)
        self.ends = ends
        r = T.redis_db(DB)
        T.wait_caught_up(r, self.topic, ends, procs=[self.procs["processor"]])
        A.wait_archived(self.root, self.topic, ends, procs=[self.procs["archiver"]])
        t1 = time.time()
        P.check(name, self.topic, self.dlq["processor"], DB, exp, ends)
        A.check(name, self.root, self.topic, self.dlq["archiver"], exp, readers)
        tmp = [f for f in os.listdir(os.path.join(self.root, "_delta_log"))
               if f.endswith(".tmp")]
        assert not tmp, "%s: temp files left in _delta_log: %s" % (name, tmp[:5])
        self.alive("after the checks")
        return t1 - t0, time.time() - t1


# ---- faults: each runs while the round's stream flows, returns when the fault is over ----

def fault_none(pl, rnd, gen):
    pass


def fault_kafka(pl, rnd, gen, kill=False):
    time.sleep(rnd.uniform(2, 6))
    T.log("kafka: stopping the broker")
    T.services("stop-kafka")
    assert not port_open(KAFKA_PORT), \
        "the broker still answers on %d: not this tree's (scripts/services.sh)" % KAFKA_PORT
    outage = rnd.uniform(8, 12)
    if kill:
        # both daemons killed and restarted while the broker is away: their start-up waits
        # for it (--startup-timeout, 30 s, is longer than the outage)
        time.sleep(outage / 2)
        T.log("kafka: SIGKILL of both daemons, restarted while the broker is down")
        for which in ("processor", "archiver"):
            pl.kill(which)
            pl.start(which)
        time.sleep(outage / 2)
    else:
        time.sleep(outage)
    pl.alive("while kafka was down")
    T.log("kafka: starting the broker again after %.1f s" % outage)
    T.services("start-kafka")


def fault_redis(pl, rnd, gen, kill=False):
    time.sleep(rnd.uniform(2, 6))
    T.log("redis: stopping redis")
    t0 = time.time()
    T.services("stop-redis")
    assert not port_open(T.REDIS_PORT), \
        "redis still answers on %d: not this tree's (scripts/services.sh)" % T.REDIS_PORT
    port = pl.ports["processor"]
    wait_for("processor /healthz 503 while redis is down",
             lambda: http_get(port, "/healthz")[0] == 503, 10)
    assert metric(port, "gtp_processor_redis_up") == 0
    if kill:
        # killed and restarted while redis is away: its start-up waits for redis
        time.sleep(rnd.uniform(1, 3))
        T.log("redis: SIGKILL of the processor, restarted while redis is down")
        pl.kill("processor")
        pl.start("processor")
        port = pl.ports["processor"]
    time.sleep(max(0.0, rnd.uniform(8, 12) - (time.time() - t0)))
    pl.alive("while redis was down")
    T.log("redis: starting redis again after %.1f s" % (time.time() - t0))
    T.services("start-redis")
    wait_for("processor /healthz 200 after redis came back",
             lambda: http_get(port, "/healthz")[0] == 200, 30)


def fault_kill(which):
    def run(pl, rnd, gen):
        for i in range(3):
            time.sleep(rnd.uniform(0.3, 4.0))
            T.log("%s: SIGKILL %d" % (which, i + 1))
            pl.kill(which)
            time.sleep(rnd.uniform(0.0, 1.0))
            pl.start(which)
    return run


def fault_burst(pl, rnd, gen):
    """The burst itself is in the round's phases; record how far the daemons fell behind."""
    lag = {"processor": 0, "archiver": 0}
    while gen.is_alive():
        for which, name in (("processor", "gtp_processor_consumer_lag"),
                            ("archiver", "gtp_archiver_consumer_lag")):
            lag[which] = max(lag[which], metric(pl.ports[which], name) or 0)
        time.sleep(0.5)
    T.log("burst: peak consumer lag: processor %d, archiver %d messages" % (
        lag["processor"], lag["archiver"]))


def fault_disk_full(pl, rnd, gen, kill=False):
    if not pl.mounted:
        T.log("disk-full: SKIPPED (no tmpfs could be mounted; run as root to test it)")
        return
    port = pl.ports["archiver"]
    before = metric(port, "gtp_archiver_disk_errors_total") or 0
    time.sleep(rnd.uniform(1, 4))
    st = os.statvfs(pl.mnt)
    free = st.f_bavail * st.f_frsize
    fd = os.open(pl.ballast, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    try:
        os.posix_fallocate(fd, 0, free)
    finally:
        os.close(fd)
    st = os.statvfs(pl.mnt)
    T.log("disk-full: ballast of %d MiB, %d bytes left" % (free >> 20, st.f_bavail * st.f_frsize))
    wait_for("archiver reporting the full disk (disk errors counter, /healthz 503)",
             lambda: (metric(port, "gtp_archiver_disk_errors_total") or 0) > before and
             http_get(port, "/healthz")[0] == 503, 30)
    full_for = rnd.uniform(4, 8)
    time.sleep(full_for)
    pl.alive("while the archive disk was full")
    # A reader never sees a partial file: every visible Parquet file is complete now.
    import pyarrow.parquet as pq
    visible = 0
    for dirpath, dirnames, files in os.walk(pl.root):
        for f in files:
            if f.endswith(".parquet") and not f.startswith("."):
                pq.read_metadata(os.path.join(dirpath, f))
                visible += 1
    errors = metric(port, "gtp_archiver_disk_errors_total") - before
    T.log("disk-full: %d failed writes/commits in %.1f s, the %d visible files complete" % (
        errors, full_for, visible))
    if kill:
        # killed while the disk is full, restarted while it still is: the start-up (log
        # replay, fencing commit, clean-up) must wait for space, not fail
        T.log("disk-full: SIGKILL of the archiver, restarted on the full disk")
        pl.kill("archiver")
        pl.start("archiver")
        port = pl.ports["archiver"]
        # past the group's session timeout (10 s): the new instance gets its partitions,
        # reads the log and must commit its fencing commit on the full disk
        time.sleep(rnd.uniform(14, 18))
        pl.alive("restarted on the full disk")
        wait_for("restarted archiver reporting the full disk (/healthz 503)",
                 lambda: http_get(port, "/healthz")[0] == 503, 10)
        T.log("disk-full: the restarted archiver waits, /healthz 503, %d disk errors" % (
            metric(port, "gtp_archiver_disk_errors_total") or 0))
    T.log("disk-full: removing the ballast")
    os.unlink(pl.ballast)
    wait_for("archiver /healthz 200 once space is back",
             lambda: http_get(port, "/healthz")[0] == 200, 30)


FAULT_FNS = {"none": fault_none, "kafka": fault_kafka, "redis": fault_redis,
             "kill-processor": fault_kill("processor"), "kill-archiver": fault_kill("archiver"),
             "disk-full": fault_disk_full, "burst": fault_burst,
             "disk-full-kill": lambda pl, rnd, gen: fault_disk_full(pl, rnd, gen, kill=True),
             "kafka-kill": lambda pl, rnd, gen: fault_kafka(pl, rnd, gen, kill=True),
             "redis-kill": lambda pl, rnd, gen: fault_redis(pl, rnd, gen, kill=True)}


def run_round(pl, rnd, n, fault, events, readers):
    t0 = time.time()
    rate = pl.rate
    if fault == "burst":
        phases = [(events // 4, rate), (events // 2, rate * 10), (events - events // 4 * 3, rate)]
    else:
        phases = [(events, rate)]
    T.log("round %d: %s, %d events (%s)" % (
        n, fault, events, ", ".join("%d at %g/s" % p for p in phases)))
    th, results = pl.produce(phases)
    FAULT_FNS[fault](pl, rnd, th)
    th.join(timeout=600)
    assert not th.is_alive(), "generator still running after 600 s"
    for count, r, seed, rc in results:
        if rc != 0:
            if not fault.startswith("kafka"):
                raise AssertionError("generator (seed %d) exited %d" % (seed, rc))
            T.log("round %d: generator (seed %d, %d events) exited %d during the outage; "
                  "the model takes what reached the topic" % (n, seed, count, rc))
    t_stream = time.time() - t0
    pl.alive("after the fault")
    t_catch, t_check = pl.check("round %d (%s)" % (n, fault), readers)
    exp = pl.model.exp
    total = time.time() - t0
    T.log("round %d (%s) exact after %.1f s: stream+fault %.1f s, catch-up %.1f s, checks "
          "%.1f s; so far %d events, %d rejected, %d late, %d duplicates, %d trend keys, %d rows"
          % (n, fault, total, t_stream, t_catch, t_check, exp.events, len(exp.rejected),
             exp.late, exp.duplicates, len(exp.counts), len(exp.archived)))
    return total


def cleanup(pl):
    # Whatever happened, leave the services running for the tests that follow.
    for args in (("start-kafka",), ("start-redis",)):
        try:
            T.services(*args)
        except subprocess.CalledProcessError as e:
            T.log("cleanup: services.sh %s failed: %s" % (args[0], e))
    if pl is None:
        return
    pl.stopping = True
    T.kill_all([*pl.procs.values(), pl.gen])
    if os.environ.get("GTP_TEST_KEEP"):
        T.log("kept the archive in %s (unmount it yourself)" % pl.mnt)
        return
    if pl.mounted:
        subprocess.run(["umount", pl.mnt])
    if pl.mnt:
        shutil.rmtree(pl.mnt, ignore_errors=True)
    topics = [t for t in [pl.topic, *pl.dlq.values()] if t]
    if not topics:
        return
    try:
        from confluent_kafka.admin import AdminClient
        admin = AdminClient({"bootstrap.servers": T.BROKERS})  # alive until the results
        futures = admin.delete_topics(topics, operation_timeout=30)
        for f in futures.values():
            f.result(timeout=60)
    except Exception as e:  # noqa: BLE001 - best effort: topics are private and unique
        T.log("cleanup: could not delete the topics: %s" % e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--minutes", type=float, default=0, help="soak mode: run this long")
    ap.add_argument("--events", type=int, default=int(os.environ.get("GTP_TEST_EVENTS", 20000)),
                    help="events per round (soak: the mean)")
    ap.add_argument("--rate", type=float, default=1000, help="normal events per wall second")
    ap.add_argument("faults", nargs="*", help="short mode: these faults in this order")
    args = ap.parse_args()
    for f in args.faults:
        if f not in FAULT_FNS:
            ap.error("unknown fault %s (known: %s)" % (f, " ".join(FAULT_FNS)))
    check_ports()

    # a stopped run still restarts the services, unmounts its tmpfs and kills its daemons
    T.exit_on_signals()
    seed = T.run_seed(args.seed)
    rnd = random.Random(seed)
    os.makedirs(LOGS, exist_ok=True)
    T.log("fault suite, seed %d (reproduce: scripts/py %s --seed %d%s)" % (
        seed, os.path.relpath(__file__, T.ROOT), seed,
        " --minutes %g" % args.minutes if args.minutes else ""))
    pl = None
    n = 0
    fault = None
    readers = None
    summary = collections.OrderedDict()
    t_start = time.time()
    try:
        pl = Pipeline(rnd, args.rate)
        pl.setup()
        if args.minutes:
            plan = None
        else:
            plan = args.faults or FAULTS
        while True:
            if plan is not None:
                if n >= len(plan):
                    break
                fault, events = plan[n], args.events
            else:
                if time.time() - t_start >= args.minutes * 60:
                    break
                fault = rnd.choice(FAULTS + SOAK_ONLY)
                events = int(args.events * rnd.uniform(0.5, 1.5))
            if fault.startswith("disk-full") and not pl.mounted:
                T.log("round %d: disk-full SKIPPED: no tmpfs (needs root); running it without "
                      "the fault" % (n + 1))
            n += 1
            # deltalake takes ~7 ms per file (the archive holds thousands of small ones):
            # pyarrow and DuckDB every round, deltalake every 5th and in the final check
            readers = READERS if n % 5 == 0 else READERS[:2]
            took = run_round(pl, rnd, n, fault, events, readers)
            s = summary.setdefault(fault, [0, 0.0, 0.0])
            s[0] += 1
            s[1] += took
            s[2] = max(s[2], took)
        if readers != READERS:
            fault = "final check"
            T.log("final check with every reader")
            pl.check("final", READERS)
        rcs = pl.stop()
        assert all(rc == 0 for rc in rcs.values()), "graceful stop at the end: %s" % rcs
    except BaseException:
        traceback.print_exc()
        T.log("FAILED in round %d (%s); seed %d: scripts/py %s --seed %d%s" % (
            n, fault, seed, os.path.relpath(__file__, T.ROOT), seed,
            " --minutes %g" % args.minutes if args.minutes else ""))
        cleanup(pl)
        sys.exit(1)
    exp = pl.model.exp
    cleanup(pl)
    print("fault suite: %d rounds in %.0f s, seed %d, exact after every round" % (
        n, time.time() - t_start, seed))
    print("%-15s %6s %9s %9s" % ("fault", "rounds", "mean s", "max s"))
    for f, (k, tot, mx) in summary.items():
        print("%-15s %6d %9.1f %9.1f" % (f, k, tot / k, mx))
    print("stream: %d events, %d rejected, %d late, %d duplicates, %d trend keys, %d archived rows"
          % (exp.events, len(exp.rejected), exp.late, exp.duplicates, len(exp.counts),
             len(exp.archived)))
    T.log("ok")


if __name__ == "__main__":
    main()
