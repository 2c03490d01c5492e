#!/usr/bin/env bash
# The README's option tables (between <!-- flags:begin --> and <!-- flags:end -->)
# must equal what the binaries' --help prints now (scripts/readme_flags.sh), so
# the documentation cannot drift from the option tables; and the renderer must
# notice a change (a tampered copy of the README fails the check).
set -euo pipefail
root=${GTP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export GTP_BUILD_DIR=${GTP_BUILD_DIR:-$root/build}

"$root/scripts/readme_flags.sh" --check

# The check bites: a README whose table lost a flag is reported.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp "$root/scripts/readme_flags.sh" "$tmp/scripts/"
grep -v -- '--roll-seconds' "$root/README.md" >"$tmp/README.md"
if (cd "$tmp" && scripts/readme_flags.sh --check >/dev/null 2>&1); then
    echo "readme_flags --check accepted a README without --roll-seconds" >&2
    exit 1
fi
# ... and the block holds no path of this checkout (CI clones elsewhere).
if "$root/scripts/readme_flags.sh" | grep -qF "$root/"; then
    echo "the generated block contains this checkout's path $root" >&2
    exit 1
fi
echo "readme flags: 1 passed, 0 failed"
