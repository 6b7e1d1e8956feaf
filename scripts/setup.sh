#!/usr/bin/env bash
# Installs everything mp needs from Debian's packages. Idempotent: when every
# package is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libopenblas-dev libopenmpi-dev openmpi-bin
  # OpenBLAS on OpenMP threads, the pool the host kernels use (runtime/).
  libopenblas0-openmp
  python3
  # PyTorch, as an independent reference in the tests (test/PyTorch).
  python3-torch python3-numpy
  # scripts/plot-metrics.py's plots of mp-train --metrics.
  python3-matplotlib
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
