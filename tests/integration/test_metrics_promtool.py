"""Every daemon's /metrics passes `promtool check metrics` (the Prometheus
linter: base units, _total counters, HELP text, histogram shape), carries the
names docs/metrics.md promises, and answers /livez, /readyz and /healthz as
docs/programs.md says. Runs gtp-generator -> private topic -> gtp-processor
(private Redis DB) and gtp-archiver (temporary directory), plus gtp-dashboard,
against the real services; a second dashboard on a dead Redis shows readiness
and liveness apart."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

DB = int(os.environ.get("GTP_TEST_METRICS_DB", "9"))
PROMTOOL = shutil.which("promtool")

# Families each daemon must expose (besides the standard ones every daemon has).
WANT = {
    "generator": ["gtp_generator_events_total"],
    "processor": ["gtp_processor_flush_duration_seconds_bucket",
                  "gtp_processor_flush_last_seconds",
                  "gtp_processor_event_lag_seconds_bucket",
                  "gtp_processor_consumer_lag"],
    "archiver": ["gtp_archiver_roll_duration_seconds_bucket",
                 "gtp_archiver_roll_last_seconds",
                 "gtp_delta_checkpoint_last_seconds"],
    "dashboard": ["gtp_dashboard_http_request_duration_seconds_bucket",
                  "gtp_dashboard_redis_up"],
}
STANDARD = ["gtp_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_open_fds", "process_start_time_seconds"]


def get(port, path):
    st, body = T.http_get(port, path, timeout=10)
    if st is None:
        raise OSError(body)
    return st, body


def wait_http(pr, port, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert pr.poll() is None, T.died(pr, what)
        try:
            return get(port, "/metrics")
        except OSError:
            time.sleep(0.2)
    raise AssertionError("%s: no /metrics on port %d%s" % (what, port, T.log_tail(pr)))


def samples(text):
    """{series name (without labels): [values]} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
            assert m, "unparseable sample line: %r" % line
            out.setdefault(m.group(1), []).append(float(m.group(3)))
    return out


def check(what, port):
    status, text = get(port, "/metrics")
    assert status == 200, "%s /metrics: %d" % (what, status)
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    problems = (p.stdout + p.stderr).decode().strip()
    assert p.returncode == 0 and not problems, \
        "%s: promtool check metrics failed (exit %d):\n%s" % (what, p.returncode, problems)
    got = samples(text)
    for name in WANT[what] + STANDARD:
        assert name in got, "%s: %s missing from /metrics" % (what, name)
    assert got["gtp_build_info"] == [1.0]
    bad = [n for n in got if re.search(r"_(ms|us|microseconds|milliseconds)(_total)?$", n)]
    assert not bad, "%s: non-base units in %s" % (what, bad)
    for path in ("/livez", "/readyz", "/healthz"):
        st, body = get(port, path)
        assert st == 200, "%s %s: %d %s" % (what, path, st, body)
    if os.environ.get("GTP_TEST_METRICS_DUMP"):  # for writing docs/metrics.md
        with open(os.path.join(os.environ["GTP_TEST_METRICS_DUMP"], what + ".prom"), "w") as f:
            f.write(text)
    T.log("%s: promtool clean, %d series" % (what, sum(len(v) for v in got.values())))
    return got


def main():
    if not PROMTOOL:
        raise SystemExit("promtool not found: apt-get install prometheus (scripts/setup.sh)")
    topic = T.private_topic("gtp-promtool")
    tmp = tempfile.mkdtemp(prefix="gtp-promtool-")
    T.redis_db(DB).flushdb()
    procs = []
    try:
        ports = {w: T.free_port() for w in WANT}
        group = "gtp-promtool-" + uuid.uuid4().hex[:8]
        gen = T.spawn([T.binary("gtp-generator"), "-b", T.BROKERS, "-t", topic, "--rate", "2000",
                       "--seed", "7", "--chaos", "0.05",
                       "--metrics-port", str(ports["generator"])], "promtool-generator.log")
        proc = T.spawn([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic,
                        "--redis", T.redis_url(DB), "-g", group + "-p", "--flush-ms", "200",
                        "--metrics-port", str(ports["processor"])], "promtool-processor.log")
        arch = T.spawn([T.binary("gtp-archiver"), "-b", T.BROKERS, "-t", topic,
                        "-g", group + "-a", "--archive-dir", os.path.join(tmp, "silver"),
                        "--roll-seconds", "1", "--checkpoint-interval", "2",
                        "--metrics-port", str(ports["archiver"])], "promtool-archiver.log")
        dash = T.spawn([T.binary("gtp-dashboard"), "--listen",
                        "127.0.0.1:%d" % ports["dashboard"], "--redis", T.redis_url(DB)],
                       "promtool-dashboard.log")
        procs = [(gen, "generator"), (proc, "processor"), (arch, "archiver"),
                 (dash, "dashboard")]
        for pr, what in procs:
            wait_http(pr, ports[what], what)

        # Wait until every histogram has observations, so promtool sees the
        # bucket lines filled in, not just zeros.
        deadline = time.time() + 120
        while True:
            get(ports["dashboard"], "/api/stats")
            p = samples(get(ports["processor"], "/metrics")[1])
            a = samples(get(ports["archiver"], "/metrics")[1])
            if (p.get("gtp_processor_flush_duration_seconds_count", [0])[0] > 0
                    and p.get("gtp_processor_event_lag_seconds_count", [0])[0] > 0
                    and a.get("gtp_archiver_roll_duration_seconds_count", [0])[0] > 0):
                break
            for pr, what in procs:
                assert pr.poll() is None, T.died(pr, what)
            assert time.time() < deadline, "no flush/roll/lag observations within 120 s"
            time.sleep(0.5)

        for what in WANT:
            check(what, ports[what])

        # Readiness and liveness apart: Redis unreachable makes the dashboard
        # not ready (/readyz and /healthz 503) while it is live.
        dead = T.free_port()
        dport = T.free_port()
        dead_dash = T.spawn([T.binary("gtp-dashboard"), "--listen", "127.0.0.1:%d" % dport,
                             "--redis", "redis://127.0.0.1:%d/0" % dead], "promtool-dead.log")
        procs.append((dead_dash, "dashboard on a dead redis"))
        wait_http(dead_dash, dport, "dashboard on a dead redis")
        assert get(dport, "/readyz")[0] == 503
        assert get(dport, "/healthz")[0] == 503
        assert get(dport, "/livez")[0] == 200
        T.log("dead redis: /readyz 503, /healthz 503, /livez 200")

        for pr, what in procs:
            T.stop_daemon(pr, what)
        procs = []
    finally:
        for pr, _ in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        T.services("delete-topic", topic)
        T.redis_db(DB).flushdb()
    print("test_metrics_promtool: ok")


if __name__ == "__main__":
    main()
