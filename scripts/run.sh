#!/usr/bin/env bash
# The whole pipeline locally, in one command: installs what is missing, builds
# build/, starts Kafka + Redis (scripts/services.sh), then every daemon that is
# built — processor, archiver, dashboard — and the generator, which backfills
# the last 24 h of simulated postings at high speed and then continues live.
# Ctrl-C stops the daemons, and the services if this script started them.
#
# Environment knobs (defaults in brackets):
#   GTP_DEMO_HOURS [24]   simulated hours to backfill before going live
#   GTP_DEMO_RATE  [5]    events per simulated second
#   GTP_DEMO_SPEED [3600] simulated seconds per wall second while backfilling
#   GTP_DEMO_CHAOS [0.05] fraction of chaotic events
#   GTP_KEEP_SERVICES=1   leave Kafka and Redis running on exit
# Daemon logs: .cache/run/<program>.log
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build="$root/build"
logs="$root/.cache/run"
hours=${GTP_DEMO_HOURS:-24}
rate=${GTP_DEMO_RATE:-5}
speed=${GTP_DEMO_SPEED:-3600}
chaos=${GTP_DEMO_CHAOS:-0.05}

say() { echo "run: $*" >&2; }

# Every daemon reads its settings from GTP_* variables too (SPEC §2); the
# broker listens on IPv4 loopback only, so name it exactly.
export GTP_BROKERS=127.0.0.1:${GTP_KAFKA_PORT:-9092}
export GTP_REDIS_URL=${GTP_REDIS_URL:-redis://127.0.0.1:${GTP_REDIS_PORT:-6379}/0}

scripts/setup.sh
say "building $build"
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"

services_started=
if ! scripts/services.sh status >/dev/null 2>&1; then
    scripts/services.sh start
    services_started=1
fi

mkdir -p "$logs"
pids=() progs=()
stopping=

shutdown() {
    [[ -n "$stopping" ]] && return
    stopping=1
    trap '' INT TERM
    say "stopping"
    local i
    # Reverse start order: the generator first, so the consumers drain what it sent.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            kill -TERM "${pids[$i]}" 2>/dev/null || true
            say "sent SIGTERM to ${progs[$i]} (pid ${pids[$i]})"
        fi
    done
    for i in "${!pids[@]}"; do
        local deadline=$((SECONDS + 30))
        while kill -0 "${pids[$i]}" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.2
        done
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            say "${progs[$i]} did not stop in 30 s: killing it"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
    done
    if [[ -n "$services_started" && -z "${GTP_KEEP_SERVICES:-}" ]]; then
        scripts/services.sh stop
    else
        say "kafka and redis left running (scripts/services.sh stop)"
    fi
}
trap 'shutdown; exit 130' INT TERM
trap shutdown EXIT

# launch PROGRAM ARGS...: start build/PROGRAM in the background if it is built.
launch() {
    local prog=$1
    shift
    if [[ ! -x "$build/$prog" ]]; then
        say "$prog is not built yet (no src/${prog#gtp-}/): skipped"
        return 0
    fi
    "$build/$prog" "$@" >>"$logs/$prog.log" 2>&1 </dev/null &
    pids+=($!)
    progs+=("$prog")
    say "started $prog (pid $!), log $logs/$prog.log"
}

launch gtp-processor
launch gtp-archiver
launch gtp-dashboard
launch gtp-generator --start "now-${hours}h" --speed "$speed" --rate "$rate" --chaos "$chaos"

if [[ -x "$build/gtp-dashboard" ]]; then
    say "dashboard: http://127.0.0.1:8501/"
else
    say "no dashboard yet; watch the counts with:" \
        "redis-cli --scan --pattern 'trend:*' | head; kcat -C -b 127.0.0.1:9092 -t job.postings.v1 -o -5 -e"
fi
say "metrics: generator :9101, processor :9102, archiver :9103 (/metrics); Ctrl-C stops everything"

# Wait until Ctrl-C; report a daemon that dies on its own.
while true; do
    for i in "${!pids[@]}"; do
        if [[ -n "${pids[$i]}" ]] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
            rc=0
            wait "${pids[$i]}" || rc=$?
            say "${progs[$i]} exited with status $rc; last lines of $logs/${progs[$i]}.log:"
            tail -n 5 "$logs/${progs[$i]}.log" >&2 || true
            pids[$i]=
        fi
    done
    live=0
    for p in "${pids[@]}"; do [[ -n "$p" ]] && live=1; done
    if ((!live)); then
        say "no daemon left running"
        exit 1
    fi
    sleep 1
done
