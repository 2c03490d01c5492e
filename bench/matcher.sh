#!/usr/bin/env bash
# Skill matcher throughput (one core): real matcher vs the naive per-alias
# substring baseline. Uses generator output when build/gtp-generator exists,
# else the labelled corpus. Usage: bench/matcher.sh [BUILD_DIR] [TARGET_MB]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mb=${2:-50}
if [ ! -x "$build/bench_matcher" ]; then
    cmake -S "$root" -B "$build" >/dev/null
    cmake --build "$build" --target bench_matcher -j2 >/dev/null
fi
texts=$root/tests/data/skills_corpus.jsonl
if [ -x "$build/gtp-generator" ]; then
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    if "$build/gtp-generator" --count 20000 --seed 7 --chaos 0 --out "$tmp" >/dev/null 2>&1 &&
        [ -s "$tmp" ]; then
        texts=$tmp
    fi
fi
echo "texts: $texts" >&2
exec taskset -c 0 "$build/bench_matcher" "$root/taxonomy" "$texts" "$mb"
