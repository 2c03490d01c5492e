#!/usr/bin/env bash
# Install what building, running and testing the project needs on Debian 12 /
# Ubuntu: compilers, the C libraries, Redis, kcat, Java 17 + Maven (for the
# local Kafka broker), Python venv support. Idempotent: apt runs only when
# something is missing. Uses sudo when not root.
#
# Every package a step needs is named here: apt runs with --no-install-recommends
# (and many images install no recommended packages at all), so a piece that apt
# only recommends, like clang's libFuzzer and sanitizer runtimes in
# libclang-rt-14-dev, must be listed or it is missing on a fresh machine.
# scripts/preflight.sh checks that each of them works and names the package of
# any piece that does not; tests/tools/test_preflight.sh keeps the two in step.
#
#   scripts/setup.sh          everything (what scripts/test.sh needs)
#   scripts/setup.sh --run    only what building and running the pipeline needs
#                             (scripts/run.sh: no browser, fuzzer or load tools)
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    librdkafka-dev libhiredis-dev libjansson-dev libpcre2-dev uuid-dev libmicrohttpd-dev
    libcmocka-dev libzstd-dev libsnappy-dev
    redis-server redis-tools kcat curl iproute2 procps util-linux python3-venv
)
if [[ "${1:-}" != --run ]]; then
    # prometheus: for promtool, which checks /metrics output and the monitoring
    # profile's config and alert rules (docs/metrics.md); nghttp2-client: h2load, the
    # dashboard benchmark's fixed-rate load (bench/dashboard.sh)
    packages+=(clang libclang-rt-14-dev libasan8 libubsan1 clang-format wrk nghttp2-client chromium
        fonts-dejavu-core mount prometheus)
fi

say() { echo "setup: $*" >&2; }

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

java_major() {
    local java=${JAVA_HOME:+$JAVA_HOME/bin/}java
    command -v "$java" >/dev/null || return 0
    "$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
# Java 17+ and Maven are usually on the image already; install only when absent.
jv=$(java_major)
if [[ -z "$jv" || "$jv" -lt 17 ]]; then
    missing+=(openjdk-17-jre-headless)
fi
command -v mvn >/dev/null || missing+=(maven)

if ((${#missing[@]} == 0)); then
    say "all packages present"
    exit 0
fi

command -v apt-get >/dev/null || {
    say "error: missing ${missing[*]} and no apt-get here: install them by hand"
    exit 1
}
sudo=
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
        say "error: missing ${missing[*]}; run as root or install sudo"
        exit 1
    }
    sudo=sudo
fi

redis_new=
installed redis-server || redis_new=1
prometheus_new=
installed prometheus || prometheus_new=1

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian starts a system redis-server on 6379 (and a prometheus server on 9090)
# when the package is installed; the project runs its own Redis
# (scripts/services.sh) and needs only promtool, so stop the ones we just added.
stop_system_service() {
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$1" 2>/dev/null; then
        $sudo systemctl disable --now "$1" || true
    elif command -v service >/dev/null; then
        $sudo service "$1" stop >/dev/null 2>&1 || true
    fi
}
if [[ -n "$redis_new" ]]; then
    stop_system_service redis-server
fi
if [[ -n "$prometheus_new" ]] && installed prometheus; then
    stop_system_service prometheus
fi
say "done"
