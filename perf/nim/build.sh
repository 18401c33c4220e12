#!/usr/bin/env bash
# Builds the anchor: Nim 1.6.10's HCR runtime (libnimrtl.so, libnimhcr.so) from Debian's nim package, the hcrbench
# program that runs the workload against it, and libhcrbench.so, the same workload for HcrLab's runtime.
#   perf/nim/build.sh [OUT]    OUT defaults to perf/nim/out (not committed)
# Exit status 3 when nim is not installed (the perf runner then skips the Nim columns and says so).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/out}
mkdir -p "$out"

gcc -O2 -fPIC -shared -Wall -Werror -o "$out/libhcrbench.so" "$here/hcrbench.c"

if ! command -v nim >/dev/null 2>&1; then
  echo "perf/nim/build.sh: nim is not installed (apt-get install -y nim); built only libhcrbench.so" >&2
  exit 3
fi
lib=$(dirname "$(readlink -f "$(command -v nim)")")/../lib
[ -f "$lib/nimhcr.nim" ] || lib=/usr/lib/nim/lib
for unit in nimrtl nimhcr; do
  if [ ! -f "$out/lib$unit.so" ] || [ "$lib/$unit.nim" -nt "$out/lib$unit.so" ]; then
    nim c --app:lib -d:release -d:createNimHcr $([ $unit = nimhcr ] && echo -d:useNimRtl) --hints:off --nimcache:"$out/cache-$unit" \
      -o:"$out/lib$unit.so" "$lib/$unit.nim" >"$out/$unit.log" 2>&1 \
      || { echo "perf/nim/build.sh: nim failed to build $unit (see $out/$unit.log)" >&2; exit 1; }
  fi
done
gcc -O2 -Wall -Werror -DHCRBENCH_MAIN -o "$out/hcrbench" "$here/hcrbench.c" -ldl
nim --version 2>/dev/null | head -n 1 >"$out/nim-version.txt"
