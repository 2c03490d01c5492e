#!/usr/bin/env bash
# Instruction counts of gtp-processor over a pre-filled topic (callgrind counts repeat exactly,
# where timings on a shared machine move 2x): runs it under valgrind --tool=callgrind until
# every partition's next offset in redis reaches COUNT in total, then stops it with SIGTERM.
#
#   bench/callgrind_processor.sh TOPIC COUNT [OUT] [gtp-processor flags...]
#       default OUT callgrind.processor.out; flags default --insights=true
#   callgrind_annotate --inclusive=yes OUT | head -60
#
# Environment: GTP_BUILD_DIR (default build), BROKERS (default 127.0.0.1:9092), GTP_REDIS_PORT
# (default 6379). Uses redis db 8 (flushed) and a private consumer group.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
topic=${1:?topic}
count=${2:?count}
out=${3:-callgrind.processor.out}
shift $(($# < 3 ? $# : 3))
flags=("$@")
((${#flags[@]})) || flags=(--insights=true)
build=${GTP_BUILD_DIR:-$root/build}
port=${GTP_REDIS_PORT:-6379}
rc() { redis-cli -p "$port" -n 8 "$@"; }
rc flushdb >/dev/null
valgrind --tool=callgrind --callgrind-out-file="$out" "$build/gtp-processor" \
    -b "${BROKERS:-127.0.0.1:9092}" -t "$topic" --redis "redis://127.0.0.1:$port/8" \
    -g "gtp.bench.cg.$$" --dlq-topic "$topic.dlq" --metrics-port 0 --log-level warn \
    "${flags[@]}" 2>"$out.err" &
pid=$!
done=0
for _ in $(seq 1 1800); do
    sleep 1
    kill -0 "$pid" 2>/dev/null || { echo "callgrind_processor: gtp-processor exited:" >&2; cat "$out.err" >&2; exit 1; }
    done=0
    for p in $(seq 0 63); do
        n=$(rc hget "gtp:part:$topic:$p" next)
        [[ -z $n ]] && { ((p >= 6)) && break || continue; }
        done=$((done + n))
    done
    ((done >= count)) && break
done
kill -TERM "$pid"
wait "$pid" || true
echo "callgrind: $done of $count events; $out" >&2
