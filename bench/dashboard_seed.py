"""Seeds a Redis DB with what gtp-processor keeps for the dashboard (the trend
keys and their indexes, docs/redis.md, and the insight keys: posts, remote,
level, pairs, employers and their indexes), from synthetic postings, for
bench/dashboard.sh and the dashboard tests. Usage as a script:
    dashboard_seed.py DB [HOURS [POSTINGS_PER_HOUR]]
(Redis on 127.0.0.1:$GTP_REDIS_PORT, default 6379; the DB is flushed.)

write_postings() follows the key contract posting by posting: a counted
posting in region R at hour H with skills S adds 1 to posts:R:H and, per
skill, to trend:s:R:H, remote:s:H (remote postings), level:s:L:D (postings
with a level), the pair s|t of pairs:D, and adds the employer to the
HyperLogLog employers:s:D."""
import calendar
import os
import random
import sys
import time
from collections import Counter, defaultdict

import redis

REGIONS = ["us", "uk", "in", "de", "ca", "fr", "es", "nl", "au", "pl", "sg", "br", "jp", "ie",
           "se", "ch", "it", "pt", "mx", "ar", "za", "ng", "ke", "eg", "ae", "il", "tr", "cn",
           "kr", "ph", "vn", "id", "my", "nz", "be", "at", "dk", "no", "fi", "remote", "unknown"]
LEVELS = ["intern", "junior", "mid", "senior", "lead", "principal", "director"]


def hour_epoch(label):
    return calendar.timegm(time.strptime(label, "%Y-%m-%d-%H"))


def hour_label(epoch_s):
    return time.strftime("%Y-%m-%d-%H", time.gmtime(epoch_s))


def taxonomy_skills(root=None):
    root = root or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    ids = []
    with open(os.path.join(root, "taxonomy", "skills.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                ids.append(line.split("\t")[0])
    return ids


def write_postings(r, postings, ttl=None):
    """postings: dicts with hour ("YYYY-MM-DD-HH"), region, skills (distinct
    ids), remote (bool), level (lowercase or None), company (str or None)."""
    ints, zsets, hll = Counter(), defaultdict(Counter), defaultdict(set)
    hours = set()
    for x in postings:
        h, reg, d = x["hour"], x["region"], x["hour"][:10]
        hours.add(h)
        ints["posts:%s:%s" % (reg, h)] += 1
        zsets["gtp:posts:" + h][reg] += 1
        if x.get("remote"):
            ints["remote_posts:%s:%s" % (reg, h)] += 1
        sk = sorted(set(x["skills"]))
        for s in sk:
            ints["trend:%s:%s:%s" % (s, reg, h)] += 1
            zsets["gtp:pulse:" + h][s] += 1
            zsets["gtp:heat:" + h][reg] += 1
            zsets["gtp:heat:%s:%s" % (h, s)][reg] += 1
            zsets["gtp:rskills:%s:%s" % (h, reg)][s] += 1
            if x.get("remote"):
                ints["remote:%s:%s" % (s, h)] += 1
            if x.get("level"):
                ints["level:%s:%s:%s" % (s, x["level"], d)] += 1
            if x.get("company"):
                hll["employers:%s:%s" % (s, d)].add(x["company"].strip().lower())
        for i, a in enumerate(sk):
            for b in sk[i + 1:]:
                zsets["pairs:" + d][a + "|" + b] += 1
                zsets["gtp:pairs:%s:%s" % (d, a)][b] += 1
                zsets["gtp:pairs:%s:%s" % (d, b)][a] += 1
    p = r.pipeline(transaction=False)
    n = 0
    for k, v in ints.items():
        p.incrby(k, v)
        n += 1
    for k, m in zsets.items():
        for member, v in m.items():
            p.zincrby(k, v, member)
        n += len(m)
    for k, members in hll.items():
        p.pfadd(k, *members)
        n += 1
    for h in hours:
        p.zadd("gtp:hours", {h: hour_epoch(h)})
    if ttl:
        for k in list(ints) + list(zsets) + list(hll):
            p.expire(k, ttl)
    p.execute()
    return n


def synth(hours, per_hour, seed=6, end_s=None, skills=None):
    """Synthetic postings over `hours` hours ending at the hour of end_s (now):
    Zipf-like skill popularity, 1-5 skills a posting, a quarter remote, one
    skill rising steadily and one falling, so the growth views have movement."""
    rnd = random.Random(seed)
    skills = skills or taxonomy_skills()
    end_s = (end_s if end_s is not None else int(time.time())) // 3600 * 3600
    weights = [1.0 / (1 + i) for i in range(len(skills))]
    rising, falling = skills[min(40, len(skills) - 1)], skills[3 % len(skills)]
    companies = ["Company %d" % i for i in range(400)]
    out = []
    for hi in range(hours):
        h = hour_label(end_s - (hours - 1 - hi) * 3600)
        t = hi / max(1, hours - 1)
        for _ in range(per_hour):
            k = rnd.choice((0, 1, 2, 2, 3, 3, 4, 5))
            sk = set(rnd.choices(skills, weights, k=k))
            if rnd.random() < 0.05 + 0.25 * t:
                sk.add(rising)
            if rnd.random() < 0.3 - 0.25 * t:
                sk.add(falling)
            ri = min(int(rnd.expovariate(0.25)), len(REGIONS) - 1)
            out.append({"hour": h, "region": REGIONS[ri], "skills": sorted(sk),
                        "remote": rnd.random() < 0.25,
                        "level": rnd.choice(LEVELS + [None]),
                        "company": rnd.choice(companies) if rnd.random() < 0.95 else None})
    return out


def main():
    db = int(sys.argv[1])
    hours = int(sys.argv[2]) if len(sys.argv) > 2 else 48
    per_hour = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    r = redis.Redis(host="127.0.0.1", port=int(os.environ.get("GTP_REDIS_PORT", "6379")), db=db)
    r.flushdb()
    end = int(time.time())
    write_postings(r, synth(hours, per_hour, end_s=end))
    r.hset("gtp:stats", mapping={"events_total": hours * per_hour, "rejected_total": 0,
                                 "late_total": 0, "duplicates_total": 0,
                                 "last_event_us": end * 1000000,
                                 "last_flush_ms": int(time.time() * 1000)})
    print("seeded db %d: %d hours x %d postings, %d keys" % (db, hours, per_hour, r.dbsize()),
          file=sys.stderr)


if __name__ == "__main__":
    main()
