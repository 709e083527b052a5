#!/usr/bin/env bash
# ABI conformance: the driver's and the kernel model's #[repr(C)] layouts against an independent C
# definition, Wine's DDK headers (libwine-dev) compiled by mingw-w64's gcc (gcc-mingw-w64-x86-64).
# Installs both when missing, then runs the crates/abi-conformance suite with the C check
# required (without WSK_SAMPLE_REQUIRE_CONFORMANCE=1 the suite skips it when the tools are missing).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly COMPILER=x86_64-w64-mingw32-gcc
readonly WSK_HEADER=/usr/include/wine/wine/windows/ddk/wsk.h

install_toolchain() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends gcc-mingw-w64-x86-64 libwine-dev
}

if command -v "$COMPILER" >/dev/null 2>&1 && [ -f "$WSK_HEADER" ]; then
  echo "abi-conformance: $COMPILER and Wine's headers are already installed"
else
  install_toolchain
fi
"$COMPILER" --version | head -n 1
dpkg-query --show --showformat='libwine-dev ${Version}\n' libwine-dev 2>/dev/null || true

WSK_SAMPLE_REQUIRE_CONFORMANCE=1 cargo test -p abi-conformance
