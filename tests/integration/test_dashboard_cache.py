"""gtp-dashboard's answer cache against a real Redis (docs/dashboard.md,
"Answer cache"): a private redis-server (DEBUG enabled) is stalled for 2 s
with DEBUG SLEEP. A cold key's request and a stream of warm-key requests
start together on a dashboard with one HTTP worker thread: the cold request
waits for Redis (which shows the stall is real) with its connection
suspended, while every warm request is answered at once by that same worker
(its refresh waits on Redis in the background); a client that gives up on a
cold request meanwhile does no harm; afterwards the warm key's answer is
refreshed with no request computing it. /readyz is asked throughout the
stall too and answers at once (the main loop's last PING). Then 200 distinct parameter sets: the
number of cached keys stays at --cache-keys, the rest are evicted. Last, the
dashboard is stopped while a request waits for a stalled computation: it
exits cleanly and promptly."""
import calendar
import http.client
import os
import re
import shutil
import socket
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
WARM_CLIENTS = 3
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


def give_up(port, path):
    """Send a request and close the connection without reading the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())


def stall(rport, secs):
    """DEBUG SLEEP on a thread of its own; returns it once Redis sleeps."""
    t = threading.Thread(target=lambda: redis.Redis(port=rport).execute_command(
        "DEBUG", "SLEEP", str(secs)))
    t.start()
    time.sleep(0.1)
    return t


def check_stall(port, r, rport):
    st, first, _ = timed(port, WARM)
    assert st == 200 and b"python" in first and b"rust" not in first, first
    time.sleep(CACHE_MS * 2 / 1000)  # the refresher has taken the key on
    assert metric(port, "cache_refreshes_total") >= 1
    misses0 = metric(port, "cache_misses_total")
    r.zadd("gtp:pulse:" + HOUR, {"rust": 500})  # the next answer differs

    t_stall = time.monotonic()
    staller = stall(rport, STALL_S)
    # The cold request and the warm ones start together: with one HTTP worker, a computation
    # on it would hold up every one of them.
    go = threading.Barrier(2 + WARM_CLIENTS)
    cold, lat, errors, ready = {}, [], [], []

    def cold_client():
        go.wait()
        cold.update(zip(("st", "body", "secs"), timed(port, "/api/pulse?hours=12&top=5")))

    def warm_client():
        go.wait()
        while time.monotonic() < t_stall + STALL_S - 0.2:
            st, body, secs = timed(port, WARM)
            if st != 200 or body != first:
                errors.append((st, body[:200]))
            lat.append(secs)
            time.sleep(0.01)

    def ready_client():
        """/readyz answers the main loop's last PING: it never waits for Redis either."""
        go.wait()
        while time.monotonic() < t_stall + STALL_S - 0.2:
            st, _, secs = timed(port, "/readyz")
            ready.append((secs, st))
            time.sleep(0.05)

    clients = [threading.Thread(target=cold_client), threading.Thread(target=ready_client)] + [
        threading.Thread(target=warm_client) for _ in range(WARM_CLIENTS)]
    for c in clients:
        c.start()
    time.sleep(0.2)
    give_up(port, "/api/pulse?hours=6&top=5")  # another cold key, its client gone at once
    for c in clients:
        c.join()
    staller.join()
    # the control: a request that has to compute waits for the stalled Redis
    assert cold["st"] == 200 and cold["secs"] >= 1.0, cold
    # A warm key's request never did (a computation would have taken ~2 s), nor waited behind
    # the cold one on the worker thread they share: every one is fast.
    lat.sort()
    n = len(lat)
    assert n >= 20, "only %d warm requests during the stall: %r" % (n, lat)
    assert lat[-1] < 0.3 and lat[n // 2] < 0.1, \
        "%d warm requests during the stall: median %.3f s, slowest %.3f s (%r)" % (
            n, lat[n // 2], lat[-1], [round(x, 3) for x in lat[-5:]])
    assert not errors, errors[:3]  # each was the answer cached before the stall
    ready.sort()
    assert len(ready) >= 10 and ready[-1][0] < 0.3, "/readyz during the stall: %r" % ready[-5:]
    assert all(st in (200, 503) for _, st in ready), ready

    deadline = time.monotonic() + 5
    while True:
        st, body, _ = timed(port, WARM)
        if b"rust" in body:
            break
        assert time.monotonic() < deadline, "the warm answer was not refreshed after the stall"
        time.sleep(0.05)
    # only the two cold keys were computed for a request, the abandoned one too
    assert metric(port, "cache_misses_total") == misses0 + 2
    st, body, secs = timed(port, "/api/pulse?hours=6&top=5")
    assert st == 200 and secs < 0.3, (st, secs)
    assert metric(port, "cache_misses_total") == misses0 + 2  # the abandoned answer was kept
    assert metric(port, "cache_stale_total") >= 1  # served past its 300 ms meanwhile
    T.log("redis stalled %d s: %d warm requests on the one worker, median %.1f ms, slowest "
          "%.1f ms; %d /readyz, slowest %.1f ms; a cold one waited %.2f s; refreshed "
          "afterwards" % (STALL_S, n, lat[n // 2] * 1000, lat[-1] * 1000, len(ready),
                          ready[-1][0] * 1000, cold["secs"]))


def check_header_room(port):
    """32 KiB per connection (docs/dashboard.md, "Limits"): 12 KB of headers
    fit, 40 KB are refused with 431."""
    for size, want in ((12000, 200), (40000, 431)):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.putrequest("GET", WARM, skip_accept_encoding=True)
        c.putheader("Cookie", "x=" + "a" * size)
        c.endheaders()
        st = c.getresponse().status
        c.close()
        assert st == want, (size, st, want)


def check_stop_while_waiting(pr, port, rport):
    """SIGTERM while a request is parked on a stalled computation: the daemon
    resumes it (503, or the connection closes) and exits 0, without waiting for
    the stall to end before it stops answering."""
    staller = stall(rport, STALL_S)
    got = {}

    def cold_client():
        try:
            got.update(zip(("st", "body", "secs"), timed(port, "/api/pulse?hours=3&top=5")))
        except (OSError, http.client.HTTPException) as e:
            got["error"] = repr(e)

    t = threading.Thread(target=cold_client)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    stop(pr)
    t.join()
    staller.join()
    assert "error" in got or (got["st"] == 503 and b"shutting down" in got["body"]), got
    T.log("stopped while a request waited on a stalled redis: exit 0 after %.2f s, the "
          "request %s" % (time.monotonic() - t0, got.get("error") or got["st"]))


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
            ("--cache-ms", str(CACHE_MS), "--cache-keys", str(CACHE_KEYS), "--threads", "1",
             "--redis-timeout-ms", str((STALL_S + 3) * 1000)))
        check_stall(port, r, rport)
        check_bounded(port)
        check_header_room(port)
        check_stop_while_waiting(pr, port, rport)
        pr = None
    finally:
        if pr:
            stop(pr)  # joins the refresher: a clean exit is checked there
        red.kill()
        red.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    T.log("ok")


if __name__ == "__main__":
    main()
