#!/usr/bin/env bash
# gtp-generator into the real local Kafka (issue 2, acceptance 4): 100 000 clean
# events into a private 6-partition topic, read back with kcat: exactly 100 000
# messages, key == payload.job_id on every one, every partition used, event_ids
# unique, Kafka timestamps = the producer's wall clock (CreateTime, docs/kafka.md).
# Needs scripts/services.sh start (it is idempotent, so the test calls it).
set -euo pipefail

root=${GTP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${GTP_BUILD_DIR:-$root/build}
gen=$build/gtp-generator
brokers=127.0.0.1:9092
count=100000
parts=6
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
[[ -x $gen ]] || fail "$gen missing (build first)"
command -v kcat >/dev/null || fail "kcat missing (scripts/setup.sh)"

"$root/scripts/services.sh" start >/dev/null 2>&1 || fail "scripts/services.sh start failed"
topic=test.genkafka.$(date +%s).$$
tmp=$(mktemp -d)
cleanup() {
    rm -rf "$tmp"
    "$root/scripts/services.sh" delete-topic "$topic" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$root/scripts/services.sh" create-topic "$topic" $parts

t0=$(date +%s%3N)
"$gen" -b $brokers -t "$topic" --count $count --seed 11 --chaos 0 --rate 0 --metrics-port 0 \
    >"$tmp/gen.out" 2>"$tmp/gen.err" || {
    tail -n 20 "$tmp/gen.err" >&2
    fail "gtp-generator exited with $?"
}
t1=$(date +%s%3N)
echo "generator: $count events in $((t1 - t0)) ms" >&2

# -e: stop at the end of every partition; -J: one JSON envelope per message.
timeout 300 kcat -C -b $brokers -t "$topic" -o beginning -e -q -J \
    -X fetch.message.max.bytes=8388608 >"$tmp/msgs.jsonl" 2>"$tmp/kcat.err" || {
    cat "$tmp/kcat.err" >&2
    fail "kcat could not read $topic"
}

"$root/scripts/py" - "$tmp/msgs.jsonl" "$count" "$parts" "$t0" "$t1" <<'EOF'
import collections, json, sys

path, want, nparts, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
per_part = collections.Counter()
ids = set()
errors = []
n = 0
with open(path, encoding="utf-8") as f:
    for line in f:
        n += 1
        m = json.loads(line)
        per_part[m["partition"]] += 1
        ev = json.loads(m["payload"])
        job = ev["payload"]["job_id"]
        if m["key"] != job:
            errors.append("offset %d/%d: key %r != payload.job_id %r" % (m["partition"], m["offset"], m["key"], job))
        if ev["event_id"] in ids:
            errors.append("duplicate event_id %s" % ev["event_id"])
        ids.add(ev["event_id"])
        # Kafka timestamp is the producer's wall clock, never the simulated one.
        if m.get("tstype") != "create" or not (t0 - 5000 <= m["ts"] <= t1 + 5000):
            errors.append("message %d/%d: timestamp %s %s outside the run [%d, %d]"
                          % (m["partition"], m["offset"], m.get("tstype"), m["ts"], t0, t1))
        if len(errors) > 10:
            break
if n != want:
    errors.append("read %d messages, expected %d" % (n, want))
if sorted(per_part) != list(range(nparts)):
    errors.append("partitions used: %s, expected all of 0..%d" % (sorted(per_part), nparts - 1))
for e in errors[:10]:
    print("FAIL:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print("ok: %d messages, %d unique event_ids, per partition %s"
      % (n, len(ids), dict(sorted(per_part.items()))))
EOF
