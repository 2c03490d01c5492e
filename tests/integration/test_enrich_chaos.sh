#!/usr/bin/env bash
# Issue 3, acceptance 5: gtp-enrich on the generator's --chaos 0.2 stream gives
# one output line per input line, each either the enriched record or a
# rejection whose reason an independent checker derives from the input alone.
set -euo pipefail

src=${GTP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GTP_BUILD_DIR:-$src/build}
for bin in gtp-generator gtp-enrich; do
    if [[ ! -x $build/$bin ]]; then
        echo "FAIL: $build/$bin not built" >&2
        exit 1
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/gtp-generator" --out - --count 20000 --seed 5 --chaos 0.2 >"$tmp/in.jsonl" 2>"$tmp/gen.log"
# The generator's clock never runs ahead of the wall clock, so "now" is after
# every honest event; the far-future chaos (years 2090+) stays in the future.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start=$(date +%s.%N)
"$build/gtp-enrich" --now "$now" --taxonomy "$src/taxonomy" <"$tmp/in.jsonl" >"$tmp/out.jsonl"
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" -v n="$(wc -l <"$tmp/in.jsonl")" \
    'BEGIN { printf "gtp-enrich: %d lines in %.2f s (%.0f lines/s)\n", n, b - a, n / (b - a) }'
"$src/scripts/py" "$src/tests/integration/enrich_chaos_check.py" "$tmp/in.jsonl" "$tmp/out.jsonl" "$now"
