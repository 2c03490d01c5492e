#!/usr/bin/env bash
# Regenerates dashboard/map.json (the Heatmap's country outlines) from the npm
# packages world-atlas (Natural Earth 110m) and iso-3166-1, fetched with
# `npm pack` into the ignored .cache/. Only needed when changing the map.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/.cache/mapsrc"
mkdir -p "$work"
cd "$work"
for pkg in world-atlas@2.0.2 iso-3166-1@2.1.1; do
    name=${pkg%@*} ver=${pkg#*@}
    if [[ ! -d "$name-$ver" ]]; then
        npm pack --silent "$pkg" >/dev/null
        mkdir -p "$name-$ver"
        tar xzf "$name-$ver.tgz" -C "$name-$ver" --strip-components=1
    fi
done
node "$root/scripts/make_map.js" "$work/world-atlas-2.0.2" "$work/iso-3166-1-2.1.1" \
    >"$root/dashboard/map.json.tmp"
mv "$root/dashboard/map.json.tmp" "$root/dashboard/map.json"
echo "make_map: wrote dashboard/map.json ($(wc -c <"$root/dashboard/map.json") bytes)"
