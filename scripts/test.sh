#!/usr/bin/env bash
# Builds mp and runs every test; lit prints the closing summary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"

"$root/scripts/build.sh"
ninja -C "$build" check-mp
