#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. scripts/setup.sh (installs what is missing), then scripts/preflight.sh: every
#      tool and library present and working, or stop within seconds naming the
#      package that is missing
#   2. build/ with -DGTP_WERROR=ON
#   3. scripts/services.sh start (local Kafka + Redis + topics)
#   4. ctest in build/: unit and integration tests
#   5. build-asan/ with -DGTP_SANITIZE=ON -DGTP_WERROR=ON: unit tests and the daemons'
#      integration tests (hostile input, chaos, kills, Redis outage) under ASan+UBSan
#   6. every libFuzzer target for GTP_FUZZ_SECONDS (default 45) each (scripts/fuzz.sh)
#   7. clang-format check of src include tests bench fuzz
# Prints a summary and exits non-zero when any step fails; the summary ends with
# the last lines of each failed step's log (all logs in .cache/test-logs/).
# Services this script started are stopped at the end; services already running
# are left running. --no-setup skips the install step (the preflight still runs).
#
# Usage: scripts/test.sh [--no-setup] [--no-asan] [--no-fuzz] [--no-format] [--keep-services]
#                        [-- extra ctest args]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)
asan=1 fuzz=1 format=1 keep= setup=1
fuzz_seconds=${GTP_FUZZ_SECONDS:-45}
ctest_extra=()
while (($#)); do
    case "$1" in
    --no-setup) setup= ;;
    --no-asan) asan= ;;
    --no-format) format= ;;
    --no-fuzz) fuzz= ;;
    --keep-services) keep=1 ;;
    --)
        shift
        ctest_extra=("$@")
        break
        ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
        exit 64
        ;;
    esac
    shift
done

logdir="$root/.cache/test-logs"
mkdir -p "$logdir"
names=() results=() times=() logs=()
failed=0 tests_passed=0 tests_failed=0
t_all=$SECONDS

banner() { printf '\n==== %s ====\n' "$*"; }

# step NAME COMMAND...: run with its output on screen and in its own log, record
# ok/FAIL, the duration and the log. The command runs in this shell (the tee sits
# in a process substitution opened with exec, whose pid bash gives even inside
# `if !`), so steps can update the counters.
step() {
    local name=$1 t0=$SECONDS rc=0 log
    shift
    local slug=${name%% *}
    log="$logdir/step-$((${#names[@]} + 1))-${slug//[^a-zA-Z0-9-]/-}.log"
    banner "$name"
    local out tee_pid
    exec {out}> >(tee "$log")
    tee_pid=$!
    # {out}>&-: the command's children must not inherit the tee's pipe beyond their
    # stdout, or a daemon they start (Kafka, Redis) would keep the tee open forever.
    "$@" >&"$out" 2>&1 {out}>&- || rc=$?
    exec {out}>&-
    wait "$tee_pid" 2>/dev/null || true # the log is complete before anyone reads it
    names+=("$name")
    times+=($((SECONDS - t0)))
    logs+=("$log")
    if ((rc == 0)); then
        results+=(ok)
    else
        results+=("FAIL (exit $rc)")
        failed=1
    fi
    return $rc
}

skip() {
    names+=("$1")
    times+=(0)
    logs+=("")
    results+=("skipped: $2")
}

summary() {
    banner "summary ($((SECONDS - t_all)) s)"
    local i
    for i in "${!names[@]}"; do
        printf '  %-45s %5ss  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
    done
    # The cause of a failure on screen: the end of each failed step's log.
    for i in "${!names[@]}"; do
        [[ ${results[$i]} == FAIL* && -s ${logs[$i]} ]] || continue
        printf '\n---- %s: last lines of %s ----\n' "${names[$i]}" "${logs[$i]#"$root"/}"
        grep -v '^[[:space:]]*$' "${logs[$i]}" | tail -n "${GTP_TEST_TAIL:-25}"
    done
    echo
    echo "logs: $logdir"
    if ((failed)); then
        echo "RESULT: FAILED"
    else
        echo "RESULT: all steps passed"
    fi
    echo "tests: $tests_passed passed, $tests_failed failed"
}

# ctest, keeping its output for the totals: "N% tests passed, F tests failed out of T".
run_ctest() {
    local log=$1 rc
    shift
    set +e
    ctest "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    local line total nfail
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
    if [[ -n "$line" ]]; then
        total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
        nfail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
        tests_passed=$((tests_passed + total - nfail))
        tests_failed=$((tests_failed + nfail))
    elif ((rc == 0)); then
        echo "ctest ran no test" >&2
        rc=1
    fi
    return $rc
}

configure_build() {
    local dir=$1
    shift
    cmake -S "$root" -B "$dir" -DGTP_WERROR=ON "$@" >"$logdir/$(basename "$dir")-cmake.log" ||
        {
            cat "$logdir/$(basename "$dir")-cmake.log"
            return 1
        }
    cmake --build "$dir" -j "$jobs"
}

format_check() {
    local files
    mapfile -t files < <(find src include tests bench fuzz -name '*.[ch]' 2>/dev/null | sort)
    ((${#files[@]})) || {
        echo "no C sources found"
        return 1
    }
    echo "clang-format --dry-run -Werror over ${#files[@]} files"
    clang-format --dry-run -Werror "${files[@]}"
}

services_started=
stop_services() {
    if [[ -n "$services_started" && -z "$keep" ]]; then
        banner "stopping the services this run started"
        scripts/services.sh stop || true
    fi
}
trap stop_services EXIT

if [[ -n "$setup" ]]; then
    step "setup" scripts/setup.sh || true
else
    skip "setup" "--no-setup"
fi
# Nothing else can pass without these: stop here, in seconds, naming what is missing.
if ! step "preflight" scripts/preflight.sh test; then
    summary
    exit 1
fi
built=
step "build (build/, -Werror)" configure_build "$root/build" && built=1
if scripts/services.sh status >/dev/null 2>&1; then
    echo "services already running: leaving them running afterwards"
    services_ok=1
    names+=("services") times+=(0) results+=("ok (already running)")
else
    services_ok=
    step "services start" scripts/services.sh start && services_ok=1
    services_started=1
fi
if [[ -n "$built" && -n "$services_ok" ]]; then
    step "ctest build/ (unit + integration)" run_ctest "$logdir/ctest.log" --test-dir build \
        --output-on-failure -j "$jobs" "${ctest_extra[@]}" || true
elif [[ -n "$built" ]]; then
    step "ctest build/ (unit only: services down)" run_ctest "$logdir/ctest.log" --test-dir build \
        --output-on-failure -j "$jobs" -L unit "${ctest_extra[@]}" || true
    failed=1
else
    skip "ctest build/" "build failed"
fi

asan_tests='^unit/|^integration/test_(hostile|enrich_|generator_|parquet_readers|dashboard|processor_exact)'
if [[ -n "$asan" ]]; then
    export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    if step "build (build-asan/, ASan+UBSan, -Werror)" configure_build "$root/build-asan" \
        -DGTP_SANITIZE=ON; then
        if [[ -n "$services_ok" ]]; then
            # Unit tests and the integration tests that drive every daemon through chaotic,
            # hostile and killed runs, with the sanitized binaries (GTP_BUILD_DIR=build-asan).
            # Left out for CI time: the archiver's exactness test (the hostile-input test
            # runs the archiver), the fault suite, the demo and the tool checks.
            step "ctest build-asan/ (unit + daemons' integration tests)" run_ctest \
                "$logdir/ctest-asan.log" --test-dir build-asan --output-on-failure -j "$jobs" \
                -R "$asan_tests" "${ctest_extra[@]}" || true
        else
            step "ctest build-asan/ -L unit" run_ctest "$logdir/ctest-asan.log" \
                --test-dir build-asan --output-on-failure -j "$jobs" -L unit "${ctest_extra[@]}" ||
                true
        fi
    else
        skip "ctest build-asan/" "build failed"
    fi
else
    skip "asan" "--no-asan"
fi

if [[ -n "$fuzz" ]]; then
    step "fuzz (${fuzz_seconds} s per target)" scripts/fuzz.sh "$fuzz_seconds" || true
else
    skip "fuzz" "--no-fuzz"
fi

if [[ -n "$format" ]]; then
    step "clang-format check" format_check || true
else
    skip "clang-format" "--no-format"
fi

summary
exit $failed
