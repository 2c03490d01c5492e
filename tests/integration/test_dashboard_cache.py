"""gtp-dashboard's answer cache against a real Redis (docs/dashboard.md,
"Answer cache"): a private redis-server (DEBUG enabled) is stalled for 2 s
with DEBUG SLEEP. A warm key keeps being answered at once meanwhile (its
refresh waits on Redis in the background), while a cold key's request waits
for Redis, which shows the stall is real; afterwards the warm key's answer is
refreshed with no request computing it. Then 200 distinct parameter sets:
the number of cached keys stays at --cache-keys, the rest are evicted."""
import calendar
import os
import re
import shutil
import sys
import tempfile
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402
from test_dashboard import private_redis, request, start_dashboard, stop  # noqa: E402

HOUR = "2024-03-15-10"
CACHE_MS = 300
CACHE_KEYS = 16
STALL_S = 2
WARM = "/api/pulse?hours=24&top=5"


def metric(port, name):
    st, _, met = request(port, "/metrics")
    assert st == 200
    m = re.search(rb"^gtp_dashboard_%s (\S+)$" % name.encode(), met, re.M)
    assert m, name
    return float(m.group(1))


def timed(port, path):
    t0 = time.monotonic()
    st, _, body = request(port, path)
    return st, body, time.monotonic() - t0


def check_stall(port, r, rport):
    st, first, _ = timed(port, WARM)
    assert st == 200 and b"python" in first and b"rust" not in first, first
    time.sleep(CACHE_MS * 2 / 1000)  # the refresher has taken the key on
    assert metric(port, "cache_refreshes_total") >= 1
    misses0 = metric(port, "cache_misses_total")
    r.zadd("gtp:pulse:" + HOUR, {"rust": 500})  # the next answer differs

    staller = threading.Thread(target=lambda: redis.Redis(port=rport).execute_command(
        "DEBUG", "SLEEP", str(STALL_S)))
    cold = {}
    cold_req = threading.Thread(target=lambda: cold.update(
        zip(("st", "body", "secs"), timed(port, "/api/pulse?hours=12&top=5"))))
    t_stall = time.monotonic()
    staller.start()
    time.sleep(0.1)
    cold_req.start()
    # Let the cold request reach its HTTP worker first: a connection that worker accepts in
    # the same poll round waits behind the computation (docs/dashboard.md, "Answer cache").
    time.sleep(0.1)
    lat = []
    while time.monotonic() < t_stall + STALL_S - 0.2:
        st, body, secs = timed(port, WARM)
        assert st == 200 and body == first, (st, body[:200])
        lat.append(secs)
        time.sleep(0.02)
    lat.sort()
    n, worst = len(lat), lat[-1]
    staller.join()
    cold_req.join()
    # the control: a request that has to compute waits for the stalled Redis
    assert cold["st"] == 200 and cold["secs"] >= 1.0, cold
    # A warm key's request never did (a computation would have taken ~2 s). One request may
    # have been accepted by the HTTP worker thread that is computing the cold key and waited
    # behind it (docs/dashboard.md, "Answer cache"): at most one slow, the rest fast.
    assert n >= 10, "only %d warm requests during the stall: %r" % (n, lat)
    assert lat[-2] < 0.5 and lat[n // 2] < 0.1, \
        "warm requests during the stall: median %.3f s, two slowest %.3f / %.3f s" % (
            lat[n // 2], lat[-2], lat[-1])

    deadline = time.monotonic() + 5
    while True:
        st, body, _ = timed(port, WARM)
        if b"rust" in body:
            break
        assert time.monotonic() < deadline, "the warm answer was not refreshed after the stall"
        time.sleep(0.05)
    # only the cold key was computed by a request
    assert metric(port, "cache_misses_total") == misses0 + 1
    assert metric(port, "cache_stale_total") >= 1  # served past its 300 ms meanwhile
    T.log("redis stalled %d s: %d warm requests, slowest %.1f ms; a cold one waited %.2f s; "
          "refreshed afterwards" % (STALL_S, n, worst * 1000, cold["secs"]))


def check_bounded(port):
    ev0 = metric(port, "cache_evictions_total")
    n = 0
    for hours in range(1, 101):
        for top in (1, 2):
            st, _, _ = timed(port, "/api/pulse?hours=%d&top=%d" % (hours, top))
            assert st == 200
            n += 1
            if n % 50 == 0:
                assert metric(port, "cache_keys") <= CACHE_KEYS
    keys = metric(port, "cache_keys")
    ev = metric(port, "cache_evictions_total") - ev0
    assert keys == CACHE_KEYS, keys
    assert ev >= n - CACHE_KEYS, ev
    T.log("%d distinct parameter sets: %d keys cached, %d evicted" % (n, keys, ev))


def main():
    os.makedirs(os.path.join(T.BUILD, "test-logs"), exist_ok=True)
    rport = T.free_port()
    tmp = tempfile.mkdtemp(prefix="gtp-dash-cache-")
    red, _ = private_redis(rport, tmp, ("--enable-debug-command", "yes"))
    pr = None
    try:
        r = redis.Redis(port=rport)
        r.zadd("gtp:hours", {HOUR: calendar.timegm(time.strptime(HOUR, "%Y-%m-%d-%H"))})
        r.zadd("gtp:pulse:" + HOUR, {"python": 100, "sql": 50})
        pr, port = start_dashboard(
            "redis://127.0.0.1:%d/0" % rport, "dash-cache.log",
            ("--cache-ms", str(CACHE_MS), "--cache-keys", str(CACHE_KEYS),
             "--redis-timeout-ms", str((STALL_S + 3) * 1000)))
        check_stall(port, r, rport)
        check_bounded(port)
    finally:
        if pr:
            stop(pr)  # joins the refresher: a clean exit is checked there
        red.kill()
        red.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    T.log("ok")


if __name__ == "__main__":
    main()
