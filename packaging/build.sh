#!/usr/bin/env bash
# Build the one-folder desktop bundle with PyInstaller: dist/veerdesk/veerdesk (+ dist/veerdesk/_internal).
#
#   bash packaging/build.sh            # uses ./.venv (created by scripts/setup.sh when missing)
#   VEERDESK_BUILD_VENV=/tmp/bvenv bash packaging/build.sh
#   VEERDESK_STRIP=0 bash packaging/build.sh   # keep the symbol tables of torch's libraries (~90 MB bigger)
#
# build/ and dist/ are git-ignored. Takes a few minutes and about 1 GB of disk; runs at low priority.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${VEERDESK_BUILD_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    if [ "$VENV" = "$ROOT/.venv" ]; then
        # shellcheck disable=SC1091
        source scripts/setup.sh
    else
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q torch==2.13.0
        "$VENV/bin/pip" install -q -e "$ROOT"
    fi
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -c "import PyInstaller" 2>/dev/null || pip install -q "pyinstaller>=6.10"

start=$(date +%s)
nice -n "${VEERDESK_NICE:-19}" python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" "$ROOT/packaging/veerdesk.spec"
# torch's own libraries ship with symbol tables (libtorch_cpu.so: ~90 MB of them). Strip only those: the
# auditwheel-patched libraries of numpy/opencv/pillow break when stripped.
if [ "${VEERDESK_STRIP:-1}" != "0" ] && command -v strip >/dev/null; then
    find "$ROOT/dist/veerdesk/_internal/torch/lib" -name "*.so*" -type f | while read -r lib; do
        if file "$lib" | grep -q "not stripped"; then
            nice -n "${VEERDESK_NICE:-19}" strip --strip-unneeded "$lib"
        fi
    done
fi
echo "built $ROOT/dist/veerdesk in $(( $(date +%s) - start )) s; size: $(du -sh "$ROOT/dist/veerdesk" | cut -f1)"
