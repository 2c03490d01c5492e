# Sourced by scripts/py, scripts/nb and scripts/spark (bash): one way to make a
# virtual environment from a hash-pinned lock file (scripts/requirements-lock.sh
# writes them from the requirements.txt beside each).
#
# ensure_venv VENV LOCK: unless VENV was made from LOCK as it is now (the lock's
# sha256 in VENV/.lock.sha), remove VENV and create it again with
# `pip install --require-hashes -r LOCK`, so every package, dependencies
# included, is exactly the pinned file: a changed lock never leaves stray
# packages behind. One installer at a time (flock on VENV.lock, fd 8): tests
# start in parallel. The locks are for CPython 3.11 on Linux x86_64.
ensure_venv() {
    local venv=$1 lock=$2 want
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    [[ -x $venv/bin/python && "$(cat "$venv/.lock.sha" 2>/dev/null)" == "$want" ]] && return 0
    mkdir -p "$(dirname "$venv")"
    exec 8>"$venv.lock"
    flock 8
    if [[ ! -x $venv/bin/python || "$(cat "$venv/.lock.sha" 2>/dev/null)" != "$want" ]]; then
        echo "${0##*/}: preparing $venv from ${lock#"$root"/}" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$lock" >&2
        echo "$want" >"$venv/.lock.sha"
    fi
    exec 8>&-
}
