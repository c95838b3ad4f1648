#!/usr/bin/env bash
# Install VeerDesk with its dev tools and run the whole test suite (what .ci/run calls).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" dev
export QT_QPA_PLATFORM=offscreen
set +e
python -m pytest "$@"
code=$?
set -e
# pytest's 5 means "no tests ran": treat as failure, never as a silent pass.
exit $code
