"""Seeds a Redis DB with the index gtp-processor keeps (src/processor/store.c),
at realistic cardinalities, for bench/dashboard.sh: N hours x ~300 skills x
~40 regions, Zipf-like popularity. Usage: dashboard_seed.py DB [HOURS]."""
import random
import sys
import time

import redis

db = int(sys.argv[1])
hours = int(sys.argv[2]) if len(sys.argv) > 2 else 48
rnd = random.Random(6)
skills = ["s%03d" % i for i in range(300)] + ["python", "sql", "aws", "docker", "spark"]
regions = ["us", "uk", "in", "de", "ca", "fr", "es", "nl", "au", "pl", "sg", "br", "jp", "ie",
           "se", "ch", "it", "pt", "mx", "ar", "za", "ng", "ke", "eg", "ae", "il", "tr", "cn",
           "kr", "ph", "vn", "id", "my", "nz", "be", "at", "dk", "no", "fi", "remote", "unknown"]
r = redis.Redis(host="127.0.0.1", port=6379, db=db)
r.flushdb()
start = (int(time.time()) // 3600 - hours) * 3600
p = r.pipeline(transaction=False)
for h in range(hours):
    hs = start + h * 3600
    label = time.strftime("%Y-%m-%d-%H", time.gmtime(hs))
    for si, s in enumerate(skills):
        for ri, reg in enumerate(regions):
            if rnd.random() > 6.0 / (1 + ri) / (1 + si / 20):
                continue
            c = 1 + int(rnd.expovariate(1.0) * 20 / (1 + si / 10))
            p.incrby("trend:%s:%s:%s" % (s, reg, label), c)
            p.zincrby("gtp:pulse:" + label, c, s)
            p.zincrby("gtp:heat:" + label, c, reg)
            p.zincrby("gtp:heat:%s:%s" % (label, s), c, reg)
    p.zadd("gtp:hours", {label: hs})
    p.execute()
r.hset("gtp:stats", mapping={"events_total": 1000000, "rejected_total": 5000,
                             "late_total": 100, "duplicates_total": 200,
                             "last_event_us": (start + hours * 3600) * 1000000,
                             "last_flush_ms": int(time.time() * 1000)})
print("seeded db %d: %d hours, %d keys" % (db, hours, r.dbsize()), file=sys.stderr)
