#!/usr/bin/env bash
# What an archiver restart costs as the Delta log grows (docs/archive.md): the archiver
# archives a generated topic with tiny rolls (--roll-rows ROWS), stopping at about ROLLS1 and
# then ROLLS2 log versions; after each stop a fresh instance of the same group is started
# and timed from process start until every partition is assigned (its position and dedup
# state replayed from the log), with its peak RSS, then stopped. Done three times on the
# same topic: --checkpoint-interval 10 (the default); the same with `gtp-archiver --maintain`
# (checkpoint, compaction, vacuum) before each restart; and --checkpoint-interval 0 (no
# checkpoints: every replay reads every commit), so the three are compared in one run.
#
#   bench/archive_restart.sh [ROLLS1] [ROLLS2] [ROWS]      default 100 2000 4
#
# Environment: GTP_BUILD_DIR (default build), BROKERS (default 127.0.0.1:9092). Private
# topics, groups and archive (under the build directory), removed at exit. Prints one line
# per measurement and a summary table.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rolls1=${1:-100}
rolls2=${2:-2000}
rows=${3:-4}
build=${GTP_BUILD_DIR:-$root/build}
brokers=${BROKERS:-127.0.0.1:9092}
for b in gtp-archiver gtp-generator; do
    [[ -x $build/$b ]] || { echo "bench: $build/$b not built" >&2; exit 1; }
done
tmp=$(mktemp -d "$build/bench-restart.XXXXXX")
topic=gtp.bench.restart.$$
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    "$root/scripts/services.sh" delete-topic "$topic" >/dev/null 2>&1 || true
    "$root/scripts/services.sh" delete-topic "$topic.dlq" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
"$root/scripts/services.sh" create-topic "$topic" 6 >/dev/null
"$root/scripts/services.sh" create-topic "$topic.dlq" 3 >/dev/null
# enough events for ROLLS2 rolls of ROWS rows in the busiest partition, and then some
count=$((rolls2 * rows * 6 * 2))
echo "bench: filling $topic with $count events (seed 7, 3 days of event time)" >&2
"$build/gtp-generator" -b "$brokers" -t "$topic" --count "$count" --seed 7 --rate 0 \
    --chaos 0.05 --start 2026-11-01T00:00:00Z --speed 1000000 --metrics-port 0 \
    >/dev/null 2>"$tmp/gen.log"

latest() { ls "$1/_delta_log" | grep -c '^[0-9]\{20\}\.json$' || true; }

# archive_until ARCHIVE INTERVAL GROUP VERSIONS: run the archiver until the log has VERSIONS
# commits (json files; none are cleaned up at the default 30-day retention), then SIGTERM.
archive_until() {
    local dir=$1 interval=$2 group=$3 want=$4
    "$build/gtp-archiver" -b "$brokers" -t "$topic" --dlq-topic "$topic.dlq" -g "$group" \
        --archive-dir "$dir" --roll-rows "$rows" --roll-seconds 1 --metrics-port 0 \
        --checkpoint-interval "$interval" --log-level warn 2>>"$tmp/arch-$interval.log" &
    pid=$!
    while (($(latest "$dir") < want)); do
        kill -0 "$pid" 2>/dev/null || { echo "bench: archiver died" >&2; tail "$tmp/arch-$interval.log" >&2; exit 1; }
        sleep 0.2
    done
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
}

# restart ARCHIVE INTERVAL GROUP: seconds from start to every partition assigned, and the
# peak RSS (KiB, VmHWM) at that moment
restart() {
    local dir=$1 interval=$2 group=$3 log=$tmp/restart.log t0 t1 kib
    : >"$log"
    t0=$(date +%s.%N)
    "$build/gtp-archiver" -b "$brokers" -t "$topic" --dlq-topic "$topic.dlq" -g "$group" \
        --archive-dir "$dir" --roll-rows "$rows" --metrics-port 0 \
        --checkpoint-interval "$interval" 2>"$log" &
    pid=$!
    until (($(grep -c 'assigned .* from offset' "$log" || true) >= 6)); do
        kill -0 "$pid" 2>/dev/null || { echo "bench: archiver died" >&2; tail "$log" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(date +%s.%N)
    kib=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $kib"
}

results=()
for mode in 10 10+maintain 0; do
    interval=${mode%%+*}
    dir=$tmp/archive-${mode/+/-}
    group=bench-restart-${mode/+/-}-$$
    for want in "$rolls1" "$rolls2"; do
        echo "bench: $mode: archiving up to $want log versions" >&2
        archive_until "$dir" "$interval" "$group" "$want"
        if [[ $mode == *maintain ]]; then
            "$build/gtp-archiver" --maintain -t "$topic" --archive-dir "$dir" \
                --vacuum-retention "0 seconds" --metrics-port 0 2>>"$tmp/maintain.log"
        fi
        restart "$dir" "$interval" "$group" >"$tmp/restart.out"
        read -r secs kib <"$tmp/restart.out"
        v=$(latest "$dir")
        ck=$(ls "$dir/_delta_log" | grep -c checkpoint.parquet || true)
        files=$(find "$dir" -name '*.parquet' -not -path '*/_delta_log/*' | wc -l)
        line="mode=$mode versions=$v checkpoints=$ck files=$files restart_s=$secs peak_rss_kib=$kib"
        echo "bench: $line" >&2
        results+=("$line")
    done
done
printf '%s\n' "${results[@]}"
