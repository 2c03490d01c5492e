#!/usr/bin/env bash
# Parquet writer benchmark (issue 5): rows/s of gtp's Parquet writer on realistic enriched
# archive rows, beside a baseline measured in the same run on the same rows (writing them
# as JSON lines with a hand-rolled serialiser, fsync included on both sides), and the
# Parquet file size relative to the JSON-lines size (target <= 0.25).
#
#   bench/parquet.sh [ROWS]          default 1000000 rows
#
# Environment: GTP_BUILD_DIR (default build). Runs ZSTD level 1 and 3, SNAPPY and
# UNCOMPRESSED, each with its own JSON baseline. Files go to a temp dir, removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GTP_BUILD_DIR:-$root/build}
bench=$build/bench_parquet
rows=${1:-1000000}
[[ -x $bench ]] || { echo "bench: $bench not built (cmake --build $build)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "bench: $rows rows on $(nproc) cores ($(uname -m))" >&2
for spec in zstd:3 zstd:1 snappy:0 none:0; do
    codec=${spec%%:*}
    level=${spec##*:}
    [[ $codec == zstd ]] && label="$codec (level $level)" || label=$codec
    echo "== $label"
    "$bench" --rows "$rows" --codec "$codec" --level "${level/#0/3}" --dir "$tmp"
done
