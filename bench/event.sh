#!/usr/bin/env bash
# Event validation throughput (one core): gtp_event_process with the fast
# path vs the jansson-only path, over generator events (--chaos 0.05).
# Usage: bench/event.sh [BUILD_DIR] [COUNT] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
count=${2:-100000}
rounds=${3:-5}
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" --target bench_event gtp-generator -j2 >/dev/null
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$build/gtp-generator" --count "$count" --seed 7 --chaos 0.05 --rate 0 --metrics-port 0 \
    --out "$tmp" >/dev/null 2>&1
exec taskset -c 0 "$build/bench_event" "$root/taxonomy" "$tmp" "$rounds"
