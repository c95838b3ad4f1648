#!/usr/bin/env bash
# Install everything VeerDesk needs into ./.venv on a fresh machine (sourced by run-app.sh and run-tests.sh).
# Usage: source scripts/setup.sh [dev]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# System libraries Qt needs even offscreen, and Xvfb for screenshots.
APT_PACKAGES="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 xvfb"
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for pkg in $APT_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "setup: installing system packages:$missing" >&2
        $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# CPU torch first (a wheel on this machine's disk); an existing torch (e.g. a CUDA build) is kept.
python -c "import torch" 2>/dev/null || pip install -q torch==2.13.0
if [ "${1:-}" = "dev" ]; then
    # dev: test tools, plus Ray so the Ray-engine batch test runs in CI too.
    pip install -q -e ".[dev,ray]"
else
    pip install -q -e .
fi
