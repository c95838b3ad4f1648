#!/usr/bin/env bash
# Install VeerDesk and open the bundled sample in the app (headless digitize when there is no display).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec veerdesk demo "$@"
