#!/usr/bin/env bash
# Renda's two commands, each doing its own set-up on a fresh machine:
#   ./run.sh demo [--deputies N] [--out DIR]   run a scripted town session end to end
#   ./run.sh test [PYTEST ARGS]                 lint, type-check and run the test suite
set -euo pipefail
cd "$(dirname "$0")"
VENV=${RENDA_VENV:-.venv}
PYTHON=${PYTHON:-python3}

# The set-up prints one line, and pip's output only if it fails (it is kept in $VENV/setup.log).
ensure_venv() {
    if [ ! -x "$VENV/bin/renda" ] || [ pyproject.toml -nt "$VENV/.renda-installed" ]; then
        echo "run.sh: setting up $VENV (Renda with its server and test tools; pip's log: $VENV/setup.log)" >&2
        "$PYTHON" -m venv "$VENV"
        local log="$VENV/setup.log"
        "$VENV/bin/pip" install -q --upgrade pip >"$log" 2>&1 || true
        if ! "$VENV/bin/pip" install -q -e ".[server,dev]" >>"$log" 2>&1; then
            cat "$log" >&2
            echo "run.sh: the set-up failed (pip's output above, also in $log)" >&2
            exit 1
        fi
        touch "$VENV/.renda-installed"
    fi
}

# Debian packages: belenios-tool (the independent verifier and reference client), chromium and
# the Chinese fonts (the browser tests of every screen).
ensure_system() {
    local missing=()
    command -v belenios-tool >/dev/null 2>&1 || missing+=(belenios-tool)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    fc-list :lang=zh 2>/dev/null | grep -q "Noto Sans CJK" || missing+=(fonts-noto-cjk)
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        else
            echo "run.sh: please install: ${missing[*]} (tests that need them will skip)" >&2
        fi
    fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    demo)
        ensure_venv
        exec "$VENV/bin/renda" demo "$@"
        ;;
    test)
        ensure_venv
        ensure_system
        "$VENV/bin/ruff" check keys tally voting kiosk tests
        "$VENV/bin/mypy"
        exec "$VENV/bin/pytest" -n 2 "$@"
        ;;
    *)
        echo "usage: ./run.sh demo [--deputies N] [--out DIR] | ./run.sh test [PYTEST ARGS]" >&2
        exit 2
        ;;
esac
