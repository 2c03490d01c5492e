#!/usr/bin/env bash
# Regenerate the hash-pinned lock files the venvs install from, with pip-tools
# (pip-compile --generate-hashes) in a scratch venv. Each input stays a short,
# loosely pinned list; its lock beside it pins every package, dependencies
# included, with the sha256 of each file, and scripts/py, scripts/nb and
# scripts/spark install it with `pip install --require-hashes`:
#   scripts/requirements.txt          -> scripts/requirements.lock          (scripts/py)
#   notebooks/requirements.txt        -> notebooks/requirements.lock        (scripts/nb)
#   notebooks/spark/requirements.txt  -> notebooks/spark/requirements.lock  (scripts/spark)
# The locks are for CPython 3.11 on Linux x86_64 (the project's machines): run
# this there. An existing lock's pins are kept where the input still allows them;
# --upgrade moves every pin to the newest allowed version.
# Usage: scripts/requirements-lock.sh [--upgrade] [INPUT...]  (default: all three)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
upgrade=()
if [[ ${1:-} == --upgrade ]]; then
    upgrade=(--upgrade)
    shift
fi
inputs=("$@")
((${#inputs[@]})) || inputs=(scripts/requirements.txt notebooks/requirements.txt
    notebooks/spark/requirements.txt)
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/pip" install --quiet --disable-pip-version-check pip-tools >&2
export CUSTOM_COMPILE_COMMAND="scripts/requirements-lock.sh"
# PyPI only: a local wheel directory (PIP_FIND_LINKS) must not leak into a lock
unset PIP_FIND_LINKS
for in in "${inputs[@]}"; do
    out=${in%.txt}.lock
    echo "requirements-lock: $in -> $out" >&2
    "$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
        --no-emit-index-url --no-emit-find-links "${upgrade[@]}" --output-file "$out" "$in"
done
