#!/usr/bin/env bash
# gtp-generator into the real local Kafka (issue 2, acceptance 4): 100 000 clean
# events into a private 6-partition topic, read back with kcat: exactly 100 000
# messages, key == payload.job_id on every one, every partition used, event_ids
# unique, Kafka timestamps = the producer's wall clock (CreateTime, docs/kafka.md),
# a gtp.sim_us header on every one. Then --resume (docs/events.md, "Resuming"):
# a second run on the same topic starts its clock after the newest gtp.sim_us,
# with event ids of its own; on an empty topic it changes nothing.
# Needs scripts/services.sh start (it is idempotent, so the test calls it).
set -euo pipefail

root=${GTP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${GTP_BUILD_DIR:-$root/build}
gen=$build/gtp-generator
brokers=${GTP_TEST_BROKERS:-127.0.0.1:9092}
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
# --resume on an empty topic changes nothing: the same bytes as --out (checked below)
"$gen" -b $brokers -t "$topic" --count $count --seed 11 --chaos 0 --rate 0 --metrics-port 0 \
    --resume >"$tmp/gen.out" 2>"$tmp/gen.err" || {
    tail -n 20 "$tmp/gen.err" >&2
    fail "gtp-generator exited with $?"
}
grep -q "resume: no earlier events" "$tmp/gen.err" || fail "--resume on an empty topic: $(cat "$tmp/gen.err")"
"$gen" --out "$tmp/file.jsonl" --count $count --seed 11 --chaos 0 --metrics-port 0 2>/dev/null ||
    fail "gtp-generator --out failed"
t1=$(date +%s%3N)
echo "generator: $count events in $((t1 - t0)) ms" >&2

# -e: stop at the end of every partition; -J: one JSON envelope per message.
timeout 300 kcat -C -b $brokers -t "$topic" -o beginning -e -q -J \
    -X fetch.message.max.bytes=8388608 >"$tmp/msgs.jsonl" 2>"$tmp/kcat.err" || {
    cat "$tmp/kcat.err" >&2
    fail "kcat could not read $topic"
}

"$root/scripts/py" - "$tmp/msgs.jsonl" "$count" "$parts" "$t0" "$t1" "$tmp/file.jsonl" <<'EOF'
import collections, json, sys

path, want, nparts, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with open(sys.argv[6], encoding="utf-8") as f:
    from_file = collections.Counter(line.rstrip("\n") for line in f)
values = collections.Counter()
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
        values[m["payload"]] += 1
        h = m.get("headers") or []
        if h[:1] != ["gtp.sim_us"] or not h[1].isdigit():
            errors.append("offset %d/%d: headers %r, want gtp.sim_us" % (m["partition"], m["offset"], h))
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
if values != from_file:
    errors.append("the topic's events differ from --out's with the same seed")
if sorted(per_part) != list(range(nparts)):
    errors.append("partitions used: %s, expected all of 0..%d" % (sorted(per_part), nparts - 1))
for e in errors[:10]:
    print("FAIL:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print("ok: %d messages, %d unique event_ids, per partition %s"
      % (n, len(ids), dict(sorted(per_part.items()))))
EOF

# --- --resume on a topic that holds events: the clock continues after the newest ----
"$gen" -b $brokers -t "$topic" --count 2000 --seed 11 --chaos 0 --rate 0 --metrics-port 0 \
    --resume >/dev/null 2>"$tmp/gen2.err" || {
    tail -n 20 "$tmp/gen2.err" >&2
    fail "gtp-generator --resume exited with $?"
}
grep -q "continuing from there" "$tmp/gen2.err" || fail "--resume did not resume: $(cat "$tmp/gen2.err")"
timeout 300 kcat -C -b $brokers -t "$topic" -o beginning -e -q -J \
    -X fetch.message.max.bytes=8388608 >"$tmp/msgs2.jsonl" 2>"$tmp/kcat.err" || {
    cat "$tmp/kcat.err" >&2
    fail "kcat could not read $topic"
}
"$root/scripts/py" - "$tmp/msgs.jsonl" "$tmp/msgs2.jsonl" <<'EOF'
import collections, json, sys

def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]

def sim_us(m):
    h = m.get("headers") or []
    return int(dict(zip(h[::2], h[1::2]))["gtp.sim_us"])

first, both = read(sys.argv[1]), read(sys.argv[2])
ends = collections.Counter()
for m in first:
    ends[m["partition"]] = max(ends[m["partition"]], m["offset"] + 1)
newest = max(sim_us(m) for m in first)
second = [m for m in both if m["offset"] >= ends[m["partition"]]]
sims = [sim_us(m) for m in second]
ids1 = {json.loads(m["payload"])["event_id"] for m in first}
reused = 0
for m in second:
    reused += json.loads(m["payload"])["event_id"] in ids1
errors = []
if len(second) != 2000:
    errors.append("the resumed run wrote %d messages, expected 2000" % len(second))
if not sims or min(sims) <= newest:
    errors.append("resumed clock starts at %s, not after the newest %d" % (min(sims or [0]), newest))
if reused:
    errors.append("%d event ids of the first run repeated after --resume with the same seed" % reused)
for e in errors:
    print("FAIL:", e, file=sys.stderr)
if errors:
    sys.exit(1)
print("ok: resumed after %d: %d events from %d on, no event id repeated" % (newest, len(second), min(sims)))
EOF

# --- a last message without the header (another producer) adds nothing ----------------
newest=$(kcat -C -b $brokers -t "$topic" -o beginning -e -q -f '%h\n' | sed -n 's/^gtp\.sim_us=//p' | sort -n | tail -1)
echo 'not an event' | kcat -P -b $brokers -t "$topic" -p 0 || fail "kcat could not produce"
"$gen" -b $brokers -t "$topic" --count 10 --seed 12 --chaos 0 --rate 0 --metrics-port 0 --resume \
    --log-level debug >/dev/null 2>"$tmp/gen3.err" || fail "gtp-generator --resume exited with $?"
grep -q "partition 0 offset [0-9]*: no gtp.sim_us header" "$tmp/gen3.err" ||
    fail "the header-less last message was not seen: $(grep resume "$tmp/gen3.err")"
got=$(sed -n "s/.*newest simulated time on $topic is \([^ ]*\): continuing.*/\1/p" "$tmp/gen3.err")
[[ -n $got ]] || fail "did not resume: $(grep resume: "$tmp/gen3.err")"
got_us=$("$root/scripts/py" -c "import sys; sys.path.insert(0, '$root/tests/integration'); import gtptest as T; print(T.parse_ts_us('$got'))")
[[ $got_us == "$newest" ]] || fail "resumed after $got ($got_us), the newest gtp.sim_us is $newest"
echo "ok: a last message without gtp.sim_us ignored; resumed after $got"
