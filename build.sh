#!/usr/bin/env bash
# HcrLab's entry point for newcomers and CI. It installs what is missing, builds, and runs:
#   ./build.sh verify [options]   hcrlab verify over all CPUs (options go to hcrlab verify; see --help)
#   ./build.sh test [options]     the whole NUnit suite; ends with the line "N passed, N failed[, N skipped]"
#   ./build.sh hcrlab ARGS...     any hcrlab command (encode, verify, scenario run --all, ...)
set -euo pipefail
cd "$(dirname "$0")"

configuration=Release
results=artifacts/test-results

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian/Ubuntu packages the lab uses at run time: Unicorn 2 (the emulator; Capstone comes inside its NuGet package),
# gcc (reload scenarios build their C modules with it), python3 (the example encoders of lab/examples/) and pkg-config
# (the C library's install test builds a host with `pkg-config --cflags --libs hcrlab`).
ensure_native_packages() {
  local missing=()
  ldconfig -p 2>/dev/null | grep -q 'libunicorn\.so\.2' || missing+=(libunicorn2)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  # verify --on host runs i386 slots in a 32-bit helper: gcc -m32 needs the 32-bit C library. gcc-N-multilib (not the
  # gcc-multilib metapackage, which Debian makes conflict with cross compilers such as gcc-aarch64-linux-gnu) brings it.
  if command -v gcc >/dev/null 2>&1 && [ "$(uname -m)" = x86_64 ] \
      && ! echo 'int main(void){return 0;}' | gcc -m32 -x c -o /dev/null - >/dev/null 2>&1; then
    missing+=("gcc-$(gcc -dumpversion | cut -d. -f1)-multilib")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: installing ${missing[*]} with apt-get ..." >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# The arm64 cross toolchain and qemu-user (native/cross/ensure-arm64-toolchain.sh): the runtime's project builds its
# arm64 C halves with them, and the Arm64 test category runs those under qemu-aarch64. Installed for `test` only (about
# 150 MB); without them the build skips the arm64 halves and the Arm64 tests are reported as skipped.
ensure_arm64_toolchain() {
  native/cross/ensure-arm64-toolchain.sh ||
    echo "build.sh: the arm64 cross toolchain is not installed; the Arm64 tests will be skipped" >&2
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux); 'dotnet' is not on PATH" >&2
    exit 2
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# The build's own lines ("Build succeeded", "Time Elapsed", errors) go to standard error: standard output belongs to the
# command after it, so `./build.sh hcrlab encode ... --format hex | ...` pipes nothing but the bytes.
build() {
  dotnet build HcrLab.sln -c "$configuration" -nologo -v quiet -clp:ErrorsOnly >&2
}

run_hcrlab() {
  dotnet "lab/bin/$configuration/net10.0/hcrlab.dll" "$@"
}

# Prints the CI's totals line from the TRX files the test run wrote.
print_totals() {
  local passed=0 failed=0 skipped=0 counters p f n e
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
    n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0})); skipped=$((skipped + ${n:-0}))
  done
  if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  verify)
    ensure_native_packages; ensure_dotnet; build
    run_hcrlab verify "$@"
    ;;
  hcrlab)
    ensure_native_packages; ensure_dotnet; build
    run_hcrlab "$@"
    ;;
  test)
    ensure_native_packages; ensure_arm64_toolchain; ensure_dotnet; build
    rm -rf "$results"
    status=0
    dotnet test HcrLab.sln -c "$configuration" --no-build -nologo \
      --logger "trx;LogFilePrefix=hcrlab" --results-directory "$results" "$@" || status=$?
    print_totals
    if [ "$status" -ne 0 ] && ! ls "$results"/*.trx >/dev/null 2>&1; then
      echo "build.sh: the test run produced no results (exit code $status)" >&2
      [ "$status" -ne 0 ] || status=1
    fi
    exit "$status"
    ;;
  *)
    # The comment at the top, without the '# ' (and nothing after it).
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
    ;;
esac
