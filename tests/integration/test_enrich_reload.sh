#!/usr/bin/env bash
# gtp-enrich reloads the taxonomy on SIGHUP between lines (docs/programs.md), keeps the
# old one when the new one is broken, and stops cleanly (exit 0) on SIGTERM.
set -euo pipefail

src=${GTP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GTP_BUILD_DIR:-$src/build}
tmp=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

cp -r "$src/taxonomy" "$tmp/tax"
mkfifo "$tmp/in"
"$build/gtp-enrich" --taxonomy "$tmp/tax" --now 2024-03-16T00:00:00Z <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"

event='{"event_id":"e","timestamp":"2024-03-15T10:30:00Z","payload":{"job_id":"1","title":"t","location":"Gotham"}}'
wait_lines() { # wait until the output has $1 lines
    for _ in $(seq 100); do
        [[ $(wc -l <"$tmp/out") -ge $1 ]] && return 0
        sleep 0.05
    done
    echo "FAIL: timed out waiting for line $1" >&2
    cat "$tmp/err" >&2
    exit 1
}
wait_log() { # wait until stderr has $1 lines matching $2
    for _ in $(seq 100); do
        [[ $(grep -cE "$2" "$tmp/err" || true) -ge $1 ]] && return 0
        sleep 0.05
    done
    echo "FAIL: timed out waiting for log '$2'" >&2
    cat "$tmp/err" >&2
    exit 1
}
region() { sed -n "${1}p" "$tmp/out" | grep -o '"region":"[A-Z]*"'; }

echo "$event" >&3
wait_lines 1
[[ $(region 1) == '"region":"UNKNOWN"' ]] || { echo "FAIL: before reload: $(region 1)"; exit 1; }

printf 'US\tGotham\t\n' >>"$tmp/tax/cities.tsv"
kill -HUP "$pid"
wait_log 1 'reloaded'
echo "$event" >&3
wait_lines 2
[[ $(region 2) == '"region":"US"' ]] || { echo "FAIL: after reload: $(region 2)"; exit 1; }

printf 'ZZ\tBroken\t\n' >>"$tmp/tax/cities.tsv" # unknown code: the reload must fail
kill -HUP "$pid"
wait_log 1 'reload failed'
echo "$event" >&3
wait_lines 3
[[ $(region 3) == '"region":"US"' ]] || { echo "FAIL: broken reload: $(region 3)"; exit 1; }

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
exec 3>&-
[[ $rc == 0 ]] || { echo "FAIL: exit code $rc after SIGTERM"; exit 1; }
echo "OK: reload applied, broken reload ignored, SIGTERM exit 0"
