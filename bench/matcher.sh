#!/usr/bin/env bash
# Skill matcher throughput (one core): real matcher vs its reference path and
# the naive per-alias substring baseline. Uses generator output when
# build/gtp-generator exists, else the labelled corpus.
# Usage: bench/matcher.sh [BUILD_DIR] [TARGET_MB]
# MATCHER_BEFORE=REV also builds REV's bench_matcher (git archive into a
# temporary tree, built -j1) and runs it first on the same texts: its figure
# is the "before:" row, measured in the same invocation.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mb=${2:-50}
if [ ! -x "$build/bench_matcher" ]; then
    cmake -S "$root" -B "$build" >/dev/null
    cmake --build "$build" --target bench_matcher -j2 >/dev/null
fi
texts=$root/tests/data/skills_corpus.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -x "$build/gtp-generator" ]; then
    if "$build/gtp-generator" --count 20000 --seed 7 --chaos 0 --out "$tmp/texts" >/dev/null 2>&1 &&
        [ -s "$tmp/texts" ]; then
        texts=$tmp/texts
    fi
fi
echo "texts: $texts" >&2
if [ -n "${MATCHER_BEFORE:-}" ]; then
    mkdir "$tmp/before"
    git -C "$root" archive "$MATCHER_BEFORE" | tar -x -C "$tmp/before"
    cmake -S "$tmp/before" -B "$tmp/before/build" >/dev/null
    cmake --build "$tmp/before/build" --target bench_matcher -j1 >/dev/null
    BENCH_NO_BASELINE=1 taskset -c 0 "$tmp/before/build/bench_matcher" "$tmp/before/taxonomy" \
        "$texts" "$mb" 2>/dev/null |
        sed -n "s/^matcher: *\\([0-9.]* MB\\/s\\).*/before:   \\1  ($MATCHER_BEFORE, same texts)/p"
fi
taskset -c 0 "$build/bench_matcher" "$root/taxonomy" "$texts" "$mb"
