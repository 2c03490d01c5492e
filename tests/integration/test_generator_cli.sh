#!/usr/bin/env bash
# gtp-generator from the command line (issue 2, acceptance 2, 3 and 6): seeded
# runs are byte-identical and every clean line is a seed-shaped event with a
# unique event_id; --chaos 0.2 gives 15-25 % chaotic events of every kind,
# counted on /metrics and in the exit summary; a bad flag exits 64.
# Needs no services.
set -euo pipefail

root=${GTP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${GTP_BUILD_DIR:-$root/build}
gen=$build/gtp-generator
[[ -x $gen ]] || { echo "FAIL: $gen missing" >&2; exit 1; }
py=$root/scripts/py
tmp=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- acceptance 2: determinism and shape ------------------------------------------
"$gen" --out - --count 10000 --seed 7 --chaos 0 --metrics-port 0 >"$tmp/a" 2>/dev/null
"$gen" --out - --count 10000 --seed 7 --chaos 0 --metrics-port 0 >"$tmp/b" 2>/dev/null
"$gen" --out - --count 10000 --seed 8 --chaos 0 --metrics-port 0 >"$tmp/c" 2>/dev/null
[[ $(wc -l <"$tmp/a") == 10000 ]] || fail "expected 10000 lines"
cmp -s "$tmp/a" "$tmp/b" || fail "two runs with seed 7 differ"
cmp -s "$tmp/a" "$tmp/c" && fail "seed 8 gave the same bytes as seed 7"
"$py" - "$tmp/a" <<'EOF'
import json, re, sys
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ts = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ids = set()
with open(sys.argv[1], "rb") as f:
    for n, raw in enumerate(f, 1):
        ev = json.loads(raw.decode("utf-8"))
        assert list(ev) == ["event_id", "timestamp", "source", "payload"], (n, list(ev))
        p = ev["payload"]
        assert list(p) == ["job_id", "title", "company", "location", "description",
                           "is_remote"], (n, list(p))
        assert uuid.match(ev["event_id"]) and ts.match(ev["timestamp"]), n
        assert all(isinstance(p[k], str) for k in list(p)[:5]), n
        assert isinstance(p["is_remote"], bool), n
        ids.add(ev["event_id"])
assert len(ids) == 10000, len(ids)
print("shape ok: 10000 events, unique event_ids")
EOF

# --- acceptance 3: chaos fraction, kinds, /metrics and the exit summary ------------------
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# a paced run keeps the process alive long enough to scrape it
"$gen" --out "$tmp/chaos" --count 10000 --seed 7 --chaos 0.2 --rate 4000 --start now-1h \
    --speed 2 --metrics-port "$port" 2>"$tmp/chaos.err" &
pid=$!
metrics=
for _ in $(seq 50); do
    metrics=$(curl -sf "http://127.0.0.1:$port/metrics" || true)
    [[ $metrics == *gtp_generator_events_total* ]] && break
    sleep 0.1
done
[[ $metrics == *'gtp_generator_chaos_events_total{kind="late"}'* ]] || fail "no chaos counters on /metrics"
[[ $(curl -sf "http://127.0.0.1:$port/healthz") == ok ]] || fail "/healthz not ok"
wait "$pid" || fail "generator exited $?"
pid=
"$py" - "$tmp/chaos.err" <<'EOF'
import re, sys
err = open(sys.argv[1]).read()
m = re.search(r"summary: (\d+) events.*chaotic (\d+)", err)
assert m, err
events, chaotic = int(m.group(1)), int(m.group(2))
assert events == 10000, events
assert 0.15 <= chaotic / events <= 0.25, chaotic
kinds = dict(re.findall(r"(\w+)=(\d+)", err.split("summary: chaos", 1)[1].splitlines()[0]))
assert len(kinds) == 12 and all(int(v) > 0 for v in kinds.values()), kinds
assert sum(int(v) for v in kinds.values()) == chaotic
print(f"chaos ok: {chaotic}/{events} chaotic, every kind: {kinds}")
EOF

# --- acceptance 6: a bad flag exits 64, a bad value 78 ---------------------------------
set +e
"$gen" --bogus >/dev/null 2>&1; rc=$?
[[ $rc == 64 ]] || fail "--bogus exited $rc, want 64"
"$gen" --chaos 2 --out - --count 1 >/dev/null 2>&1; rc=$?
[[ $rc == 78 ]] || fail "--chaos 2 exited $rc, want 78"
"$gen" --resume --out - --count 1 >/dev/null 2>&1; rc=$?
[[ $rc == 78 ]] || fail "--resume with --out exited $rc, want 78"
"$gen" --help >/dev/null; rc=$?
[[ $rc == 0 ]] || fail "--help exited $rc"
# the market model (docs/events.md): a broken market.tsv or --at is a configuration error
mkdir "$tmp/tax" && printf 'country\tUS\t-5\tsat-sun\t1\t1\n' >"$tmp/tax/market.tsv"
err=$("$gen" --taxonomy "$tmp/tax" --out - --count 1 2>&1 >/dev/null); rc=$?
[[ $rc == 78 && $err == *"market.tsv:1: UTC offset"* ]] || fail "bad market.tsv: exit $rc, '$err'"
"$gen" --print-model --seed 1 --at yesterday >/dev/null 2>&1; rc=$?
[[ $rc == 78 ]] || fail "--at yesterday exited $rc, want 78"
set -e
# --print-model is deterministic for a seed and names what moves
"$gen" --print-model --seed 3 --at +2d --metrics-port 0 >"$tmp/m1" 2>/dev/null
"$gen" --print-model --seed 3 --at +2d --metrics-port 0 >"$tmp/m2" 2>/dev/null
cmp -s "$tmp/m1" "$tmp/m2" || fail "--print-model differs between two runs"
"$py" - "$tmp/m1" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
kinds = {v["kind"] for v in m["skills"].values()}
assert {"rising", "falling", "emerging", "steady"} <= kinds, kinds
assert abs(sum(c["share"] for c in m["countries"].values()) - 1) < 1e-3
print("print-model ok: %d skills, %d countries, %d spikes" % (len(m["skills"]), len(m["countries"]), len(m["spikes"])))
EOF2
echo "PASS"
