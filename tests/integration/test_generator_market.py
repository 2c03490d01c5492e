#!/usr/bin/env python3
"""The generator's market moves as its ground truth says (issue 17, acceptance 1;
docs/events.md, "The market model").

Seven simulated days from a fixed seed (1 event per simulated second, as fast as
the machine goes: `--rate 1 --speed 1e9`; `--rate 0` would mean 100 events per
simulated second, 60 million events for a week), read back through gtp-enrich,
the pipeline's own skill matcher and region resolver, then plain statistics
that know nothing of the C model beyond what `--print-model` states:

1. trends: every skill --print-model calls rising or falling moves between day 0
   and day 6 by the ratio of its `trend` values, within 4 standard errors of
   the measured log ratio (region-standardised, so the day's country mix does
   not count), and moves by at least 30 %; steady controls do not move; the
   emerging skills go from near zero (< 0.5 % of the first six hours) to the
   top 30 skills of the last day;
2. local time: the hourly curves of the US and India peak at local working
   hours (08-18 at their --print-model UTC offsets), at least 6 h apart in UTC;
3. regional character: for at least five skills the Jensen-Shannon divergence
   between the skill's regional distribution and the overall posting map is
   above max(0.005 bit, 3 x the largest of 20 draws of the same size from the
   overall map): chance alone, at that sample size, does not get there, and
   0.005 bit is the divergence of one country with 5 % of the postings holding
   twice that share of the skill's postings, a difference a reader of the map
   sees;
4. employers: the top 1 % of companies hold the share that a Zipf law with the
   documented exponent gives (within 0.02), and the rank-frequency slope over
   ranks 1-200 is that exponent (within 0.1);
5. reposts: some job_ids come back at least 2 days later with a new event_id;
6. seniority and remote mix: junior titles are more common in India than in
   Switzerland (x1.7 vs x0.6 in market.tsv: at least 1.8 times the share),
   remote postings more common in the US than in China (at least 2 times), and
   nurses are never remote.

GTP_TAXONOMY is passed through, so a flattened market.tsv shows the test failing.
Needs no services.
"""
import collections
import json
import math
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gtptest as T  # noqa: E402

SEED = 17
START = "2024-03-18T00:00:00Z"  # a Monday
START_US = 1710720000 * 1000000
DAY_US = 86400 * 1000000
HOUR_US = 3600 * 1000000
failures = []


def check(ok, what):
    T.log(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def print_model(at):
    out = subprocess.run([T.binary("gtp-generator"), "--print-model", "--seed", str(SEED),
                          "--start", START, "--at", at, "--metrics-port", "0"],
                         stdout=subprocess.PIPE, check=True)
    return json.loads(out.stdout)


def generate():
    """Enriched clean events of 7 simulated days, and how many raw lines."""
    gen = subprocess.Popen([T.binary("gtp-generator"), "--out", "-", "--seed", str(SEED),
                            "--start", START, "--rate", "1", "--speed", "1e9", "--chaos", "0",
                            "--count", "700000", "--metrics-port", "0", "--log-level", "warn"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    enr = subprocess.Popen([T.binary("gtp-enrich"), "--now", "2100-01-01T00:00:00Z"],
                           stdin=gen.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    gen.stdout.close()
    events = []
    end_us = START_US + 7 * DAY_US
    for line in enr.stdout:
        ev = json.loads(line)
        ts = T.parse_ts_us(ev["posted_at"])
        if ts >= end_us:
            break
        events.append((ts, ev))
    enr.stdout.close()
    for p in (gen, enr):
        p.terminate()
        p.wait()
    return events


def jsd(p, q):
    """Jensen-Shannon divergence in bits of two dicts of probabilities."""
    d = 0.0
    for k in set(p) | set(q):
        a, b = p.get(k, 0.0), q.get(k, 0.0)
        m = (a + b) / 2
        if a > 0:
            d += 0.5 * a * math.log2(a / m)
        if b > 0:
            d += 0.5 * b * math.log2(b / m)
    return d


def dist(regions):
    c = collections.Counter(regions)
    n = sum(c.values())
    return {k: v / n for k, v in c.items()}


def main():
    t0 = time.time()
    m0, m6 = print_model("+12h"), print_model("+156h")
    events = generate()
    T.log("%d enriched events over 7 simulated days in %.1f s" % (len(events), time.time() - t0))

    # --- reposts, then one record per job (a repost carries the old text) ---------------
    first, reposts = {}, 0
    for ts, ev in events:
        j = ev["job_id"]
        if j in first:
            f_ts, f_ev = first[j]
            if ts - f_ts >= 2 * DAY_US and ev["event_id"] != f_ev["event_id"]:
                reposts += 1
        else:
            first[j] = (ts, ev)
    jobs = sorted(first.values(), key=lambda r: r[0])
    check(reposts > 100, "reposts: %d job_ids re-posted >= 2 days later with a new event_id"
          % reposts)

    # --- 1. trends ------------------------------------------------------------------------
    def window(d0, d1):
        return [ev for ts, ev in jobs if START_US + d0 * DAY_US <= ts < START_US + d1 * DAY_US]

    day0, day6 = window(0, 1), window(6, 7)

    def per_region(evs):
        n, s = collections.Counter(), collections.defaultdict(collections.Counter)
        for ev in evs:
            n[ev["region"]] += 1
            for sk in set(ev["skills_array"]):
                s[sk][ev["region"]] += 1
        return n, s

    n0, s0 = per_region(day0)
    n6, s6 = per_region(day6)
    moving = [k for k, v in m0["skills"].items() if v["kind"] in ("rising", "falling")]
    check(len([k for k in moving if m0["skills"][k]["kind"] == "rising"]) >= 3 and
          len([k for k in moving if m0["skills"][k]["kind"] == "falling"]) >= 3,
          "--print-model names >= 3 rising and >= 3 falling skills: %s" % sorted(moving))
    for sk in sorted(moving) + ["python", "sql", "docker"]:
        want = m6["skills"][sk]["trend"] / m0["skills"][sk]["trend"]
        got6 = sum(s6[sk].values())
        # what day 6 would show at day 0's rates, region by region
        exp6 = sum(n6[r] * s0[sk][r] / n0[r] for r in n6 if n0[r])
        got0 = sum(s0[sk].values())
        if not got6 or not exp6 or not got0:
            check(False, "trend %s: no mentions (day 0 %d, day 6 %d)" % (sk, got0, got6))
            continue
        ratio = got6 / exp6
        se = math.sqrt(1 / got6 + 1 / got0)
        z = (math.log(ratio) - math.log(want)) / se
        moves = sk in moving
        check(abs(z) < 4 and (not moves or abs(want - 1) >= 0.3),
              "trend %-10s day 0 -> day 6: x%.3f measured, x%.3f in the model (z %+.1f, "
              "%d -> %d mentions)" % (sk, ratio, want, z, got0, got6))

    emerging = [k for k, v in m0["skills"].items() if v["kind"] == "emerging"]
    early = window(0, 0.25)
    rank6 = collections.Counter(sk for ev in day6 for sk in set(ev["skills_array"]))
    order = [k for k, _ in rank6.most_common()]
    check(len(emerging) >= 2, "--print-model names emerging skills: %s" % emerging)
    for sk in emerging:
        e = sum(sk in ev["skills_array"] for ev in early) / max(1, len(early))
        r = order.index(sk) + 1 if sk in order else 999
        check(e < 0.005 and r <= 30, "emerging %-10s %.3f %% of the first 6 h, rank %d on day 6"
              % (sk, 100 * e, r))

    # --- 2. local working hours -----------------------------------------------------------
    peaks = {}
    for cc in ("US", "IN"):
        off = m0["countries"][cc]["utc_offset_min"]
        hours = collections.Counter((ts // HOUR_US) % 24 for ts, ev in jobs if ev["region"] == cc)
        peak = max(range(24), key=lambda h: hours[h])
        local = ((peak * 60 + off) % 1440) / 60
        peaks[cc] = peak
        check(8 <= local <= 18, "hourly curve of %s peaks at %02d UTC = %.1f h local"
              % (cc, peak, local))
    gap = abs(peaks["US"] - peaks["IN"])
    check(min(gap, 24 - gap) >= 6, "US and IN peaks %d h apart in UTC" % min(gap, 24 - gap))

    # --- 3. regional character ------------------------------------------------------------
    regions = [ev["region"] for ts, ev in jobs if ev["region"] not in ("REMOTE", "UNKNOWN")]
    overall = dist(regions)
    rnd = random.Random(SEED)
    above = []
    for sk in ("sap", "vue", "ruby", "rails", "angular", "selenium", "salesforce", "flutter",
               "php", "spring", "docker", "sql"):
        reg = [ev["region"] for ts, ev in jobs
               if sk in ev["skills_array"] and ev["region"] not in ("REMOTE", "UNKNOWN")]
        if len(reg) < 200:
            T.log("      %s: only %d postings" % (sk, len(reg)))
            continue
        d = jsd(dist(reg), overall)
        null = max(jsd(dist(rnd.sample(regions, len(reg))), overall) for _ in range(20))
        thr = max(0.005, 3 * null)
        T.log("      JSD %-10s %.4f bit (n %d, chance up to %.4f, threshold %.4f)"
              % (sk, d, len(reg), null, thr))
        if d > thr:
            above.append(sk)
    check(len(above) >= 5, "regional character: %d skills differ from the posting map: %s"
          % (len(above), above))

    # --- 4. employers -----------------------------------------------------------------------
    emp = m0["employers"]
    n_emp, s = emp["count"], emp["zipf_s"]
    w = [r ** -s for r in range(1, n_emp + 1)]
    want_top = sum(w[:n_emp // 100]) / sum(w)
    comp = collections.Counter(ev["company"] for ts, ev in jobs)
    counts = [c for _, c in comp.most_common()]
    got_top = sum(counts[:n_emp // 100]) / len(jobs)
    check(abs(got_top - want_top) < 0.02, "top 1 %% of %d employers: %.3f of postings, Zipf "
          "s=%g gives %.3f" % (n_emp, got_top, s, want_top))
    xs = [math.log(r) for r in range(1, 201)]
    ys = [math.log(c) for c in counts[:200]]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    check(abs(-slope - s) < 0.1, "rank-frequency slope over ranks 1-200: %.3f (s=%g)"
          % (-slope, s))

    # --- 6. seniority and remote mix --------------------------------------------------------
    def share(cc, pred):
        evs = [ev for ts, ev in jobs if ev["region"] == cc]
        return sum(map(pred, evs)) / max(1, len(evs))

    junior = lambda ev: ev["experience_level"] in ("Intern", "Junior")  # noqa: E731
    remote = lambda ev: ev["is_remote"]  # noqa: E731
    j_in, j_ch = share("IN", junior), share("CH", junior)
    check(j_in > 1.8 * j_ch, "junior titles: %.3f in India, %.3f in Switzerland" % (j_in, j_ch))
    r_us, r_cn = share("US", remote), share("CN", remote)
    check(r_us > 2 * r_cn, "remote postings: %.3f in the US, %.3f in China" % (r_us, r_cn))
    nurses = [ev for ts, ev in jobs if "Nurse" in ev["title"]]
    check(nurses and not any(ev["is_remote"] for ev in nurses),
          "%d nurse postings, none remote" % len(nurses))

    T.log("%d checks failed; %.1f s" % (len(failures), time.time() - t0))
    if failures:
        for f in failures:
            T.log("FAILED: " + f)
        sys.exit(1)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
