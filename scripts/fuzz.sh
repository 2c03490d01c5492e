#!/usr/bin/env bash
# Build the libFuzzer targets of fuzz/ in build-fuzz/ (CMake with -DGTP_FUZZ=ON:
# clang, ASan+UBSan, every UB fatal) and run each of them for SECONDS (default 60).
#   targets: every fuzz/fuzz_<target>.c: event time skills hive dashboard parquet
#            pqread (or name some after SECONDS)
#   corpus:  build-fuzz/corpus/<target>/ (kept between runs), seeded from
#            tests/data/ (events, skills corpus), gtp-generator output (chaos
#            included), Parquet files of our writer (bench_pqread_cli write)
#            and tests/data/fuzz-regressions/<target>/
#   crashes: build-fuzz/crashes/<target>-crash-*, -leak-*, -timeout-*, -oom-*
# Exits non-zero when any target found a crash, a leak, a timeout or an OOM, or
# did not build. To turn a crasher into a regression test:
#   cp build-fuzz/crashes/<target>-crash-XXX tests/data/fuzz-regressions/<target>/
# (ctest's unit/test_fuzz_regressions replays that directory in the normal build).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Env:   CC (default clang), FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build -j),
#        FUZZ_PARALLEL (targets run at once, default: the number of cores)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] || {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 64
}
shift || true
targets=("$@")
if ((!${#targets[@]})); then # every fuzz/fuzz_<target>.c
    for f in "$root"/fuzz/fuzz_*.c; do
        f=${f##*/fuzz_}
        targets+=("${f%.c}")
    done
fi
bd=${FUZZ_BUILD_DIR:-$root/build-fuzz}
cc=${CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

# -max_len per target; 4096 for one not listed
declare -A maxlen=([event]=8192 [time]=64 [skills]=4096 [hive]=700 [dashboard]=4096 [parquet]=16384
    [pqread]=16384 [market]=16384)

echo "== build ($bd)"
mkdir -p "$bd"
# CMake's GTP_FUZZ builds every fuzz/fuzz_*.c as a libFuzzer binary, with the core
# library (and the generator and the Parquet CLI, for seeds) instrumented for
# coverage and ASan+UBSan, every UB fatal.
cmake -S "$root" -B "$bd" -DGTP_FUZZ=ON -DGTP_WERROR=ON -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-g -O1" >"$bd/cmake.log" 2>&1 || {
    cat "$bd/cmake.log"
    exit 1
}
build_targets=(gtp-generator bench_pqread_cli)
for t in "${targets[@]}"; do
    [[ -f $root/fuzz/fuzz_$t.c ]] || {
        echo "unknown target $t (no fuzz/fuzz_$t.c)" >&2
        exit 64
    }
    maxlen[$t]=${maxlen[$t]:-4096}
    build_targets+=("fuzz_$t")
done
cmake --build "$bd" -j"$jobs" --target "${build_targets[@]}" >"$bd/build.log" 2>&1 || {
    tail -50 "$bd/build.log"
    echo "the fuzz targets did not build" >&2
    exit 1
}

echo "== seeds"
seeds=$bd/seeds
rm -rf "$seeds"
mkdir -p "$seeds" "$bd/crashes"
for t in "${targets[@]}"; do mkdir -p "$seeds/$t" "$bd/corpus/$t"; done
# split FILE DIR [PREFIX]: one seed per line (lines over 64 KiB skipped)
split_lines() {
    local i=0 line
    while IFS= read -r line || [[ -n $line ]]; do
        ((${#line} <= 65536)) || continue
        printf '%s%s' "${3:-}" "$line" >"$2/$(basename "$1").$i"
        i=$((i + 1))
    done <"$1"
}
gen=$seeds/generator.jsonl
"$bd/gtp-generator" --seed 9 --count 400 --chaos 0.4 --metrics-port 0 --out "$gen" \
    --log-level error >/dev/null 2>&1 || : >"$gen"
for t in "${targets[@]}"; do
    case $t in
    event)
        split_lines "$root/tests/data/events/golden.jsonl" "$seeds/event"
        head -200 "$gen" >"$seeds/gen200" && split_lines "$seeds/gen200" "$seeds/event"
        ;;
    time)
        grep -oh '"timestamp": *"[^"]*"' "$root/tests/data/events/golden.jsonl" "$gen" |
            sed 's/.*: *"//; s/"$//' | sort -u | head -100 >"$seeds/ts"
        split_lines "$seeds/ts" "$seeds/time"
        ;;
    skills)
        head -300 "$root/tests/data/skills_corpus.jsonl" >"$seeds/sk"
        split_lines "$seeds/sk" "$seeds/skills"
        ;;
    hive | dashboard)
        # a mode byte, then length-prefixed values (see fuzz/fuzz_hive.c, fuzz_dashboard.c)
        python3 - "$seeds/$t" "$t" <<'PY'
import os, sys
d, t = sys.argv[1], sys.argv[2]
def lp(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b
if t == "hive":
    vals = ["2024-03-15", "UK", "US/East", "..", "%2F", "a=b", "\x01x", "déjà vu",
            "__HIVE_DEFAULT_PARTITION__", "../../etc", ""]
    seeds = [bytes([m]) + lp(v) + lp("UK") for m in (0x05, 0x08, 0x01) for v in vals]
else:
    qs = ["hours=24&top=5", "hours=168&skill=python", "top=21", "skill=%3Cscript%3E",
          "hours=1&hours=2&skill=rust&top=0020", "hours=+24", "skill=c%2B%2B"]
    seeds = [b"\0" + lp(q) for q in qs]
    seeds += [b"\1" + lp(b'<script>\xe2\x80\xa8\xff"x\x00')]
    seeds += [b"\2" + b"\x04" + b"\x00" + lp("python") + b"\x00" + lp("12") + b"\x00"
              + lp("<b>") + b"\x00" + lp("1e3")]
    # a gtp:stats reply holding last_flush_ms (field table in fuzz_dashboard.c)
    seeds += [b"\2\0" + bytes(8) + b"\x02\x50\0" + lp("1700000000000")]
    seeds += [b"\3" + bytes(8) + lp("127.0.0.1:8080"), b"\3" + b"\x7f\xef" + bytes(6) + lp("[::1]:0")]
for i, s in enumerate(seeds):
    open(os.path.join(d, "s%d" % i), "wb").write(s)
PY
        ;;
    parquet)
        head -c 4096 /dev/urandom >"$seeds/parquet/r0"
        ;;
    market)
        # the shipped file, and each of its records alone
        cp "$root/taxonomy/market.tsv" "$seeds/market/full"
        grep -v '^#' "$root/taxonomy/market.tsv" | grep . | head -200 >"$seeds/mk" || :
        split_lines "$seeds/mk" "$seeds/market"
        ;;
    pqread)
        # whole files of the writer: every codec, dictionary on and off, many pages and row
        # groups (pyarrow's files are among the regression files)
        for c in none snappy zstd; do
            for d in "" --no-dict; do
                "$bd/bench_pqread_cli" write --out "$seeds/pqread/w-$c$d" --rows $((RANDOM % 24)) \
                    --seed $RANDOM --codec "$c" $d --page-bytes 96 --row-group-rows 9 || exit 1
            done
        done
        ;;
    esac
done

echo "== run: ${secs}s per target"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Targets run side by side, one per core (FUZZ_PARALLEL): each still gets SECONDS of
# its own; on CI's 2 cores that halves the step.
par=${FUZZ_PARALLEL:-$(nproc 2>/dev/null || echo 2)}
run_target() { # target: runs it, writes its exit code to $bd/fuzz_$t.rc
    local t=$1 rc=0 reg=$root/tests/data/fuzz-regressions/$1
    local dirs=("$bd/corpus/$t" "$seeds/$t") dict=()
    [[ -d $reg ]] && dirs+=("$reg")
    [[ -f $root/fuzz/$t.dict ]] && dict=(-dict="$root/fuzz/$t.dict")
    "$bd/fuzz_$t" -max_total_time="$secs" -max_len="${maxlen[$t]}" -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$bd/crashes/$t-" \
        "${dict[@]}" "${dirs[@]}" >"$bd/fuzz_$t.log" 2>&1 || rc=$?
    echo "$rc" >"$bd/fuzz_$t.rc"
}
pids=()
for t in "${targets[@]}"; do
    echo "-- $t (max_len ${maxlen[$t]})"
    run_target "$t" &
    pids+=($!)
    if ((${#pids[@]} >= par)); then
        wait "${pids[0]}"
        pids=("${pids[@]:1}")
    fi
done
wait
failed=()
for t in "${targets[@]}"; do
    rc=$(cat "$bd/fuzz_$t.rc" 2>/dev/null || echo 1)
    echo -n "$t: "
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)' \
        "$bd/fuzz_$t.log" | tr '\n' ' '
    echo
    if ((rc != 0)); then
        failed+=("$t")
        echo "!! $t failed (exit $rc); log: $bd/fuzz_$t.log" >&2
        grep -E 'ERROR|invariant|runtime error|Test unit written' "$bd/fuzz_$t.log" | head -20 >&2
    fi
done
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]} (crashers in $bd/crashes/)" >&2
    exit 1
fi
echo "all ${#targets[@]} targets clean"
