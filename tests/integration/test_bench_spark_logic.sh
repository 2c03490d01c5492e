#!/usr/bin/env bash
# The Spark reference benchmark (bench/spark/) only proves something if its per-event logic
# finds the same skills and regions as gtp: run bench/spark/logic.py (the Spark job's UDF
# bodies, no Spark needed) and gtp-enrich with the comparison taxonomy over 50 000 chaos-free
# generator events and require identical skills_array and region on every event. Also
# checks that the comparison taxonomy's non-skill tables are still copies of taxonomy/.
set -euo pipefail
root=${GTP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${GTP_BUILD_DIR:-$root/build}
tax=$root/bench/spark/taxonomy
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
for b in gtp-generator gtp-enrich; do [[ -x $build/$b ]] || fail "$build/$b missing (build first)"; done
for f in countries us_states cities seniority; do
    cmp -s "$root/taxonomy/$f.tsv" "$tax/$f.tsv" ||
        fail "bench/spark/taxonomy/$f.tsv differs from taxonomy/$f.tsv (cp taxonomy/$f.tsv bench/spark/taxonomy/)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/gtp-generator" --seed 42 --count 50000 --rate 0 --chaos 0 --metrics-port 0 \
    --log-level warn --out "$tmp/raw.jsonl"
"$build/gtp-enrich" --taxonomy "$tax" --now 2100-01-01T00:00:00Z <"$tmp/raw.jsonl" >"$tmp/enr.jsonl"
[[ $(wc -l <"$tmp/enr.jsonl") == 50000 ]] || fail "gtp-enrich did not answer every line"
python3 "$root/bench/spark/logic.py" --check "$tax" "$tmp/enr.jsonl" "$tmp/raw.jsonl" ||
    fail "the Spark job's skill/region logic disagrees with gtp-enrich"
echo "1 passed, 0 failed"
