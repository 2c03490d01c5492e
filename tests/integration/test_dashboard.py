"""gtp-dashboard against a real Redis seeded by the real pipeline (issue 6):
gtp-generator -> private topic (+ hostile postings) -> gtp-processor -> a
private Redis DB. The APIs must equal sums of the trend:* keys computed here
independently (the test may SCAN; the server may not), /api/stats must equal
gtp:stats, the security rules must hold, and headless Chromium must draw the
5 pulse series and a coloured map without running any injected markup."""
import calendar
import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import gtptest as T  # noqa: E402

DB = int(os.environ.get("GTP_TEST_DASHBOARD_DB", "7"))
COUNT = int(os.environ.get("GTP_TEST_EVENTS", "24000"))
TITLE = "Global Talent Pulse"
NODATA = "#e6e8eb"
TOPICS = []  # private topics, deleted at the end
HOSTILE = [
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "\"><svg onload=\"document.title='pwned'\">",
]


def start_dashboard(redis_url, log_name, extra=()):
    port = T.free_port()
    pr = T.spawn([T.binary("gtp-dashboard"), "--listen", "127.0.0.1:%d" % port,
                  "--redis", redis_url, *extra], log_name)
    T.wait_listening(pr, port, "dashboard")
    return pr, port


def stop(pr):
    T.stop_daemon(pr, "dashboard", timeout=30)


def private_redis(rport, tmp, extra=()):
    """A redis-server of the test's own on 127.0.0.1:rport (data in tmp), once it
    accepts connections. Returns (Popen, its command line, to start it again)."""
    rcmd = ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", tmp, *extra]
    red = subprocess.Popen(rcmd, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", rport), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return red, rcmd


def request(port, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def get_json(port, path, status=200):
    st, hdr, body = request(port, path)
    assert st == status, "%s: status %s, want %s: %r" % (path, st, status, body[:200])
    assert hdr.get("content-type", "").startswith("application/json"), (path, hdr)
    return json.loads(body)


# ---- the pipeline --------------------------------------------------------------------

def hostile_events(n):
    """Postings whose title/company/location carry markup; valid events."""
    out = []
    for i in range(n):
        h = HOSTILE[i % len(HOSTILE)]
        out.append(json.dumps({
            "event_id": str(uuid.uuid4()), "timestamp": "2024-03-15T%02d:%02d:00Z" % (
                6 + i % 12, i % 60), "source": h,
            "payload": {"job_id": "x%d" % i, "title": "Senior Python Engineer " + h,
                        "company": h, "location": h, "description": "Python and SQL " + h,
                        "is_remote": False}}).encode())
    return out


def seed():
    from confluent_kafka import Producer
    topic = T.private_topic("test.dash")
    dlq = T.private_topic("test.dash.dlq", 3)
    TOPICS.extend([topic, dlq])
    r = T.redis_db(DB)
    r.flushdb()
    # ~0.2 events per simulated second: the stream spans more than 24 h
    T.generate(topic, COUNT, 41, 0.05, ("--rate", "0.2", "--speed", "10000000"))
    p = Producer({"bootstrap.servers": T.BROKERS})
    for v in hostile_events(60):
        p.produce(topic, v)
    assert p.flush(30) == 0
    _, ends = T.read_topic(topic)
    pr = T.spawn([T.binary("gtp-processor"), "-b", T.BROKERS, "-t", topic,
                  "--dlq-topic", dlq, "--redis", T.redis_url(DB),
                  "-g", "gtp-dash-test-" + uuid.uuid4().hex[:8], "--metrics-port", "0",
                  "--flush-ms", "100"], "dash-processor.log")
    T.wait_caught_up(r, topic, ends, procs=[pr])
    pr.send_signal(signal.SIGTERM)
    assert pr.wait(timeout=60) == 0
    return r


# ---- the independent model ----------------------------------------------------------------

def model(r):
    counts = T.trend_counts(r)
    assert counts, "the processor wrote no trend keys"
    cells = {}
    for k, v in counts.items():
        _, skill, region, hour = k.split(":")
        cells[(skill, region.upper(), hour)] = v
    return cells


def window(cells, n):
    newest = max(h for _, _, h in cells)
    t = calendar.timegm(time.strptime(newest, "%Y-%m-%d-%H"))
    return [time.strftime("%Y-%m-%d-%H", time.gmtime(t - 3600 * (n - 1 - i))) for i in range(n)]


def ranked(d):
    return sorted(((k, v) for k, v in d.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))


def check_pulse(port, cells, hours, top):
    got = get_json(port, "/api/pulse?hours=%d&top=%d" % (hours, top))
    labels = window(cells, hours)
    assert got["hours"] == labels, (got["hours"][:3], labels[:3])
    per = {}
    for (s, _, h), v in cells.items():
        if h in labels:
            per.setdefault(s, [0] * hours)[labels.index(h)] += v
    want = ranked({s: sum(c) for s, c in per.items()})[:top]
    assert [s["skill"] for s in got["series"]] == [s for s, _ in want], (
        [(s["skill"], s["total"]) for s in got["series"]], want)
    for s in got["series"]:
        assert s["counts"] == per[s["skill"]], s["skill"]
        assert s["total"] == sum(per[s["skill"]])
        assert s["name"], s
    return got


def check_heatmap(port, cells, hours, skill=None):
    q = "/api/heatmap?hours=%d" % hours + ("&skill=%s" % skill if skill else "")
    got = get_json(port, q)
    labels = window(cells, hours)
    assert got["hours"] == [labels[0], labels[-1]]
    assert got["skill"] == skill
    regions, by_skill, all_regions = {}, {}, {}
    for (s, reg, h), v in cells.items():
        if h not in labels:
            continue
        all_regions[reg] = all_regions.get(reg, 0) + v
        by_skill[s] = by_skill.get(s, 0) + v
        if skill is None or s == skill:
            regions[reg] = regions.get(reg, 0) + v
    want = ranked(regions)
    assert [(x["region"], x["count"]) for x in got["regions"]] == want, (got["regions"][:5],
                                                                          want[:5])
    g = got["grid"]
    assert g["skills"] == [s for s, _ in ranked(by_skill)[:10]]
    assert g["regions"] == [reg for reg, _ in ranked(all_regions)[:12]]
    for i, s in enumerate(g["skills"]):
        for j, reg in enumerate(g["regions"]):
            want_v = sum(v for (s2, r2, h), v in cells.items()
                         if s2 == s and r2 == reg and h in labels)
            assert g["counts"][i][j] == want_v, (s, reg, g["counts"][i][j], want_v)
    return got


def check_stats(port, r):
    got = get_json(port, "/api/stats")
    raw = {k.decode(): v.decode() for k, v in r.hgetall("gtp:stats").items()}
    for f in ("events_total", "valid_total", "rejected_total", "counted_total", "late_total",
              "duplicates_total", "mentions_total"):
        assert got[f] == int(raw.get(f, 0)), (f, got[f], raw.get(f))
    reasons = {k[9:]: int(v) for k, v in raw.items() if k.startswith("rejected:")}
    assert got["rejected_by_reason"] == reasons, (got["rejected_by_reason"], reasons)
    assert got["events_total"] > 0 and got["rejected_total"] > 0
    le = int(raw["last_event_us"]) // 1000000
    assert got["last_event_time"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(le)))
    age = time.time() - int(raw["last_flush_ms"]) / 1000
    assert abs(got["freshness_seconds"] - age) < 5, (got["freshness_seconds"], age)


# ---- hardening ----------------------------------------------------------------------------

def check_security(port):
    for path in ("/", "/app.js", "/api/pulse", "/api/nope", "/api/pulse?hours=-1"):
        st, h, _ = request(port, path)
        csp = h.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (path, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert h.get("x-content-type-options") == "nosniff", path
        assert h.get("x-frame-options") == "DENY", path
        assert h.get("referrer-policy") == "no-referrer", path
    st, h, _ = request(port, "/", "HEAD")
    assert st == 200
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        st, h, body = request(port, "/api/pulse", m)
        assert st == 405, (m, st)
        assert "GET" in h.get("allow", ""), (m, h)
        assert "error" in json.loads(body)
    for q in ("/api/pulse?hours=-1", "/api/pulse?hours=99999", "/api/pulse?top=abc",
              "/api/pulse?hours=0", "/api/pulse?hours=169", "/api/pulse?top=21",
              "/api/pulse?hours=", "/api/pulse?hours=1e3", "/api/pulse?hours=%2024",
              "/api/heatmap?hours=x", "/api/heatmap?skill=%3Cscript%3E",
              "/api/heatmap?skill=not-a-skill-id"):
        err = get_json(port, q, 400)
        assert isinstance(err.get("error"), str) and err["error"], q
    for q in ("/../etc/passwd", "/%2e%2e/etc/passwd", "/%2e%2e%2fetc%2fpasswd",
              "/..%2f..%2fetc%2fpasswd", "/app.js/../../etc/passwd", "//etc/passwd",
              "/dashboard/app.js", "/.%2e/%2e%2e/etc/passwd", "/index.html%00.js",
              "/%252e%252e/etc/passwd", "/app.js?x=/../../etc/passwd#"):
        st, h, body = request(port, q)
        if q.startswith("/app.js?"):
            assert st == 200 and b"root:" not in body
            continue
        assert st == 404, (q, st)
        assert b"root:" not in body
    st, h, body = request(port, "/metrics")
    assert st == 200 and b"gtp_dashboard_http_requests_total" in body
    st, h, body = request(port, "/healthz")
    assert st == 200, body


def check_redis_outage():
    """A private redis-server that dies and comes back: 503 JSON meanwhile,
    no crash, answers again after the restart (reconnect with back-off).
    Also the per-IP connection limit."""
    rport = T.free_port()
    tmp = tempfile.mkdtemp(prefix="gtp-dash-redis-")
    red, rcmd = private_redis(rport, tmp)
    pr = pr2 = None
    try:
        pr, port = start_dashboard("redis://127.0.0.1:%d/0" % rport, "dash-outage.log",
                                   ("--per-ip-limit", "4", "--cache-ms", "0"))
        # a second dashboard with the answer cache (as deployed): stale-if-error
        pr2, port2 = start_dashboard("redis://127.0.0.1:%d/0" % rport, "dash-outage-cached.log",
                                     ("--cache-ms", "1000"))
        assert get_json(port, "/api/pulse") == {"hours": [], "series": []}
        assert get_json(port, "/api/stats")["events_total"] == 0
        st, _, cached = request(port2, "/api/pulse")
        assert st == 200
        red.kill()
        red.wait()
        t_down = time.time()
        for path in ("/api/pulse", "/api/heatmap", "/api/stats"):
            for _ in range(3):
                st, h, body = request(port, path)
                assert st == 503, (path, st)
                assert json.loads(body), path
        # /healthz answers the main loop's last PING, sent about once a second
        # (docs/dashboard.md): 503 within two of them
        while True:
            st, h, body = request(port, "/healthz")
            assert json.loads(body)
            if st == 503:
                break
            assert st == 200 and time.time() < t_down + 2.5, ("/healthz", st)
            time.sleep(0.05)
        T.log("redis killed: /healthz 503 after %.2f s" % (time.time() - t_down))
        # the cached dashboard keeps answering with its last answer for 10 s past its
        # expiry, then says 503 like the uncached one
        time.sleep(1.2)
        st, _, body = request(port2, "/api/pulse")
        assert st == 200 and body == cached, (st, body)
        st, _, met = request(port2, "/metrics")
        m = re.search(rb"^gtp_dashboard_cache_stale_total (\d+)", met, re.M)
        assert m and int(m.group(1)) >= 1, met
        time.sleep(max(0.0, t_down + 11.5 - time.time()))
        st, _, body = request(port2, "/api/pulse")
        assert st == 503 and json.loads(body), (st, body)
        stop(pr2)
        pr2 = None
        st, _, _ = request(port, "/")
        assert st == 200 and pr.poll() is None
        red = subprocess.Popen(rcmd, stdout=subprocess.DEVNULL)
        deadline = time.time() + 15
        while True:
            st, _, _ = request(port, "/api/pulse")
            if st == 200:
                break
            assert time.time() < deadline, "no recovery after redis came back"
            time.sleep(0.2)
        # per-IP limit: 4 idle connections are held, the 5th is refused
        # (connections just closed may still count until MHD cleans them up)
        time.sleep(1.0)
        held = []
        for _ in range(4):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/healthz")  # keep-alive: the answer proves it was accepted
            assert c.getresponse().read()
            held.append(c)
        try:
            st, _, _ = request(port, "/healthz")
            refused = False
        except (ConnectionError, http.client.HTTPException, OSError):
            refused = True
        for c in held:
            c.close()
        assert refused, "the per-ip connection limit was not enforced"
        time.sleep(0.3)
        assert request(port, "/healthz")[0] == 200
    finally:
        for p in (pr, pr2):
            if p:
                stop(p)
        red.kill()
        red.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    T.log("redis outage: 503 meanwhile (cached: the last answer for 10 s first), recovered; "
          "per-ip limit enforced")


def check_cli():
    """Exit codes of docs/programs.md and no password in the logs."""
    exe = T.binary("gtp-dashboard")
    for args, want in ((["--help"], 0), (["--version"], 0), (["--bogus"], 64),
                       (["--listen", "nonsense"], 78), (["--threads", "0"], 78),
                       (["--listen", "127.0.0.1:0", "--assets", "/nonexistent-gtp"], 78)):
        res = subprocess.run([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=30)
        assert res.returncode == want, (args, res.returncode, res.stderr[-300:])
    pr = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--redis",
                           "redis://:s3cr3tpw@127.0.0.1:1/0"], stderr=subprocess.PIPE)
    time.sleep(1.0)
    pr.send_signal(signal.SIGTERM)
    _, err = pr.communicate(timeout=30)
    assert pr.returncode == 0, pr.returncode
    assert b"s3cr3tpw" not in err and b"***" in err, err


# ---- the browser ------------------------------------------------------------------------

class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.title = ""
        self._in_title = False

    status = ""
    _in_status = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title" and len([t for t, _ in self.tags if t == "title"]) == 1
        self._in_status = dict(attrs).get("id") == "status"

    def handle_endtag(self, tag):
        self._in_title = False
        self._in_status = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._in_status:
            self.status += data


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    raise SystemExit("chromium is not installed (scripts/setup.sh installs it)")


def browse(port, screenshot=None):
    prof = tempfile.mkdtemp(prefix="gtp-chromium-")
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--user-data-dir=" + prof, "--virtual-time-budget=12000",
            "--window-size=1280,1500", "--hide-scrollbars"]
    url = "http://127.0.0.1:%d/" % port
    try:
        out = subprocess.run(base + ["--dump-dom", url], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=120, check=True).stdout.decode()
        if screenshot:
            subprocess.run(base + ["--screenshot=" + screenshot, url], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120, check=True)
            assert os.path.getsize(screenshot) > 10000, "screenshot is too small"
    finally:
        shutil.rmtree(prof, ignore_errors=True)
    dom = Dom()
    dom.feed(out)
    return out, dom


def check_page(port, pulse, heat):
    shot = os.path.join(T.BUILD, "dashboard.png")
    text, dom = browse(port, shot)
    body = [a for t, a in dom.tags if t == "body"][0]
    if body.get("data-state") != "ready":
        # a loaded 2-core machine can starve the headless browser; say so, retry once
        T.log("page not ready (%s: %r), retrying once" % (body.get("data-state"), dom.status))
        text, dom = browse(port, shot)
        body = [a for t, a in dom.tags if t == "body"][0]
    assert body.get("data-state") == "ready", "page did not render: %s, status %r" % (
        body, dom.status)
    series = [a for t, a in dom.tags if t == "path" and "series" in a.get("class", "").split()]
    assert len(series) == 5 == len(pulse["series"]), len(series)
    assert [a["data-skill"] for a in series] == [s["skill"] for s in pulse["series"]]
    for a in series:
        assert len(a.get("d", "").split("L")) == 24, "a series has not 24 points"
    countries = [a for t, a in dom.tags if t == "path" and "country" in a.get("class", "")]
    assert len(countries) > 150, len(countries)
    coloured = [a for a in countries if int(a.get("data-count", "0")) > 0]
    assert coloured and all(a["fill"] != NODATA for a in coloured), "map is not coloured"
    by_region = {a["data-region"]: int(a["data-count"]) for a in countries}
    for reg in heat["regions"]:
        if reg["region"] in by_region:
            assert by_region[reg["region"]] == reg["count"], reg
    assert "UK" in by_region and "GB" not in by_region
    rows = [a for t, a in dom.tags if t == "tr" and "data-skill" in a]
    assert len(rows) == len(heat["grid"]["skills"])
    T.log("page: %d series, %d/%d countries coloured, screenshot %s" % (
        len(series), len(coloured), len(countries), shot))
    return text, dom


def assert_no_injection(text, dom):
    assert dom.title.strip() == TITLE, "title changed: %r" % dom.title
    root = [a for t, a in dom.tags if t == "html"][0]
    assert "data-csp-violations" not in root, root
    scripts = [a for t, a in dom.tags if t == "script"]
    assert len(scripts) == 1 and scripts[0].get("src") == "/app.js", scripts
    assert not [t for t, _ in dom.tags if t in ("img", "iframe", "object", "embed")], \
        "an injected element is in the page"
    for t, a in dom.tags:
        bad = [k for k in a if k.startswith("on")]
        assert not bad, "event handler attribute %s on <%s>" % (bad, t)


def check_hostile(port, r, pulse):
    """Markup as data: first through the pipeline (postings already in the
    stream), then planted straight into the index the page reads."""
    newest = pulse["hours"][-1]
    top = pulse["series"][0]["total"]
    for i, h in enumerate(HOSTILE):
        r.zadd("gtp:pulse:" + newest, {h: top * 10 + i})
        r.zadd("gtp:heat:" + newest, {h: 10 ** 9 + i})
    time.sleep(1.5)  # past the dashboard's answer cache
    got = get_json(port, "/api/pulse?hours=24&top=5")
    assert {s["skill"] for s in got["series"]} >= set(HOSTILE)
    text, dom = browse(port)
    assert_no_injection(text, dom)
    assert "&lt;img src=x onerror=" in text, "the planted name is not shown as text"
    T.log("hostile names rendered as text only")


def main():
    os.makedirs(os.path.join(T.BUILD, "test-logs"), exist_ok=True)
    check_cli()
    check_redis_outage()
    r = seed()
    cells = model(r)
    pr, port = start_dashboard(T.redis_url(DB), "dashboard.log")
    try:
        pulse = check_pulse(port, cells, 24, 5)
        for hours, top in ((1, 5), (24, 20), (168, 1), (7, 3)):
            check_pulse(port, cells, hours, top)
        heat = check_heatmap(port, cells, 24)
        check_heatmap(port, cells, 168)
        for s in pulse["series"][:3]:
            check_heatmap(port, cells, 24, s["skill"])
        check_stats(port, r)
        T.log("apis equal the trend keys (%d cells), stats equal gtp:stats" % len(cells))
        check_security(port)
        T.log("security headers, 405, 400 and 404 ok")
        text, dom = check_page(port, pulse, heat)
        assert_no_injection(text, dom)
        check_hostile(port, r, pulse)
        # SIGHUP reloads the taxonomy and keeps serving
        pr.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert pr.poll() is None
        get_json(port, "/api/pulse")
    finally:
        stop(pr)
        for t in TOPICS:
            subprocess.run([os.path.join(T.ROOT, "scripts", "services.sh"), "delete-topic", t],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    T.log("ok")


if __name__ == "__main__":
    main()
