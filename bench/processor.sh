#!/usr/bin/env bash
# Processor benchmark (issue 8): on a pre-filled, chaos-free topic of COUNT events,
#   - end-to-end events/s of gtp-processor from process start to the last flush (every
#     partition's next offset in redis = its log-end offset), beside a consume-only baseline
#     timed in the same run: kcat -C -e -o beginning -t TOPIC > /dev/null; the two alternate,
#     ROUNDS each, and the medians are reported;
#   - peak RSS (VmHWM): the largest of those runs;
#   - p99 event-to-redis latency at RATE events/s: the generator runs live (--start now) into
#     a fresh topic; an event's latency is the time from its Kafka CreateTime (the producer's
#     wall clock) until redis shows its partition's next offset past it (polled every 5 ms),
#     beside the same events' CreateTime -> receive latency of a plain consumer (the part
#     that is Kafka's, not ours);
#   - the cost of the insights aggregates (docs/redis.md "Insights keys"): the same topic with
#     --insights true and false, alternating, ROUNDS each (default 3), medians side by side,
#     with the flush script's time inside Redis per flush (INFO commandstats, EVALSHA).
#
#   bench/processor.sh [COUNT] [RATE] [SECONDS]      default 1000000 5000 30
#
# Environment: GTP_BUILD_DIR (default build), BROKERS, TOPIC (reuse a filled topic instead of
# creating one), OUT (directory: also write throughput.json, latency.json and insights.json
# there), ROUNDS, GTP_REDIS_PORT (redis of scripts/services.sh, default 6379).
# Uses redis db 8 only (flushed), private topics and groups, removed at exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${1:-1000000}
rate=${2:-5000}
secs=${3:-30}
export GTP_BUILD_DIR=${GTP_BUILD_DIR:-$root/build}
out=${OUT:-}
py() { "$root/scripts/py" "$root/bench/pbench.py" "$@"; }
tmp=$(mktemp -d)
topic=${TOPIC:-}
own=no
cleanup() {
    if [[ $own == yes ]]; then
        "$root/scripts/services.sh" delete-topic "$topic" >/dev/null 2>&1 || true
        "$root/scripts/services.sh" delete-topic "$topic.dlq" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
if [[ -z $topic ]]; then
    topic=gtp.bench.proc.$$
    own=yes
    echo "bench: filling $topic with $count events (seed 42, chaos 0)" >&2
    py fill --topic "$topic" --count "$count" >"$tmp/fill.json"
fi
py throughput --topic "$topic" --rounds "${ROUNDS:-3}" >"$tmp/throughput.json"
py latency --rate "$rate" --seconds "$secs" >"$tmp/latency.json"
py insights --topic "$topic" --rounds "${ROUNDS:-3}" >"$tmp/insights.json"
[[ -n $out ]] && cp "$tmp/throughput.json" "$tmp/latency.json" "$tmp/insights.json" "$out/"
"$root/scripts/py" - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
t = json.load(open(d + "/throughput.json")); l = json.load(open(d + "/latency.json"))
i = json.load(open(d + "/insights.json"))
print(f"| {'case':50} | {'value':>14} |")
print(f"|{'-' * 52}|{'-' * 16}|")
rows = [
    (f"gtp-processor to last flush ({t['events']} ev, median of {t['rounds']})",
     f"{t['events_per_s']:,} ev/s"),
    ("baseline: kcat -C -e > /dev/null (median)", f"{t['kcat_events_per_s']:,} ev/s"),
    ("gtp-processor cpu seconds (median)", f"{t['cpu_s']} s"),
    ("gtp-processor peak rss (VmHWM, largest)", f"{t['peak_rss_kb'] / 1024:.1f} MB"),
    (f"p50 / p99 / max event->redis @ {l['rate_events_per_s']} ev/s",
     f"{l['p50_ms']:.0f}/{l['p99_ms']:.0f}/{l['max_ms']:.0f} ms"),
    ("baseline: p50 / p99 kafka->plain consumer", f"{l['kafka_p50_ms']:.0f}/{l['kafka_p99_ms']:.0f} ms"),
    (f"with insights (median of {i['rounds']})", f"{i['events_per_s_on']:,} ev/s"),
    ("baseline: --insights=false", f"{i['events_per_s_off']:,} ev/s"),
    ("flush script in redis, with / without", f"{i['lua_ms_per_flush_on']}/{i['lua_ms_per_flush_off']} ms"),
    ("processor cpu s, with / without", f"{i['cpu_s_on']}/{i['cpu_s_off']} s"),
    ("redis cpu s, with / without", f"{i['redis_cpu_s_on']}/{i['redis_cpu_s_off']} s"),
]
for a, b in rows:
    print(f"| {a:50} | {b:>14} |")
print(f"\nratio to kcat consume-only: {t['events_per_s'] / t['kcat_events_per_s']:.2f}x")
print(f"insights cost: {i['cost_pct']} % of events/s (target <= 15 %), "
      f"{i['cpu_cost_pct']} % more processor + redis cpu")
PY
