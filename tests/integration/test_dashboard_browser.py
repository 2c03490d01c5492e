"""The dashboard page in headless Chromium, driven over the DevTools protocol
(--remote-debugging-pipe: no websocket client, no extra package). Against a
Redis seeded following the key contract (bench/dashboard_seed.py), it clicks
a Pulse series into the skill view, picks a skill from the searchable list,
clicks the map and a grid column into the region view, opens the rising
view, switches the range (6 h / 24 h / 7 d), top-N and share, follows links
with the keyboard, exports the CSV, switches to dark mode, and checks each
view's numbers against the APIs, and lays it out on a phone's width;
screenshots go to build/dashboard-*.png."""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import gtptest as T  # noqa: E402
import dashboard_seed as S  # noqa: E402
from test_dashboard import chromium, get_json, start_dashboard, stop  # noqa: E402

DB = int(os.environ.get("GTP_TEST_BROWSER_DB", "15"))


class Chrome:
    """Chromium with its DevTools protocol on fds 3 (commands in) and 4
    (answers and events out), NUL-separated JSON messages."""

    def __init__(self, width=1280, height=1500):
        self.prof = tempfile.mkdtemp(prefix="gtp-chromium-")
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()
        # the child gets the pipes as exactly fds 3 and 4
        hi_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)

        def child():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.pr = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--remote-debugging-pipe", "--user-data-dir=" + self.prof,
             "--window-size=%d,%d" % (width, height), "--hide-scrollbars", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=child,
            close_fds=False)
        for fd in (cmd_r, out_w, hi_r, hi_w):
            os.close(fd)
        self.buf = b""
        self.next_id = 0
        self.events = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"],
                                 flatten=True)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _read(self, timeout=60):
        deadline = time.time() + timeout
        while b"\0" not in self.buf:
            assert time.time() < deadline, "no answer from chromium"
            assert self.pr.poll() is None, "chromium exited %s" % self.pr.returncode
            chunk = os.read(self.out_r, 1 << 20)
            assert chunk, "chromium closed the pipe"
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                assert "error" not in m, (method, m["error"])
                return m.get("result", {})
            self.events.append(m)

    def send(self, method, **params):
        return self.call(method, self.session, **params)

    def js(self, expr):
        r = self.send("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in r, (expr, r["exceptionDetails"])
        return r["result"].get("value")

    def wait(self, expr, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.js("(() => { try { return %s; } catch (e) { return false; } })()" % expr)
            if v:
                return v
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s (%s); status %r" % (
            what, expr, self.js("document.getElementById('status').textContent")))

    def rendered(self, hash_, what):
        """Wait until the page has drawn the view of hash_."""
        return self.wait("document.body.getAttribute('data-rendered') === %s" % json.dumps(hash_),
                         what)

    def click_at(self, selector):
        """A real mouse click at the middle of the first element matching selector."""
        box = self.js("(() => { const e = document.querySelector(%s); if (!e) return null;"
                      " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                      " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
                      % json.dumps(selector))
        assert box, "nothing matches %s" % selector
        for t in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=t, x=box[0], y=box[1], button="left",
                      clickCount=1)

    def click_path(self, selector):
        """A real mouse click on a point of an SVG path's stroke (its middle)."""
        pt = self.js("(() => { const p = document.querySelector(%s); if (!p) return null;"
                     " p.scrollIntoView({block: 'center'});"
                     " const q = p.getPointAtLength(p.getTotalLength() / 2);"
                     " const m = p.getScreenCTM(); return [m.a * q.x + m.c * q.y + m.e,"
                     " m.b * q.x + m.d * q.y + m.f]; })()" % json.dumps(selector))
        assert pt, "nothing matches %s" % selector
        for t in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=t, x=pt[0], y=pt[1], button="left",
                      clickCount=1)

    def key(self, key, code=None, text=None):
        for t in ("keyDown", "keyUp"):
            p = {"type": t, "key": key, "code": code or key}
            if key == "Enter":
                p.update(windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
                if t == "keyDown":
                    p["text"] = "\r"
            self.send("Input.dispatchKeyEvent", **p)

    def shot(self, name):
        path = os.path.join(T.BUILD, "dashboard-%s.png" % name)
        data = self.send("Page.captureScreenshot", format="png",
                         captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        assert os.path.getsize(path) > 20000, "screenshot %s is too small" % path
        return path

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - it may be gone already
            pass
        try:
            self.pr.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.pr.kill()
            self.pr.wait()
        os.close(self.cmd_w)
        os.close(self.out_r)
        shutil.rmtree(self.prof, ignore_errors=True)


def texts(c, selector):
    return c.js("Array.from(document.querySelectorAll(%s)).map(e => e.textContent.trim())"
                % json.dumps(selector))


def main():
    r = T.redis_db(DB)
    r.flushdb()
    S.write_postings(r, S.synth(200, 60, seed=18))
    r.hset("gtp:stats", mapping={"events_total": 12000, "last_flush_ms": int(time.time() * 1000)})
    pr, port = start_dashboard(T.redis_url(DB), "browser.log")
    base = "http://127.0.0.1:%d/" % port
    c = None
    try:
        c = Chrome()
        c.send("Page.navigate", url=base)
        c.rendered("#/", "the overview")
        assert c.js("document.body.dataset.view") == "overview"
        pulse = get_json(port, "/api/pulse?hours=24&top=5")
        series = c.js("Array.from(document.querySelectorAll('path.series'))"
                      ".map(p => p.dataset.skill)")
        assert series == [s["skill"] for s in pulse["series"]], series
        assert c.js("document.querySelectorAll('.partial').length") == 1, "no partial-hour marker"
        rising = get_json(port, "/api/rising?hours=24&top=5")
        got = texts(c, "#rp-body-rising tbody th")
        assert got == [g["name"] for g in rising["rising"]] or (
            not rising["rising"] and got == []), (got, rising["rising"])
        c.shot("overview")

        # a click on a Pulse series opens the skill view
        first = pulse["series"][0]
        c.click_path("path.series[data-skill=%s]" % json.dumps(first["skill"]))
        c.rendered("#/skill/" + first["skill"], "the skill view after a series click")
        prof = get_json(port, "/api/skill?hours=24&top=10&skill=" + first["skill"])
        assert c.js("document.getElementById('sk-title').textContent").startswith(first["name"])
        assert texts(c, "#sk-regions tbody th") == [x["region"] for x in prof["regions"]]
        assert texts(c, "#sk-co tbody th") == [x["name"] for x in prof["coskills"]]
        assert len(texts(c, "#sk-hourly tbody tr")) == 24
        assert c.js("document.querySelectorAll('#sk-levels-chart rect.level').length") > 0
        c.shot("skill")

        # the range selector: 7 d, then top 20 and share
        c.click_at("input[name=hours][value='168']")
        c.rendered("#/skill/%s?hours=168" % first["skill"], "the 7 d range")
        assert len(texts(c, "#sk-hourly tbody tr")) == 168
        assert c.js("document.querySelector('input[name=hours][value=\"168\"]').checked")
        c.click_at("input[name=metric][value=share]")
        c.rendered("#/skill/%s?hours=168&metric=share" % first["skill"], "share")
        c.shot("skill-7d-share")
        c.click_at("input[name=hours][value='6']")
        c.rendered("#/skill/%s?hours=6&metric=share" % first["skill"], "the 6 h range")
        assert len(texts(c, "#sk-hourly tbody tr")) == 6

        # the searchable list holds every taxonomy skill; pick one by name
        n = c.js("document.querySelectorAll('#skill-options option').length")
        assert n == len(S.taxonomy_skills()), n
        pick = get_json(port, "/api/skills")["skills"][40]
        c.js("(() => { const i = document.getElementById('skill-search'); i.focus();"
             " i.value = %s; })()" % json.dumps(pick["name"]))
        c.key("Enter")
        c.rendered("#/skill/%s?hours=6&metric=share" % pick["skill"], "a skill from the list")

        # a link can be shared: straight to a region by URL, then the map
        c.send("Page.navigate", url=base + "#/?hours=24")
        c.rendered("#/?hours=24", "the overview again")
        c.click_at("path.country[data-region=US]")
        c.rendered("#/region/US", "the region view from the map")
        reg = get_json(port, "/api/region?hours=24&top=10&region=us")
        assert texts(c, "#rg-skills tbody th") == [x["name"] for x in reg["skills"]]
        assert len(texts(c, "#rg-hourly tbody tr")) == 24
        c.shot("region")

        # a click anywhere on a grid row (here its last cell) opens the skill
        c.send("Page.navigate", url=base + "#/")
        c.rendered("#/", "the overview")
        row = c.js("document.querySelectorAll('#grid tbody tr')[1].dataset.skill")
        c.click_at("#grid tbody tr:nth-child(2) td:last-child")
        c.rendered("#/skill/" + row, "the skill view from a grid row click")

        # with the keyboard, from the overview: focus a grid column link, a grid
        # row's link, a Pulse line (focusable, role link), press Enter
        c.send("Page.navigate", url=base + "#/")
        c.rendered("#/", "the overview")
        col = c.js("document.querySelector('#grid thead th a').textContent")
        row = c.js("document.querySelector('#grid tbody tr').dataset.skill")
        for sel, want in (("#grid thead th a", "#/region/" + col),
                          ("#grid tbody th a", "#/skill/" + row),
                          ("path.series", "#/skill/" + pulse["series"][0]["skill"])):
            c.send("Page.navigate", url=base + "#/")
            c.rendered("#/", "the overview")
            c.js("document.querySelector(%s).focus()" % json.dumps(sel))
            c.key("Enter")
            c.rendered(want, "Enter on " + sel)

        # the rising view, top 20 and 7 d
        c.click_at("#nav-rising")
        c.rendered("#/rising", "the rising view")
        c.js("(() => { const s = document.getElementById('top'); s.value = '20';"
             " s.dispatchEvent(new Event('change')); })()")
        c.rendered("#/rising?top=20", "top 20")
        c.click_at("input[name=hours][value='168']")
        c.rendered("#/rising?hours=168&top=20", "rising over 7 d")
        ri = get_json(port, "/api/rising?hours=168&top=20")
        assert ri["rising"], "the synthetic market has no rising skill"
        assert texts(c, "#ri-body-rising tbody th") == [g["name"] for g in ri["rising"]]
        assert texts(c, "#ri-body-falling tbody th") == [g["name"] for g in ri["falling"]]
        # CSV export of what is shown
        csv_text = c.js("window.gtpExportCsv()")
        lines = csv_text.splitlines()
        assert lines[0].startswith("# Global Talent Pulse, #/rising?hours=168&top=20"), lines[0]
        for g in ri["rising"]:
            assert any(x.startswith(g["skill"] + ",%d,%d," % (g["before"], g["now"]))
                       for x in lines), (g, lines[:8])
        c.shot("rising")

        # dark mode follows prefers-color-scheme
        light = c.js("getComputedStyle(document.body).backgroundColor")
        c.send("Emulation.setEmulatedMedia",
               features=[{"name": "prefers-color-scheme", "value": "dark"}])
        dark = c.js("getComputedStyle(document.body).backgroundColor")
        assert light != dark and dark == "rgb(13, 17, 23)", (light, dark)
        c.send("Page.navigate", url=base + "#/?hours=24&metric=share")
        c.rendered("#/?hours=24&metric=share", "the overview in share")
        heat = get_json(port, "/api/heatmap?hours=24&metric=share")
        cap = c.js("document.getElementById('grid-caption').textContent")
        assert cap.startswith("Share of postings"), cap
        assert len(texts(c, "#grid tbody tr")) == len(heat["grid"]["skills"])
        c.shot("dark")
        c.send("Page.navigate", url=base + "#/skill/%s?hours=168" % first["skill"])
        c.rendered("#/skill/%s?hours=168" % first["skill"], "a shared link in dark mode")
        c.shot("skill-dark")
        # a phone: every view fits the width (tables and the grid scroll inside)
        c.send("Emulation.setEmulatedMedia", features=[])
        c.send("Emulation.setDeviceMetricsOverride", width=400, height=1800,
               deviceScaleFactor=1, mobile=True)
        for h in ("#/", "#/skill/" + first["skill"], "#/region/US", "#/rising?hours=168"):
            c.send("Page.navigate", url=base + h)
            c.rendered(h, "the phone layout of " + h)
            sw = c.js("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert sw[0] <= sw[1], (h, sw)
        c.shot("phone")
        assert c.js("document.documentElement.getAttribute('data-csp-violations')") is None
        exc = [e for e in c.events if e.get("method") == "Runtime.exceptionThrown"]
        assert not exc, exc[:1]
    finally:
        if c:
            c.close()
        stop(pr)
        r.flushdb()
    T.log("dashboard browser: skill, region, rising, range, top, share, keyboard, CSV and dark"
          " mode ok; screenshots in %s/dashboard-*.png" % T.BUILD)


if __name__ == "__main__":
    main()
