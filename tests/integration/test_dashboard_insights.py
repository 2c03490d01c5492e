"""gtp-dashboard's insight APIs (docs/dashboard.md) against a real Redis
seeded by this test following the key contract (bench/dashboard_seed.py
writes the raw keys and the indexes the processor keeps). The server reads
only the indexes (gtp:posts, gtp:pairs:{day}:{skill}, gtp:rskills, gtp:pulse,
gtp:heat); every number is checked here against sums of the RAW keys
(posts:*, trend:*, remote:*, remote_posts:*, level:*, pairs:{day}, employers:*), read with
SCAN, so an index that disagrees with the raw keys, or a wrong sum, fails.
Also: CSV against JSON, growth against the hand-worked example of
docs/dashboard.md#growth, and bad parameters -> 400 with a JSON error."""
import calendar
import csv
import io
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import gtptest as T  # noqa: E402
import dashboard_seed as S  # noqa: E402
from test_dashboard import get_json, request, start_dashboard, stop  # noqa: E402

DB = int(os.environ.get("GTP_TEST_INSIGHTS_DB", "13"))
DB_HAND = DB + 1
MIN_SUPPORT, Z_MIN = 10, 1.96
LEVELS = ["intern", "junior", "mid", "senior", "lead", "principal", "director", "unspecified"]


def close(a, b, rel=2e-5):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def ratio(a, b):
    return a / b if b > 0 else None


# ---- the raw keys ------------------------------------------------------------------------

class Raw:
    """Every raw insight key of a DB, read with SCAN (the server never may)."""

    def __init__(self, r):
        self.r = r
        self.trend, self.posts, self.remote, self.level, self.pairs = {}, {}, {}, {}, {}
        self.remote_posts = {}
        for k in r.scan_iter(count=1000):
            k = k.decode()
            parts = k.split(":")
            if parts[0] == "trend":
                self.trend[(parts[1], parts[2], parts[3])] = int(r.get(k))
            elif parts[0] == "posts":
                self.posts[(parts[1], parts[2])] = int(r.get(k))
            elif parts[0] == "remote":
                self.remote[(parts[1], parts[2])] = int(r.get(k))
            elif parts[0] == "remote_posts":
                self.remote_posts[(parts[1], parts[2])] = int(r.get(k))
            elif parts[0] == "level":
                self.level[(parts[1], parts[2], parts[3])] = int(r.get(k))
            elif parts[0] == "pairs":
                self.pairs[parts[1]] = {m.decode(): int(v) for m, v in
                                        r.zrange(k, 0, -1, withscores=True)}
        self.newest = max(h for (_, h) in self.posts)

    def labels(self, n, end=None):
        t = calendar.timegm(time.strptime(end or self.newest, "%Y-%m-%d-%H"))
        return [S.hour_label(t - 3600 * (n - 1 - i)) for i in range(n)]

    def mentions(self, hours, skill=None, region=None):
        hs = set(hours)
        out = {}
        for (s, reg, h), v in self.trend.items():
            if h in hs and (skill is None or s == skill) and (region is None or reg == region):
                key = s if skill is None else reg
                out[key] = out.get(key, 0) + v
        return out

    def postings(self, hours, region=None):
        hs = set(hours)
        return sum(v for (reg, h), v in self.posts.items()
                   if h in hs and (region is None or reg == region))


def growth(a, n1, b, n0):
    """The two-proportion z-test of docs/dashboard.md#growth, written again here."""
    p1, p0, p = a / n1, b / n0, (a + b) / (n1 + n0)
    var = p * (1 - p) * (1 / n1 + 1 / n0)
    z = (p1 - p0) / math.sqrt(var) if var > 0 else 0.0
    return {"now": a, "before": b, "share_now": p1, "share_before": p0, "diff": p1 - p0,
            "change": p1 / p0 - 1 if b > 0 else None, "z": z,
            "significant": a + b >= MIN_SUPPORT and abs(z) >= Z_MIN}


def lists(now, before, n1, n0, top):
    up, down = [], []
    for s in set(now) | set(before):
        a, b = now.get(s, 0), before.get(s, 0)
        if n1 <= 0 or n0 <= 0 or a > n1 or b > n0:
            continue
        g = growth(a, n1, b, n0)
        g["skill"] = s
        if g["significant"] and g["diff"] > 0:
            up.append(g)
        elif g["significant"] and g["diff"] < 0:
            down.append(g)
    up.sort(key=lambda g: (-g["z"], -g["now"], g["skill"]))
    down.sort(key=lambda g: (g["z"], -g["before"], g["skill"]))
    return up[:top], down[:top]


def check_growth_list(got, want):
    assert [g["skill"] for g in got] == [g["skill"] for g in want], (
        [(g["skill"], g["z"]) for g in got], [(g["skill"], g["z"]) for g in want])
    for g, w in zip(got, want):
        assert g["now"] == w["now"] and g["before"] == w["before"], (g, w)
        for f in ("share_now", "share_before", "diff", "change", "z"):
            assert close(g[f], w[f]), (g["skill"], f, g[f], w[f])


# ---- the endpoints -----------------------------------------------------------------------

def check_skill(port, raw, skill, hours, top):
    got = get_json(port, "/api/skill?skill=%s&hours=%d&top=%d" % (skill, hours, top))
    labels = raw.labels(hours)
    assert got["skill"] == skill and got["name"]
    assert got["hours"] == [labels[0], labels[-1]]
    m_total = p_total = 0
    assert [x["hour"] for x in got["hourly"]] == labels
    for x, h in zip(got["hourly"], labels):
        m = sum(v for (s, _, hh), v in raw.trend.items() if s == skill and hh == h)
        p = raw.postings([h])
        assert (x["mentions"], x["postings"]) == (m, p), (h, x, m, p)
        assert close(x["share"], ratio(m, p)), (h, x)
        m_total += m
        p_total += p
    assert (got["mentions"], got["postings"]) == (m_total, p_total)
    assert close(got["share"], ratio(m_total, p_total))
    remote = sum(v for (s, h), v in raw.remote.items() if s == skill and h in labels)
    assert got["remote"] == remote and close(got["remote_share"], ratio(remote, m_total))

    # regions by share (region postings >= the support)
    by_reg = raw.mentions(labels, skill=skill)
    want = []
    for reg, m in by_reg.items():
        p = raw.postings(labels, reg)
        if m > 0 and p >= MIN_SUPPORT:
            want.append((reg.upper(), m, p, m / p))
    want.sort(key=lambda x: (-x[3], -x[1], x[0].lower()))
    assert [(x["region"], x["mentions"], x["postings"]) for x in got["regions"]] == [
        w[:3] for w in want[:top]], (got["regions"][:3], want[:3])
    for x, w in zip(got["regions"], want):
        assert close(x["share"], w[3])

    # co-skills by lift over the whole days the range touches
    days = sorted({h[:10] for h in labels})
    assert got["days"] == [days[0], days[-1]]
    dhours = [h for (_, h) in raw.posts if h[:10] in days] + [
        h for (_, _, h) in raw.trend if h[:10] in days]
    dhours = sorted(set(dhours))
    n_days = raw.postings(dhours)
    m_days = raw.mentions(dhours)
    assert got["day_postings"] == n_days and got["day_mentions"] == m_days.get(skill, 0)
    together = {}
    for d in days:
        for pair, v in raw.pairs.get(d, {}).items():
            a, b = pair.split("|")
            if skill in (a, b):
                other = b if a == skill else a
                together[other] = together.get(other, 0) + v
    want = []
    for o, t in together.items():
        if t >= MIN_SUPPORT and m_days.get(o, 0) > 0 and m_days.get(skill, 0) > 0:
            want.append((o, t, m_days[o], t * n_days / (m_days[skill] * m_days[o])))
    want.sort(key=lambda x: (-x[3], -x[1], x[0]))
    assert [(x["skill"], x["together"], x["mentions"]) for x in got["coskills"]] == [
        w[:3] for w in want[:top]], (got["coskills"][:3], want[:3])
    for x, w in zip(got["coskills"], want):
        assert close(x["lift"], w[3]), (x, w)

    lv = {lvl: sum(v for (s, l2, d), v in raw.level.items() if s == skill and l2 == lvl
                   and d in days) for lvl in LEVELS}
    total = sum(lv.values())
    assert [(x["level"], x["postings"]) for x in got["levels"]] == [(lvl, lv[lvl])
                                                                    for lvl in LEVELS]
    for x in got["levels"]:
        assert close(x["share"], ratio(x["postings"], total))
    keys = ["employers:%s:%s" % (skill, d) for d in days]
    assert got["employers"] == raw.r.pfcount(*keys), (got["employers"], keys)
    return got


def check_region(port, raw, region, hours, top):
    got = get_json(port, "/api/region?region=%s&hours=%d&top=%d" % (region, hours, top))
    labels = raw.labels(hours)
    before = raw.labels(hours, raw.labels(hours + 1)[0])
    assert got["region"] == region.upper() and got["hours"] == [labels[0], labels[-1]]
    p = raw.postings(labels, region)
    p0 = raw.postings(before, region)
    assert (got["postings"], got["postings_before"]) == (p, p0)
    assert [(x["hour"], x["postings"]) for x in got["hourly"]] == [
        (h, raw.postings([h], region)) for h in labels]
    remote = sum(v for (reg, h), v in raw.remote_posts.items() if reg == region and h in labels)
    assert remote > 0 or p == 0, "the seed should hold remote postings in %s" % region
    assert got["remote"] == remote and close(got["remote_share"], ratio(remote, p))
    now = {s: v for (s, reg), v in _by_skill_region(raw, labels).items() if reg == region}
    prev = {s: v for (s, reg), v in _by_skill_region(raw, before).items() if reg == region}
    want = sorted(((s, v) for s, v in now.items() if v > 0), key=lambda x: (-x[1], x[0]))[:top]
    assert [(x["skill"], x["mentions"]) for x in got["skills"]] == want
    for x in got["skills"]:
        assert close(x["share"], ratio(x["mentions"], p))
    up, down = lists({s: v for s, v in now.items() if v}, {s: v for s, v in prev.items() if v},
                     p, p0, top)
    check_growth_list(got["rising"], up)
    check_growth_list(got["falling"], down)
    return got


def check_rising(port, raw, hours, top, region=None):
    q = "/api/rising?hours=%d&top=%d" % (hours, top) + ("&region=" + region if region else "")
    got = get_json(port, q)
    labels = raw.labels(hours)
    before = raw.labels(hours, raw.labels(hours + 1)[0])
    assert got["hours"] == [labels[0], labels[-1]] and got["previous"] == [before[0], before[-1]]
    assert got["region"] == (region.upper() if region else None)
    n1, n0 = raw.postings(labels, region), raw.postings(before, region)
    assert (got["postings"], got["postings_before"]) == (n1, n0)
    assert (got["min_support"], got["z_min"]) == (MIN_SUPPORT, Z_MIN)
    if region:
        now = {s: v for (s, reg), v in _by_skill_region(raw, labels).items() if reg == region}
        prev = {s: v for (s, reg), v in _by_skill_region(raw, before).items() if reg == region}
    else:
        now, prev = raw.mentions(labels), raw.mentions(before)
    up, down = lists(now, prev, n1, n0, top)
    check_growth_list(got["rising"], up)
    check_growth_list(got["falling"], down)
    return got


def _by_skill_region(raw, hours):
    hs, out = set(hours), {}
    for (s, reg, h), v in raw.trend.items():
        if h in hs:
            out[(s, reg)] = out.get((s, reg), 0) + v
    return out


def check_share_metric(port, raw, hours):
    labels = raw.labels(hours)
    got = get_json(port, "/api/pulse?hours=%d&top=5&metric=share" % hours)
    plain = get_json(port, "/api/pulse?hours=%d&top=5" % hours)
    assert "postings" not in plain and got["metric"] == "share"
    assert got["postings"] == [raw.postings([h]) for h in labels]
    assert got["postings_total"] == raw.postings(labels)
    assert [s["counts"] for s in got["series"]] == [s["counts"] for s in plain["series"]]
    for s in got["series"]:
        for c, p, sh in zip(s["counts"], got["postings"], s["shares"]):
            assert close(sh, ratio(c, p)), (s["skill"], c, p, sh)
        assert close(s["share"], ratio(s["total"], got["postings_total"]))
    heat = get_json(port, "/api/heatmap?hours=%d&metric=share" % hours)
    for x in heat["regions"]:
        p = raw.postings(labels, x["region"].lower())
        assert x["postings"] == p and close(x["share"], ratio(x["count"], p)), x
    g = heat["grid"]
    assert g["postings"] == [raw.postings(labels, reg.lower()) for reg in g["regions"]]
    for i in range(len(g["skills"])):
        for j, p in enumerate(g["postings"]):
            assert close(g["shares"][i][j], ratio(g["counts"][i][j], p))
    one = get_json(port, "/api/heatmap?hours=%d&metric=share&skill=%s" % (hours, g["skills"][0]))
    for x in one["regions"]:
        assert close(x["share"], ratio(x["count"], raw.postings(labels, x["region"].lower())))


# ---- CSV against JSON --------------------------------------------------------------------

def flatten(doc):
    """The CSV rows docs/dashboard.md promises for an insight answer."""
    rows = []
    skip = {"hours", "previous", "days", "region", "skill", "name", "hourly", "regions",
            "skills", "coskills", "levels", "rising", "falling"}
    summary_key = doc.get("skill") or (doc.get("region") or "ALL")
    for k, v in doc.items():
        if k not in skip and k not in ("day_mentions", "day_postings"):
            rows.append(("summary", summary_key, k, v))
    for section, keyf in (("hourly", "hour"), ("regions", "region"), ("skills", "skill"),
                          ("coskills", "skill"), ("rising", "skill"), ("falling", "skill")):
        for x in doc.get(section, []):
            for k, v in x.items():
                if k not in (keyf, "name"):
                    rows.append((section, x[keyf], k, v))
    for k in ("day_mentions", "day_postings"):
        if k in doc:
            rows.append(("summary", summary_key, k, doc[k]))
    for x in doc.get("levels", []):
        for k, v in x.items():
            if k != "level":
                rows.append(("levels", x["level"], k, v))
    return rows


def check_csv(port, path):
    doc = get_json(port, path)
    st, hdr, body = request(port, path + "&format=csv")
    assert st == 200 and hdr["content-type"].startswith("text/csv"), (st, hdr)
    table = list(csv.reader(io.StringIO(body.decode())))
    assert table[0] == ["section", "key", "name", "measure", "value"], table[0]
    got = [(s, k, m, v) for s, k, _, m, v in table[1:]]
    want = flatten(doc)
    assert len(got) == len(want), (path, len(got), len(want), got[:5], want[:5])
    for g, w in zip(got, want):
        assert g[:3] == tuple(str(x) for x in w[:3]), (path, g, w)
        if w[3] is None:
            assert g[3] == "", (g, w)
        else:
            assert close(float(g[3]), float(w[3])), (path, g, w)
    # names of skills are in the name column
    for s, k, name, m, v in table[1:]:
        if s in ("coskills", "rising", "falling", "skills"):
            assert name, (s, k)


# ---- the hand-worked example --------------------------------------------------------------

def check_hand_example(url):
    """docs/dashboard.md#growth: per hour 1000 postings in "uk"; the earlier
    hour has rust 30, java 75, go 1; the newer one rust 60, java 40, go 5."""
    r = T.redis_db(DB_HAND)
    r.flushdb()
    end = (int(time.time()) // 3600) * 3600
    h0, h1 = S.hour_label(end - 3600), S.hour_label(end)
    postings = []
    for h, counts in ((h0, {"rust": 30, "java": 75, "go": 1}),
                      (h1, {"rust": 60, "java": 40, "go": 5})):
        for i in range(1000):
            postings.append({"hour": h, "region": "uk",
                             "skills": [s for s, c in counts.items() if i < c]})
    S.write_postings(r, postings)
    pr, port = start_dashboard(url, "insights-hand.log")
    try:
        got = get_json(port, "/api/rising?hours=1")
        assert got["hours"] == [h1, h1] and got["previous"] == [h0, h0]
        assert (got["postings"], got["postings_before"]) == (1000, 1000)
        assert [g["skill"] for g in got["rising"]] == ["rust"], got["rising"]
        rust = got["rising"][0]
        assert (rust["now"], rust["before"]) == (60, 30)
        assert rust["share_now"] == 0.06 and rust["share_before"] == 0.03
        assert rust["change"] == 1 and abs(rust["z"] - 3.236) < 0.001, rust
        assert [g["skill"] for g in got["falling"]] == ["java"], got["falling"]
        java = got["falling"][0]
        assert (java["now"], java["before"]) == (40, 75)
        assert abs(java["z"] + 3.362) < 0.001 and abs(java["diff"] + 0.035) < 1e-9, java
        # go went 1 -> 5 ("+400 %"): 6 postings are below the support, never shown
        assert all(g["skill"] != "go" for g in got["rising"] + got["falling"])
        reg = get_json(port, "/api/region?region=UK&hours=1")
        assert [g["skill"] for g in reg["rising"]] == ["rust"]
        assert [(s["skill"], s["mentions"], s["share"]) for s in reg["skills"]] == [
            ("rust", 60, 0.06), ("java", 40, 0.04), ("go", 5, 0.005)]
    finally:
        stop(pr)
    r.flushdb()


# ---- bad parameters -----------------------------------------------------------------------

def check_bad(port):
    for path in ("/api/skill", "/api/skill?skill=", "/api/skill?skill=no-such-skill",
                 "/api/skill?skill=Python", "/api/skill?skill=python&hours=0",
                 "/api/skill?skill=python&hours=169", "/api/skill?skill=python&top=21",
                 "/api/skill?skill=python&top=x", "/api/skill?skill=python&format=xml",
                 "/api/region", "/api/region?region=u%20k", "/api/region?region=uk&hours=-1",
                 "/api/region?region=abcdefghijklmnopq", "/api/rising?hours=1000",
                 "/api/rising?top=0", "/api/rising?region=%3Cscript%3E",
                 "/api/pulse?metric=lift", "/api/heatmap?metric=", "/api/rising?format=",
                 "/api/skills?format=pdf"):
        st, hdr, body = request(port, path)
        assert st == 400, (path, st, body[:200])
        assert hdr["content-type"].startswith("application/json"), (path, hdr)
        msg = json.loads(body)["error"]
        assert msg and "<" not in body.decode(), (path, body)


def main():
    r = T.redis_db(DB)
    r.flushdb()
    end = int(time.time())
    S.write_postings(r, S.synth(200, 60, seed=18, end_s=end))
    raw = Raw(r)
    check_hand_example(T.redis_url(DB_HAND))
    pr, port = start_dashboard(T.redis_url(DB), "insights.log", ("--cache-ms", "0"))
    try:
        skills = get_json(port, "/api/skills")["skills"]
        assert len(skills) == len(S.taxonomy_skills()) and all(s["name"] for s in skills)
        top = get_json(port, "/api/pulse?hours=24&top=3")["series"]
        picks = [s["skill"] for s in top] + [S.taxonomy_skills()[40], S.taxonomy_skills()[3]]
        for hours in (6, 24, 168):
            for s in picks:
                check_skill(port, raw, s, hours, 10)
            for reg in ("us", "uk", "remote"):
                check_region(port, raw, reg, hours, 10)
            check_rising(port, raw, hours, 10)
            check_rising(port, raw, hours, 5, "us")
            check_share_metric(port, raw, hours)
        got = check_rising(port, raw, 168, 20)
        assert got["rising"] and got["falling"], "the synthetic market has no movement"
        assert got["rising"][0]["skill"] == S.taxonomy_skills()[40], got["rising"][:2]
        assert got["falling"][0]["skill"] == S.taxonomy_skills()[3], got["falling"][:2]
        check_skill(port, raw, "python", 24, 3)  # top-N bound
        for path in ("/api/skill?skill=%s&hours=24" % picks[0],
                     "/api/skill?skill=%s&hours=168&top=20" % picks[3],
                     "/api/region?region=us&hours=24", "/api/rising?hours=24",
                     "/api/rising?hours=6&region=uk"):
            check_csv(port, path)
        st, hdr, body = request(port, "/api/skills?format=csv")
        assert st == 200 and body.decode().splitlines()[0] == "skill,name,category"
        assert len(body.decode().splitlines()) == len(skills) + 1
        check_bad(port)
        # an empty DB answers the documented empty shapes
        r.flushdb()
        assert get_json(port, "/api/rising")["rising"] == []
        assert get_json(port, "/api/skill?skill=python")["hourly"] == []
        assert get_json(port, "/api/region?region=us")["skills"] == []
    finally:
        stop(pr)
        r.flushdb()
    T.log("dashboard insights: ok")


if __name__ == "__main__":
    main()
