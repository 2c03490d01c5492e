#!/usr/bin/env bash
# scripts/preflight.sh names the package of a missing piece, fast, and agrees
# with scripts/setup.sh: every package it can name is one setup.sh installs.
#   1. on this machine (set up by scripts/setup.sh) it passes;
#   2. clang without its runtime archives (a resource directory holding only
#      clang's headers, as when libclang-rt-14-dev is not installed) makes it fail
#      within 30 s naming libclang-rt-14-dev;
#   3. kcat missing from PATH makes it fail naming kcat;
#   4. every package name in preflight.sh appears in setup.sh.
set -euo pipefail
src=${GTP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
pf=$src/scripts/preflight.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gtp-test-preflight.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# 1. the real machine
"$pf" test >"$tmp/ok.log" 2>&1 || {
    cat "$tmp/ok.log" >&2
    fail "preflight fails on a machine set up by setup.sh"
}

# 2. clang whose resource directory has the headers but no lib/ (no runtimes)
real_clang=$(command -v clang)
rd=$(clang -print-resource-dir)
mkdir -p "$tmp/rd" "$tmp/bin-noclangrt"
ln -s "$rd/include" "$tmp/rd/include"
cat >"$tmp/bin-noclangrt/clang" <<SH
#!/bin/sh
exec "$real_clang" -resource-dir="$tmp/rd" "\$@"
SH
chmod +x "$tmp/bin-noclangrt/clang"
t0=$SECONDS
rc=0
PATH="$tmp/bin-noclangrt:$PATH" "$pf" test >"$tmp/rt.log" 2>&1 || rc=$?
took=$((SECONDS - t0))
((rc == 1)) || fail "without the clang runtimes preflight exited $rc, want 1"
grep -q 'MISSING clang with libFuzzer.*libclang-rt-14-dev' "$tmp/rt.log" ||
    fail "without the clang runtimes preflight did not name libclang-rt-14-dev"
grep -q 'apt-get install .*libclang-rt-14-dev' "$tmp/rt.log" ||
    fail "the apt-get line does not name libclang-rt-14-dev"
((took <= 30)) || fail "preflight took $took s to fail (limit 30)"
echo "without libclang-rt: exit $rc in $took s"
sed 's/^/  | /' "$tmp/rt.log"

# 3. a PATH without kcat: every command of the real PATH but that one
mkdir -p "$tmp/bin-nokcat"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [[ -d $d ]] || continue
    for f in "$d"/*; do
        b=${f##*/}
        [[ $b == kcat || -e "$tmp/bin-nokcat/$b" ]] || ln -s "$f" "$tmp/bin-nokcat/$b"
    done
done
rc=0
PATH="$tmp/bin-nokcat" "$pf" run >"$tmp/kcat.log" 2>&1 || rc=$?
((rc == 1)) || fail "without kcat preflight exited $rc, want 1"
grep -q 'MISSING kcat -> install package: kcat' "$tmp/kcat.log" || {
    cat "$tmp/kcat.log" >&2
    fail "without kcat preflight did not name it"
}
[[ $(grep -c MISSING "$tmp/kcat.log") == 1 ]] || fail "without kcat preflight named more than kcat"

# 4. the packages preflight names are the packages setup.sh installs
mapfile -t pkgs < <(
    {
        sed -n 's/^ *tool [^ ]* \([a-z0-9.+-]*\)$/\1/p' "$pf"
        grep -o '\]=[a-z0-9.+-]*' "$pf" | cut -c3-
        sed -n 's/.*need "[^"]*" \([a-z0-9.+-]*\).*/\1/p' "$pf"
        sed -n 's/.*need "[^"]*" "\([a-z0-9. +-]*\)".*/\1/p' "$pf" | tr ' ' '\n'
    } | sort -u | grep -v '^$'
)
((${#pkgs[@]} >= 20)) || fail "found only ${#pkgs[@]} package names in preflight.sh"
for p in "${pkgs[@]}"; do
    [[ $p == go-toolchain ]] && continue # not a Debian package: see preflight.sh
    grep -qw -- "$p" "$src/scripts/setup.sh" || fail "preflight names $p, setup.sh does not install it"
done
echo "checked ${#pkgs[@]} package names against setup.sh"

((fails == 0)) || exit 1
echo "ok"
