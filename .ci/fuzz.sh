#!/usr/bin/env bash
# Fuzzes the driver's IOCTLs through the whole DeviceIoControl path of the kernel model
# (fuzz/fuzz_targets/ioctl.rs) for a fixed time with a fixed seed, and fails on any crash: a
# panic, a kernel-model violation, a leak at unload, a hang or a broken IOCTL invariant.
#
# Knobs (environment): FUZZ_SECONDS (60), FUZZ_SEED (1), FUZZ_MAX_LEN (4096),
# FUZZ_SANITIZER (address; "none" is faster), FUZZ_CORPUS (a fresh temporary directory, so every
# run starts from the same state; point it at fuzz/corpus/ioctl to keep what a run finds),
# FUZZ_JOBS (1; more runs that many fuzzing processes in parallel).
#
# cargo-fuzz passes -Z flags (sanitizer, coverage), which need a nightly compiler; this project
# builds with stable, so RUSTC_BOOTSTRAP=1 lets stable accept them. libFuzzer itself is C++ and
# is compiled by the libfuzzer-sys build script, which needs a C++ compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
seed="${FUZZ_SEED:-1}"
max_len="${FUZZ_MAX_LEN:-4096}"
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

step() { printf '\n==== %s\n' "$*"; }

step "toolchain"
cargo --version
if ! command -v c++ >/dev/null 2>&1; then
  echo "no C++ compiler: installing g++ (libFuzzer is C++)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ >/dev/null
fi
c++ --version | head -n1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io"
  started=$(date +%s)
  cargo install cargo-fuzz --locked
  echo "cargo-fuzz installed in $(($(date +%s) - started)) s"
fi
cargo fuzz --version

step "build the ioctl target (sanitizer: ${sanitizer})"
started=$(date +%s)
cargo fuzz build --fuzz-dir fuzz --sanitizer "${sanitizer}" ioctl
echo "built in $(($(date +%s) - started)) s"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
corpus="${FUZZ_CORPUS:-${work}/corpus}"
mkdir -p "${corpus}"
log="${work}/fuzz.log"

step "fuzz ioctl: ${seconds} s, seed ${seed}, max_len ${max_len}, ${jobs} job(s)"
parallel=()
if [ "${jobs}" -gt 1 ]; then
  parallel=("-fork=${jobs}")
fi
status=0
# -len_control=0: use the whole max_len from the start (a scenario needs a few hundred bytes to
# carry several operations). -timeout: one scenario taking 30 s is a hang. -rss_limit_mb: a
# kernel per scenario, a 70 KiB system buffer per IOCTL; 4 GiB leaves room.
cargo fuzz run --fuzz-dir fuzz --sanitizer "${sanitizer}" ioctl "${corpus}" -- \
  -max_total_time="${seconds}" -seed="${seed}" -max_len="${max_len}" -len_control=0 \
  -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 "${parallel[@]}" \
  >"${log}" 2>&1 || status=$?

# The log has a line per new coverage; keep the summary and any crash report.
grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE|pulse)|#[0-9]+: cov|Done |stat::|INFO: (Seed|exiting))' \
  "${log}" || true
if [ "${status}" -ne 0 ]; then
  echo
  echo "fuzzing FAILED (exit ${status}); the report:"
  grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "${log}" | tail -n 150
  echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer ${sanitizer} \
ioctl fuzz/artifacts/ioctl/<crash-file>"
  exit "${status}"
fi

# One process: "stat::number_of_executed_units: N" and "Done N runs in S second(s)".
# -fork: "#N: cov: …" lines (N counts every job's executions) and "INFO: exiting: 0 time: Ss".
execs=$( (grep -Eo '^stat::number_of_executed_units: [0-9]+' "${log}" || true) |
  awk '{s += $2} END {print s + 0}')
if [ "${execs}" -eq 0 ]; then
  execs=$( (grep -Eo '^#[0-9]+: cov' "${log}" || true) | tail -n1 | tr -dc '0-9')
  execs=${execs:-0}
fi
elapsed=$( (grep -Eo '^Done [0-9]+ runs in [0-9]+ second' "${log}" || true) |
  tail -n1 | awk '{print $5}')
if [ -z "${elapsed}" ]; then
  elapsed=$( (grep -Eo 'INFO: exiting: [0-9]+ time: [0-9]+s' "${log}" || true) |
    tail -n1 | awk '{print $5}' | tr -dc '0-9')
fi
elapsed=${elapsed:-${seconds}}
[ "${elapsed}" -gt 0 ] || elapsed=1
echo
echo "fuzz ioctl: ${execs} executions in ${elapsed} s ($((execs / elapsed)) exec/s), no crash"
