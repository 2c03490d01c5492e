#!/usr/bin/env bash
# Generator benchmark (issue 2, acceptance 5): events/s of gtp-generator into
# /dev/null and into the local Kafka broker, each beside a baseline measured in
# the same run on the same events: `cat FILE > /dev/null` (the cost of merely
# moving the bytes) and `kcat -P` of the same file with the same producer
# settings (what a stock producer reaches on this broker).
#
#   bench/generator.sh [COUNT]        default 1000000 events, seed 7
#
# Environment: GTP_BUILD_DIR (default build), BROKERS (default 127.0.0.1:9092),
# CHAOS (default 0.05, the generator's default). The Kafka rows need the local
# broker (scripts/services.sh start); without it they are skipped.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GTP_BUILD_DIR:-$root/build}
gen=$build/gtp-generator
count=${1:-1000000}
brokers=${BROKERS:-127.0.0.1:9092}
chaos=${CHAOS:-0.05}
[[ -x $gen ]] || { echo "bench: $gen not built (cmake --build $build)" >&2; exit 1; }

tmp=$(mktemp -d)
topics=()
cleanup() {
    for t in "${topics[@]}"; do "$root/scripts/services.sh" delete-topic "$t" >/dev/null 2>&1 || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
rows=()
row() { rows+=("$(printf '| %-36s | %9s | %7.3f | %10s |' "$1" "$2" "$3" "$(rate "$2" "$3")")"); }

common=(--count "$count" --seed 7 --chaos "$chaos" --metrics-port 0 --log-level warn)

echo "bench: generating $count events (seed 7, chaos $chaos) on $(nproc) cores" >&2
"$gen" "${common[@]}" --out "$tmp/events.jsonl" 2>/dev/null
bytes=$(stat -c %s "$tmp/events.jsonl")
lines=$(wc -l <"$tmp/events.jsonl")
[[ $lines == "$count" ]] || { echo "bench: expected $count lines, got $lines" >&2; exit 1; }

# --- into /dev/null ---------------------------------------------------------------
t0=$(now); "$gen" "${common[@]}" --out /dev/null 2>/dev/null; t1=$(now)
gen_null=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
row "gtp-generator --out /dev/null" "$count" "$gen_null"
t0=$(now); cat "$tmp/events.jsonl" >/dev/null; t1=$(now)
cat_null=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
row "baseline: cat file > /dev/null" "$count" "$cat_null"
t0=$(now); "$gen" --count "$count" --seed 7 --chaos 0 --metrics-port 0 --log-level warn --out /dev/null 2>/dev/null; t1=$(now)
row "gtp-generator --chaos 0 > /dev/null" "$count" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"

# --- into Kafka ------------------------------------------------------------------------
kafka=no
if (exec 3<>"/dev/tcp/${brokers%%:*}/${brokers##*:}") 2>/dev/null; then kafka=yes; fi
if [[ $kafka == yes ]]; then
    t_gen=gtp.bench.gen.$$ t_kcat=gtp.bench.kcat.$$
    topics=("$t_gen" "$t_kcat")
    for t in "${topics[@]}"; do "$root/scripts/services.sh" create-topic "$t" 6 >/dev/null; done
    # the generator's producer defaults, given to kcat explicitly
    props=(-X enable.idempotence=true -X acks=all -X linger.ms=10 -X batch.num.messages=10000
           -X batch.size=1000000 -X compression.type=lz4 -X message.max.bytes=4194304
           -X queue.buffering.max.messages=500000 -X queue.buffering.max.kbytes=524288)
    t0=$(now); "$gen" "${common[@]}" -b "$brokers" -t "$t_gen" 2>"$tmp/gen.err"; t1=$(now)
    gen_kafka=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    grep -q "delivered=$count failed=0" "$tmp/gen.err" || { cat "$tmp/gen.err" >&2; echo "bench: not all delivered" >&2; exit 1; }
    row "gtp-generator -> kafka (acks=all)" "$count" "$gen_kafka"
    t0=$(now); kcat -P -b "$brokers" -t "$t_kcat" "${props[@]}" -l "$tmp/events.jsonl"; t1=$(now)
    kcat_kafka=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    row "baseline: kcat -P -l file (same -X)" "$count" "$kcat_kafka"
fi

echo
echo "events: $count, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') of JSON lines, seed 7, chaos $chaos"
echo
echo "| case                                 |    events | seconds |   events/s |"
echo "|--------------------------------------|-----------|---------|------------|"
printf '%s\n' "${rows[@]}"
echo
awk -v g="$gen_null" -v c="$cat_null" 'BEGIN { printf "generator/dev/null vs cat: %.2fx the time of cat (target >= 300000 events/s)\n", g / c }'
if [[ $kafka == yes ]]; then
    awk -v g="$gen_kafka" -v k="$kcat_kafka" -v n="$count" 'BEGIN { printf "generator->kafka vs kcat -P: %.2fx kcat'"'"'s throughput (target >= 100000 events/s)\n", k / g }'
else
    echo "kafka rows skipped: no broker on $brokers (scripts/services.sh start)"
fi
