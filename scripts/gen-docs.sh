#!/usr/bin/env bash
# Regenerates docs/generated/ from the ODS descriptions (.td files).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MP_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh" >/dev/null
ninja -C "$build" mlir-doc >/dev/null
cp "$build/docs/Dialects/MPDialect.md" "$root/docs/generated/MPDialect.md"
cp "$build/docs/MPPasses.md" "$root/docs/generated/MPPasses.md"
cp "$build/docs/MPConversionPasses.md" "$root/docs/generated/MPConversionPasses.md"
echo "docs/generated/ updated"
