#!/usr/bin/env bash
# Install everything VeerDesk needs into ./.venv on a fresh machine (sourced by run-app.sh and run-tests.sh).
# Usage: source scripts/setup.sh [dev]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# System libraries Qt needs even offscreen, and Xvfb for screenshots (the tests need these).
APT_PACKAGES="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 xvfb"
# What Qt's xcb plugin loads to open a window on an X display (ldd of libQt6XcbQpa); without them the app
# aborts at start. Best effort: package names vary between releases, and the tests run offscreen anyway.
APT_WINDOW_PACKAGES="libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
    libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1"
missing_packages() {
    local pkg out=""
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || out="$out $pkg"
    done
    echo "$out"
}
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    missing="$(missing_packages $APT_PACKAGES)"
    # shellcheck disable=SC2086
    missing_window="$(missing_packages $APT_WINDOW_PACKAGES)"
    if [ -n "$missing$missing_window" ]; then
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "setup: installing system packages:$missing$missing_window" >&2
        $SUDO apt-get update -qq || echo "setup: apt-get update failed; installing from the lists at hand" >&2
        if [ -n "$missing" ]; then
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
        fi
        for pkg in $missing_window; do
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 \
                || echo "setup: could not install $pkg; the app may not open a window (veerdesk demo then digitizes headless)" >&2
        done
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
