#!/usr/bin/env bash
# wskctl's Windows build, checked on Linux: cross-compile wskctl.exe for x86_64-pc-windows-gnu
# with mingw-w64 and run it under Wine. There is no driver under Wine, so this proves the Windows
# backend's error path end to end: CreateFileW on \\.\WskSample fails, and wskctl must say the
# driver is not installed or not started and exit 3.
#
# Runs as root on a fresh Debian machine (CI) and installs what it needs; on a machine that
# already has mingw-w64 and wine64 it installs nothing.
#
# Wine 8 (Debian bookworm) has no bcryptprimitives.dll, from which Rust's std imports ProcessPrng
# (its random source, e.g. for HashMap keys). The script builds a tiny stand-in with mingw and
# puts it next to the test copy of the exe; it is for this test only and never shipped.
#
# Wine's output goes to files, never into a pipe: a pipe held open by a lingering wineserver can
# hang the script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

target=x86_64-pc-windows-gnu
failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*"
  failures=$((failures + 1))
}

# --- tools ------------------------------------------------------------------------------------
find_tool() {
  local candidate
  for candidate in "$@"; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
    if [ -x "$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# Debian's wine64 package puts its binaries in /usr/lib/wine; /usr/bin/wine comes with the
# (recommended, not required) wine package.
wine_candidates=(wine64 /usr/lib/wine/wine64 wine)
wineserver_candidates=(wineserver64 /usr/lib/wine/wineserver64 wineserver /usr/lib/wine/wineserver)

if ! find_tool x86_64-w64-mingw32-gcc >/dev/null || ! find_tool "${wine_candidates[@]}" >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: mingw-w64 or wine64 is missing; run as root to install them (apt-get install gcc-mingw-w64-x86-64 wine64)"
    exit 1
  fi
  echo "installing gcc-mingw-w64-x86-64 and wine64 (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 wine64 >/dev/null
fi
wine=$(find_tool "${wine_candidates[@]}")
wineserver=$(find_tool "${wineserver_candidates[@]}")
mingw_gcc=$(find_tool x86_64-w64-mingw32-gcc)
echo "wine: $wine ($("$wine" --version 2>/dev/null || echo 'unknown version'))"
echo "mingw: $mingw_gcc"

rustup target add "$target" >/dev/null 2>&1 || rustup target add "$target"

# --- build ------------------------------------------------------------------------------------
# The linker for this target is mingw's gcc; say so explicitly in case the toolchain's default
# is not on PATH under that name.
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER="$mingw_gcc"
cargo build --release -p wskctl --target "$target"
target_dir=${CARGO_TARGET_DIR:-$root/target}
exe="$target_dir/$target/release/wskctl.exe"
if [ ! -f "$exe" ]; then
  echo "FAIL: $exe was not built"
  exit 1
fi
pass "cargo build --release -p wskctl --target $target"

# --- a private Wine prefix and the test directory -----------------------------------------------
work=$(mktemp -d /tmp/wine-wskctl.XXXXXX)
export WINEPREFIX="$work/prefix"
export WINEDEBUG=-all
export WINEARCH=win64
# No Mono or Gecko installers (they would prompt, and nothing here needs them).
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY

cleanup() {
  "$wineserver" -k >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bin="$work/bin"
mkdir -p "$bin"
cp "$exe" "$bin/wskctl.exe"

# The ProcessPrng stand-in: RtlGenRandom (SystemFunction036 in advapi32), in chunks because its
# length is a ULONG.
cat >"$work/bcryptprimitives.c" <<'EOF'
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
EOF
"$mingw_gcc" -shared -O2 -o "$bin/bcryptprimitives.dll" "$work/bcryptprimitives.c" -ladvapi32
pass "stand-in bcryptprimitives.dll built with mingw (test only)"

# run NAME ARGS...: runs wskctl.exe under Wine with output in $work/NAME.out and NAME.err and
# sets $code. The first run also creates the prefix, hence the generous timeout.
run() {
  local name=$1
  shift
  set +e
  (cd "$bin" && timeout 600 "$wine" "$bin/wskctl.exe" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null)
  code=$?
  set -e
}

show() {
  echo "  --- stdout ($1)"
  sed 's/^/  | /' "$work/$1.out"
  echo "  --- stderr ($1)"
  sed 's/^/  | /' "$work/$1.err"
}

# --- checks -------------------------------------------------------------------------------------
run help --help
if [ "$code" -eq 0 ] && grep -q "Exit codes" "$work/help.out" && grep -q "driver unavailable" "$work/help.out"; then
  pass "wskctl.exe --help exits 0 and lists the exit codes"
else
  fail "wskctl.exe --help: exit $code, or no exit codes in the help"
  show help
fi

run send send --to 127.0.0.1:9 --payload x
if [ "$code" -eq 3 ] && grep -q "not installed or not started" "$work/send.err"; then
  pass "wskctl.exe send without a driver exits 3: $(head -n 1 "$work/send.err")"
else
  fail "wskctl.exe send --to 127.0.0.1:9 --payload x: expected exit 3 and 'not installed or not started', got exit $code"
  show send
fi

run stats_json stats --json
if [ "$code" -eq 3 ] && grep -q '"kind": "driver_not_installed"' "$work/stats_json.out"; then
  pass "wskctl.exe stats --json without a driver exits 3 with a JSON error object"
else
  fail "wskctl.exe stats --json: expected exit 3 and a driver_not_installed JSON error, got exit $code"
  show stats_json
fi

run usage send --to 127.0.0.1:0 --payload x
if [ "$code" -eq 2 ] && grep -q "port 0" "$work/usage.err"; then
  pass "wskctl.exe send to port 0 is a usage error (exit 2)"
else
  fail "wskctl.exe send --to 127.0.0.1:0: expected exit 2, got $code"
  show usage
fi

"$wineserver" -w || true

if [ "$failures" -ne 0 ]; then
  echo "FAIL: wine-wskctl: $failures check(s) failed"
  exit 1
fi
echo "PASS: wine-wskctl: wskctl.exe builds for Windows and behaves under Wine"
