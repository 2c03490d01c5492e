#!/usr/bin/env bash
# The whole pipeline locally, in one command: installs what is missing, builds
# build/, starts Kafka + Redis (scripts/services.sh), then every daemon:
# processor, archiver, dashboard and the generator, which backfills
# the last 24 h of simulated postings at high speed and then continues live.
# Run again, it continues the simulated timeline after the newest event
# already on the topic (gtp-generator --resume), so no hour is produced twice.
# Prints the dashboard URL, when it first shows data, and where the archive is.
# Ctrl-C (or SIGTERM) stops the generator, lets the consumers drain what it
# sent, then stops them (each with SIGTERM, reporting its exit status), and the
# services if this script started them. Exit status 0 when every daemon
# stopped cleanly with 0.
#
# Environment knobs (defaults in brackets):
#   GTP_DEMO_HOURS [24]   simulated hours to backfill before going live
#   GTP_DEMO_RATE  [5]    events per simulated second
#   GTP_DEMO_SPEED [3600] simulated seconds per wall second while backfilling
#   GTP_DEMO_CHAOS [0.05] fraction of chaotic events
#   GTP_KEEP_SERVICES=1   leave Kafka and Redis running on exit
# To run a second, private demo beside another one (the end-to-end test does):
#   GTP_TOPIC [job.postings.v1], GTP_DLQ_TOPIC [job.postings.dlq]  (created if missing)
#   GTP_REDIS_URL [redis://127.0.0.1:6379/0]
#   GTP_DEMO_ARCHIVE [data/silver_job_postings]   Parquet files + Delta log
#   GTP_DEMO_LISTEN [127.0.0.1:8501]              dashboard address
#   GTP_DEMO_METRICS_PORTS [9101,9102,9103]       generator,processor,archiver
#   GTP_DEMO_GROUP_PREFIX [gtp]                   consumer groups PREFIX-processor/-archiver
#   GTP_DEMO_LOGS [.cache/run]                    daemon logs (<program>.log)
#   GTP_DEMO_BUILD [build]                        build directory
#   GTP_DEMO_NO_BUILD=1                           skip setup.sh and the build
#   GTP_DEMO_DRAIN [15]                           seconds the consumers get to drain on stop
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${GTP_DEMO_BUILD:-$root/build}
logs=${GTP_DEMO_LOGS:-$root/.cache/run}
hours=${GTP_DEMO_HOURS:-24}
rate=${GTP_DEMO_RATE:-5}
speed=${GTP_DEMO_SPEED:-3600}
chaos=${GTP_DEMO_CHAOS:-0.05}
topic=${GTP_TOPIC:-job.postings.v1}
dlq=${GTP_DLQ_TOPIC:-job.postings.dlq}
archive=${GTP_DEMO_ARCHIVE:-$root/data/silver_job_postings}
listen=${GTP_DEMO_LISTEN:-127.0.0.1:8501}
group=${GTP_DEMO_GROUP_PREFIX:-gtp}
IFS=, read -r port_gen port_proc port_arch <<<"${GTP_DEMO_METRICS_PORTS:-9101,9102,9103}"

say() { echo "run: $*" >&2; }

# Every daemon reads its settings from GTP_* variables too (docs/programs.md); the
# broker listens on IPv4 loopback only, so name it exactly. Settings that
# differ per daemon (ports, groups) are passed as flags, which win over env.
export GTP_BROKERS=127.0.0.1:${GTP_KAFKA_PORT:-9092}
export GTP_REDIS_URL=${GTP_REDIS_URL:-redis://127.0.0.1:${GTP_REDIS_PORT:-6379}/0}

if [[ -z "${GTP_DEMO_NO_BUILD:-}" ]]; then
    scripts/setup.sh --run
    scripts/preflight.sh run
    say "building $build"
    cmake -S "$root" -B "$build" >/dev/null
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
fi

for prog in gtp-processor gtp-archiver gtp-dashboard gtp-generator; do
    if [[ ! -x "$build/$prog" ]]; then
        say "$build/$prog is missing: build first (or run without GTP_DEMO_NO_BUILD)"
        exit 1
    fi
done

services_started=
if ! scripts/services.sh status >/dev/null 2>&1; then
    scripts/services.sh start
    services_started=1
fi
# The default topics exist after `services.sh start`; private ones are made here.
scripts/services.sh create-topic "$topic" 6
scripts/services.sh create-topic "$dlq" 3

mkdir -p "$logs" "$archive"
pids=() progs=()
stopping=
failed=0

# stop_one INDEX: SIGTERM one daemon, wait for it (SIGKILL after 30 s), report its status.
stop_one() {
    local i=$1 rc=0 deadline=$((SECONDS + 30))
    [[ -n "${pids[$i]}" ]] || return 0
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    while kill -0 "${pids[$i]}" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
        say "${progs[$i]} did not stop in 30 s: killing it"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    wait "${pids[$i]}" 2>/dev/null || rc=$?
    say "${progs[$i]} (pid ${pids[$i]}) exited with status $rc"
    ((rc == 0)) || failed=1
    pids[$i]=
}

# The summed consumer lag of processor and archiver from their /metrics, or
# nothing when a daemon does not answer.
lag() {
    local sum=0 v port
    for port in "$port_proc" "$port_arch"; do
        v=$(curl -fsS -m 2 "http://127.0.0.1:$port/metrics" 2>/dev/null |
            awk '$1 ~ /^gtp_(processor|archiver)_consumer_lag$/ { print $2; exit }') || true
        [[ -n "$v" ]] || return 0
        sum=$((sum + ${v%%.*}))
    done
    echo "$sum"
}

# Stop the generator first; give the consumers up to GTP_DEMO_DRAIN seconds to
# reach the end of what it sent (their lag gauges, refreshed each second, read
# 0 twice); then stop the rest in reverse start order and report how each ended.
shutdown() {
    [[ -n "$stopping" ]] && return
    stopping=1
    trap '' INT TERM
    say "stopping"
    local i gen=
    for i in "${!progs[@]}"; do
        [[ "${progs[$i]}" == gtp-generator ]] && gen=$i
    done
    if [[ -n "$gen" && -n "${pids[$gen]}" ]]; then
        stop_one "$gen"
        local deadline=$((SECONDS + ${GTP_DEMO_DRAIN:-15})) zeros=0 l
        while ((SECONDS < deadline && zeros < 2)); do
            l=$(lag)
            [[ -n "$l" ]] || break
            if ((l == 0)); then zeros=$((zeros + 1)); else zeros=0; fi
            sleep 1.1
        done
        if ((zeros >= 2)); then
            say "consumers caught up with the topic"
        else
            say "consumers not caught up (lag ${l:-unknown}); the rest is consumed on the next start"
        fi
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_one "$i"
    done
    if [[ -n "$services_started" && -z "${GTP_KEEP_SERVICES:-}" ]]; then
        scripts/services.sh stop
    else
        say "kafka and redis left running (scripts/services.sh stop)"
    fi
}
trap 'shutdown; exit $failed' INT TERM
trap shutdown EXIT

# launch PROGRAM ARGS...: start $build/PROGRAM in the background.
launch() {
    local prog=$1
    shift
    # Own session: a Ctrl-C in the terminal reaches this script only, which
    # stops the daemons in order (setsid execs in place: $! is the daemon).
    setsid "$build/$prog" "$@" >>"$logs/$prog.log" 2>&1 </dev/null &
    pids+=($!)
    progs+=("$prog")
    say "started $prog (pid $!), log $logs/$prog.log"
}

t0=$SECONDS
common=(-t "$topic" --dlq-topic "$dlq")
launch gtp-processor "${common[@]}" -g "$group-processor" --taxonomy "$root/taxonomy" \
    --metrics-port "$port_proc"
launch gtp-archiver "${common[@]}" -g "$group-archiver" --taxonomy "$root/taxonomy" \
    --archive-dir "$archive" --metrics-port "$port_arch"
launch gtp-dashboard --listen "$listen" --taxonomy "$root/taxonomy" --assets "$root/dashboard"
launch gtp-generator "${common[@]}" --start "now-${hours}h" --resume --speed "$speed" \
    --rate "$rate" --chaos "$chaos" --metrics-port "$port_gen"

url="http://$listen/"
say "dashboard: $url"
say "archive (parquet files + delta log): $archive"
say "  e.g. scripts/py -c \"import duckdb; duckdb.sql(\\\"select region, count(*) from" \
    "read_parquet('$archive/date_posted=*/region=*/*.parquet', hive_partitioning=true) group by 1\\\").show()\""
say "metrics: generator :$port_gen, processor :$port_proc, archiver :$port_arch (/metrics);" \
    "Ctrl-C stops everything"

# Wait until Ctrl-C; report a daemon that dies on its own, and when the
# dashboard first has data.
have_data=
while true; do
    if [[ -z "$have_data" ]] &&
        [[ "$(curl -fsS -m 2 "${url}api/stats" 2>/dev/null || true)" =~ \"events_total\":\ *[1-9] ]] &&
        [[ "$(curl -fsS -m 2 "${url}api/pulse" 2>/dev/null || true)" =~ \"total\":\ *[1-9] ]]; then
        have_data=1
        say "the dashboard shows data, $((SECONDS - t0)) s after the daemons started: $url"
    fi
    for i in "${!pids[@]}"; do
        if [[ -n "${pids[$i]}" ]] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
            rc=0
            wait "${pids[$i]}" || rc=$?
            say "${progs[$i]} exited with status $rc; last lines of $logs/${progs[$i]}.log:"
            tail -n 5 "$logs/${progs[$i]}.log" >&2 || true
            pids[$i]=
            failed=1
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
