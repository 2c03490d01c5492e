#!/usr/bin/env bash
# Checks, in a few seconds, that every tool and library a step needs is present
# and works: it compiles and links tiny programs (the C libraries, gcc with
# ASan+UBSan, clang with libFuzzer) instead of trusting that a package is
# installed, because a package can be installed while the piece a step needs is
# not (clang without its runtime archive, for one). Each missing piece is named
# with the Debian package that provides it; scripts/setup.sh installs the same
# packages by name.
#
#   scripts/preflight.sh [run|test]   run:  what scripts/run.sh needs
#                                     test: that plus what scripts/test.sh needs
#                                           (default)
# Exits 0 when everything is there, 1 with one line per missing piece and an
# apt-get line for all of them otherwise.
set -uo pipefail

profile=${1:-test}
case "$profile" in
run | test) ;;
*)
    sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gtp-preflight.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$SECONDS
missing_pkgs=()
nfail=0

# need WHAT PACKAGE DETAIL: record a missing piece.
need() {
    echo "preflight: MISSING $1 -> install package: $2${3:+ ($3)}" >&2
    nfail=$((nfail + 1))
    local p
    for p in $2; do
        [[ " ${missing_pkgs[*]} " == *" $p "* ]] || missing_pkgs+=("$p")
    done
}

have() { command -v "$1" >/dev/null 2>&1; }

# tool NAME PACKAGE: a command on PATH.
tool() { have "$1" || need "$1" "$2"; }

# ---- what building and running the pipeline needs ---------------------------
tool gcc build-essential
tool make build-essential
tool cmake cmake
tool pkg-config pkg-config
tool redis-server redis-server
tool redis-cli redis-tools
tool kcat kcat
tool curl curl
tool ss iproute2
tool pgrep procps
tool setsid util-linux
tool flock util-linux
tool mvn maven

java=${JAVA_HOME:+$JAVA_HOME/bin/}java
if have "$java"; then
    jv=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [[ -n "$jv" && "$jv" -ge 17 ]] || need "java 17 or newer (found ${jv:-none})" openjdk-17-jre-headless
else
    need "java 17 or newer" openjdk-17-jre-headless
fi

if have python3; then
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
        need "python3 venv with ensurepip" python3-venv
else
    need python3 python3-venv
fi

# Every C library, by pkg-config name, then one program that includes each
# header and links each library: a -dev package without its .so link or a
# broken .pc file fails here, not in the middle of the build.
declare -A libpkg=([rdkafka]=librdkafka-dev [hiredis]=libhiredis-dev [jansson]=libjansson-dev
    [libpcre2-8]=libpcre2-dev [uuid]=uuid-dev [libmicrohttpd]=libmicrohttpd-dev
    [libzstd]=libzstd-dev [snappy]=libsnappy-dev)
libs=(rdkafka hiredis jansson libpcre2-8 uuid libmicrohttpd libzstd snappy)
[[ $profile == test ]] && {
    libpkg[cmocka]=libcmocka-dev
    libs+=(cmocka)
}
present=()
if have pkg-config; then
    for l in "${libs[@]}"; do
        if pkg-config --exists "$l"; then present+=("$l"); else need "library $l (pkg-config)" "${libpkg[$l]}"; fi
    done
fi
if have gcc && ((${#present[@]} == ${#libs[@]})); then
    cat >"$tmp/libs.c" <<'EOF'
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <uuid/uuid.h>
#include <microhttpd.h>
#include <zstd.h>
#include <snappy-c.h>
#ifdef WITH_CMOCKA
#include <cmocka.h>
#endif
int main(void)
{
    uuid_t u;
    uuid_generate(u);
    size_t n = snappy_max_compressed_length(10) + ZSTD_compressBound(10);
    json_t *j = json_integer(1);
    json_decref(j);
    printf("%s %d %zu %p %p %s\n", rd_kafka_version_str(), HIREDIS_MAJOR, n, (void *)redisFree,
           (void *)pcre2_compile, MHD_get_version());
#ifdef WITH_CMOCKA
    (void)_assert_true;
#endif
    return 0;
}
EOF
    extra=()
    [[ $profile == test ]] && extra=(-DWITH_CMOCKA)
    # shellcheck disable=SC2046
    if ! gcc "${extra[@]}" $(pkg-config --cflags "${libs[@]}") "$tmp/libs.c" -o "$tmp/libs" \
        $(pkg-config --libs "${libs[@]}") >"$tmp/libs.log" 2>&1 || ! "$tmp/libs" >/dev/null 2>&1; then
        sed 's/^/    /' "$tmp/libs.log" | tail -n 8 >&2
        pk=()
        for l in "${libs[@]}"; do pk+=("${libpkg[$l]}"); done
        need "a program linking the C libraries" "${pk[*]}" "reinstall them"
    fi
fi

# ---- what the test suite adds -------------------------------------------------
if [[ $profile == test ]]; then
    tool clang clang
    tool clang-format clang-format
    tool wrk wrk
    tool chromium chromium
    tool promtool prometheus
    [[ -d /usr/share/fonts/truetype/dejavu ]] || need "dejavu fonts (page screenshots)" fonts-dejavu-core
    tool mount mount

    cat >"$tmp/san.c" <<'EOF'
#include <stdlib.h>
int main(int argc, char **argv)
{
    (void)argv;
    int *p = malloc(sizeof *p);
    *p = argc;
    int r = *p - argc;
    free(p);
    return r;
}
EOF
    # gcc's sanitizer runtimes are libasan8 and libubsan1 (dependencies of gcc).
    if have gcc; then
        if ! gcc -fsanitize=address,undefined -fno-sanitize-recover=all "$tmp/san.c" -o "$tmp/san-gcc" \
            >"$tmp/san-gcc.log" 2>&1 || ! ASAN_OPTIONS=detect_leaks=0 "$tmp/san-gcc" >>"$tmp/san-gcc.log" 2>&1; then
            sed 's/^/    /' "$tmp/san-gcc.log" | tail -n 4 >&2
            need "gcc with ASan+UBSan" "libasan8 libubsan1"
        fi
    fi
    # clang finds libFuzzer and its ASan/UBSan runtimes in libclang-rt-14-dev, which
    # apt installs only as a recommended package: check the link, not the package.
    if have clang; then
        cat >"$tmp/fuzz.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return size > 0 && data[0] == 0xff ? 0 : 0;
}
EOF
        if ! clang -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all "$tmp/fuzz.c" \
            -o "$tmp/fuzz" >"$tmp/fuzz.log" 2>&1 || ! "$tmp/fuzz" -runs=10 >>"$tmp/fuzz.log" 2>&1; then
            sed 's/^/    /' "$tmp/fuzz.log" | grep -v '^    INFO\|^    #' | tail -n 4 >&2
            need "clang with libFuzzer, ASan and UBSan runtimes" libclang-rt-14-dev
        fi
    fi

    # The compose check builds compose-go, whose go.mod wants Go 1.24; Debian 12's
    # golang-go is 1.19, so the toolchain comes from go.dev (it is on this machine kind).
    go=$(command -v go || true)
    [[ -z "$go" && -x /usr/local/go/bin/go ]] && go=/usr/local/go/bin/go
    if [[ -n "$go" ]]; then
        gv=$("$go" env GOVERSION 2>/dev/null | sed -n 's/^go\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
        read -r gmaj gmin <<<"${gv:-0 0}"
        ((gmaj > 1 || (gmaj == 1 && gmin >= 24))) ||
            need "go 1.24 or newer (found ${gv:-unknown})" "go-toolchain" "from https://go.dev/dl, not Debian's golang-go 1.19"
    else
        need "go 1.24 or newer (compose check)" "go-toolchain" "from https://go.dev/dl, not Debian's golang-go 1.19"
    fi
fi

if ((nfail)); then
    apt=()
    for p in "${missing_pkgs[@]}"; do [[ $p == go-toolchain ]] || apt+=("$p"); done
    ((${#apt[@]})) && echo "preflight: fix with: apt-get install --no-install-recommends ${apt[*]}" >&2
    echo "preflight ($profile): $nfail missing, checked in $((SECONDS - t0)) s" >&2
    exit 1
fi
echo "preflight ($profile): every tool and library present and working ($((SECONDS - t0)) s)"
