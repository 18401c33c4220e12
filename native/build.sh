#!/usr/bin/env bash
# Publishes the runtime as a native library (C conventions: a versioned soname, pkg-config) and builds the C example.
#   native/build.sh publish [OUT]   OUT/lib/libhcrlab.so.VERSION (NativeAOT) with the links libhcrlab.so.MAJOR (its
#                                   soname), libhcrlab.so and libnimhcr.so, and hcrtrial beside them
#   native/build.sh publish --rid linux-arm64 [OUT]
#                                   the same for arm64, cross-published from x86-64 (OUT defaults to
#                                   artifacts/native/linux-arm64): installs the cross toolchain when missing
#   native/build.sh install PREFIX [OUT]
#                                   publish to OUT if needed, then PREFIX/lib (the library, its links, hcrtrial),
#                                   PREFIX/include/hcrlab.h and PREFIX/lib/pkgconfig/hcrlab.pc: then
#                                   cc host.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs hcrlab)
#   native/build.sh example [OUT]   publish if needed, then OUT/example/host and its modules (gcc)
#   native/build.sh run [OUT]       example, then runs it (LD_LIBRARY_PATH=OUT/lib)
#   native/build.sh example --rid linux-arm64 [OUT]
#   native/build.sh run --rid linux-arm64 [OUT]
#                                   the same for arm64 (OUT defaults to artifacts/native/linux-arm64): the library
#                                   cross-published, the host and its modules built with aarch64-linux-gnu-gcc, run under
#                                   qemu-aarch64 with QEMU_LD_PREFIX=/usr/aarch64-linux-gnu, and hcrtrial through it too
#                                   (HCRLAB_TRIAL_RUNNER); natively on an arm64 machine. It prints what the x86-64 build
#                                   prints
#   native/build.sh scenario-host --rid linux-arm64 [OUT]
#                                   the scenario host (scenarios/Host) cross-published with hcrtrial into OUT (default
#                                   artifacts/scenario-host/linux-arm64), for hcrlab scenario run --arch arm64
#   native/build.sh nim [OUT]       publish if needed; Nim 1.6's own runtime (OUT/nim/reference: libnimhcr.so,
#                                   libnimrtl.so) and OUT/nim/hcrlab (libnimhcr.so -> HcrLab's, Nim's libnimrtl.so).
#                                   Installs Debian's nim when missing and root; exit code 3 when nim is unavailable.
#   native/build.sh bench [OUT] [N] nim, then the C harness bench/bench.c on Nim's runtime and on HcrLab's, side by side
#                                   (a Markdown table; N distinct names per module, default 100000)
# OUT defaults to artifacts/native at the repository's top. A publish is skipped while OUT/lib/libhcrlab.so.VERSION is
# newer than every source of the runtime, the encoders and this project (the tests share one copy this way).
set -euo pipefail
shopt -s inherit_errexit # a failed publish inside $(...) stops the script too
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
command=${1:-}
out=$(realpath -m -- "${2:-$top/artifacts/native}")
lib="$out/lib"
# The package version (Directory.Build.props) is the library's: libhcrlab.so.1.0.0, soname libhcrlab.so.1.
version=$(sed -n 's:.*<Version>\([0-9.]*\)</Version>.*:\1:p' "$top/Directory.Build.props" | head -n 1)
major=${version%%.*}
real="libhcrlab.so.$version"

# publish_is_current [LIBDIR]: LIBDIR (default $lib) holds a library newer than every source.
publish_is_current() {
  local dir=${1:-$lib}
  [ -f "$dir/$real" ] || return 1
  [ -z "$(find "$top/runtime" "$top/encoders" "$here" \( -name bin -o -name obj -o -name examples \) -prune -o \
          \( -name '*.cs' -o -name '*.c' -o -name '*.csproj' -o -name '*.props' \) -newer "$dir/$real" -print | head -n 1)" ] &&
    [ ! "$top/Directory.Build.props" -nt "$dir/$real" ] && [ ! "$top/Directory.Packages.props" -nt "$dir/$real" ]
}

# place_library LIBRARY LIBDIR TRIAL: LIBRARY (the published HcrLab.Native.so) as LIBDIR/libhcrlab.so.VERSION, with
# the links a C library has (libhcrlab.so.MAJOR, the soname the loader looks for; libhcrlab.so, what -lhcrlab links) and
# libnimhcr.so (Nim programs open it by that name). Links, not copies: the loader sees one file (one runtime) whichever
# name a host or a Nim module opens. The trial loader (HcrRuntimeOptions.Trial) is looked for beside the library.
place_library() {
  local library=$1 dir=$2 trial=$3
  mkdir -p "$dir"
  cp "$library" "$dir/$real.tmp"
  mv -f "$dir/$real.tmp" "$dir/$real"
  ln -sfn "$real" "$dir/libhcrlab.so.$major"
  ln -sfn "libhcrlab.so.$major" "$dir/libhcrlab.so"
  ln -sfn "libhcrlab.so.$major" "$dir/libnimhcr.so"
  cp "$trial" "$dir/hcrtrial.tmp"
  mv -f "$dir/hcrtrial.tmp" "$dir/hcrtrial"
}

publish() {
  if publish_is_current; then
    return
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  local staging="$out/publish"
  rm -rf "$staging"
  local host_rid=linux-x64
  [ "$(uname -m)" != aarch64 ] || host_rid=linux-arm64 # the machine's own CPU: an arm64 machine publishes natively
  dotnet publish "$here/HcrLab.Native.csproj" -c Release -r "$host_rid" -nologo -v quiet -clp:ErrorsOnly -o "$staging" >&2
  place_library "$staging/HcrLab.Native.so" "$lib" "$top/runtime/obj/hcrguard/hcrtrial"
}

# install PREFIX: what a C host builds and runs against, in the usual places, with a pkg-config file.
install_library() {
  local prefix
  [ -n "${1:-}" ] || { echo "native/build.sh install: give a PREFIX (for example /usr/local, or \"\$(mktemp -d)\")" >&2; exit 2; }
  prefix=$(realpath -m -- "$1")
  publish
  mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
  place_library "$lib/$real" "$prefix/lib" "$lib/hcrtrial"
  cp "$here/include/hcrlab.h" "$prefix/include/hcrlab.h"
  cat >"$prefix/lib/pkgconfig/hcrlab.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: hcrlab
Description: HcrLab's hot code reloading runtime for C hosts, also a drop-in libnimhcr.so for Nim 1.6
Version: $version
Libs: -L\${libdir} -lhcrlab
Cflags: -I\${includedir}
EOF
  echo "$prefix"
}

example() {
  publish
  build_example gcc "$out/example" "$lib"
}

# build_example CC DIR LIBDIR: the C host (against LIBDIR's libhcrlab.so) and its modules, built with CC into DIR.
build_example() {
  local cc=$1 dir=$2 libdir=$3
  mkdir -p "$dir"
  local flags=(-std=gnu11 -O1 -Wall -Wextra -Werror -I"$here/include")
  "$cc" "${flags[@]}" -o "$dir/host" "$here/examples/host.c" -L"$libdir" -lhcrlab -Wl,-rpath,"$libdir"
  # Three builds of one module: counter_v1.so is what starts, counter_v2.so is copied over counter.so to reload, and
  # counter_v3.so refuses its own init (hcrFailInit), so that reload is refused and undone.
  local v
  for v in 1 2 3; do
    "$cc" "${flags[@]}" -shared -fPIC -DCOUNTER_VERSION=$v -o "$dir/counter_v$v.so" "$here/examples/counter.c"
  done
  "$cc" "${flags[@]}" -shared -fPIC -o "$dir/greeter.so" "$here/examples/greeter.c"
}

# Debian's nim, installed when missing (as root; another apt-get may hold the dpkg lock for a while).
ensure_nim() {
  command -v nim >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "nim is not on PATH and cannot be installed here (needs root and apt-get): apt-get install nim" >&2
    return 3
  fi
  local attempt
  for attempt in 1 2 3; do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=30 nim >/dev/null 2>&1 ||
       { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=30 nim >/dev/null 2>&1; }; then
      return 0
    fi
    sleep 10
  done
  echo "nim could not be installed with apt-get (tried $attempt times)" >&2
  return 3
}

# Nim's runtime libraries, built from the installed Nim's sources as Nim documents it (nimrtl first).
nim_runtimes() {
  publish
  ensure_nim || exit 3
  local reference="$out/nim/reference" ours="$out/nim/hcrlab" nimlib
  nimlib=$(dirname "$(dirname "$(readlink -f "$(command -v nim)")")")/lib
  [ -f "$nimlib/nimhcr.nim" ] || nimlib=/usr/lib/nim/lib
  [ -f "$nimlib/nimhcr.nim" ] || { echo "Nim's lib/nimhcr.nim was not found (looked in $nimlib)" >&2; exit 3; }
  mkdir -p "$reference" "$ours"
  if [ ! -f "$reference/libnimhcr.so" ]; then
    local flags=(c --app:lib -d:release -d:createNimHcr --hints:off --warnings:off)
    nim "${flags[@]}" --nimcache:"$out/nim/cache-rtl" -o:"$reference/libnimrtl.so" "$nimlib/nimrtl.nim" >&2
    nim "${flags[@]}" --nimcache:"$out/nim/cache-hcr" -o:"$reference/libnimhcr.so" "$nimlib/nimhcr.nim" >&2
  fi
  ln -sfn "$lib/libhcrlab.so" "$ours/libnimhcr.so"
  ln -sfn "$reference/libnimrtl.so" "$ours/libnimrtl.so"
}

# The same harness binary on both runtimes; the loader picks the runtime from LD_LIBRARY_PATH.
bench() {
  nim_runtimes
  local n=${1:-100000} harness="$out/bench/bench"
  mkdir -p "$out/bench"
  gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$harness" "$here/bench/bench.c" -ldl
  LD_LIBRARY_PATH="$out/nim/reference" "$harness" "$n" >"$out/bench/nim.tsv"
  LD_LIBRARY_PATH="$out/nim/hcrlab" "$harness" "$n" >"$out/bench/hcrlab.tsv"
  echo "| operation | Nim 1.6.10 | HcrLab | HcrLab / Nim |"
  echo "|---|---|---|---|"
  # Rates (M/s): the ratio is HcrLab's speed over Nim's; times (ns): HcrLab's time over Nim's.
  paste "$out/bench/nim.tsv" "$out/bench/hcrlab.tsv" |
    awk -F'\t' '{ printf "| %s | %s %s | %s %s | %.2f |\n", $1, $2, $3, $5, $6, ($2 > 0 ? $5 / $2 : 0) }'
}

# ---- cross-publishing for another CPU (linux-arm64 from x86-64), apart from the host's publish above ----------------

# publish --rid RID [OUT]: NativeAOT for RID. On x86-64 the link step runs the cross gcc through cross/aarch64-linux-gnu-cc
# (it drops the clang-only --target argument) and objcopy is the cross one; the runtime's project builds the arm64
# libhcrguard.a and hcrtrial that go with it (runtime/obj/hcrguard/linux-arm64). Skipped, like the host's publish, while
# OUT/lib's library is newer than every source.
publish_for_rid() {
  local rid=$1 rid_out rid_lib staging
  case "$rid" in
    linux-arm64) ;;
    *) echo "native/build.sh: --rid $rid: only linux-arm64 is cross-published (the host's library: publish without --rid)" >&2; exit 64 ;;
  esac
  rid_out=$(realpath -m "${2:-$top/artifacts/native/$rid}")
  rid_lib="$rid_out/lib"
  staging="$rid_out/publish"
  "$here/cross/ensure-arm64-toolchain.sh" || exit 3
  if publish_is_current "$rid_lib"; then
    echo "$rid_lib/$real"
    return
  fi
  local cross=()
  if [ "$(uname -m)" != aarch64 ]; then
    cross=(-p:CppCompilerAndLinker="$here/cross/aarch64-linux-gnu-cc" -p:ObjCopyName=aarch64-linux-gnu-objcopy)
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  rm -rf "$staging"
  dotnet publish "$here/HcrLab.Native.csproj" -c Release -r "$rid" "${cross[@]}" -nologo -v quiet -clp:ErrorsOnly -o "$staging" >&2
  place_library "$staging/HcrLab.Native.so" "$rid_lib" "$top/runtime/obj/hcrguard/$rid/hcrtrial"
  echo "$rid_lib/$real"
}

# scenario_host_for_rid RID [OUT]: the scenario host (scenarios/Host) NativeAOT-published for RID with hcrtrial beside
# it, into OUT (default artifacts/scenario-host/RID), where `hcrlab scenario run --arch` looks for it.
scenario_host_for_rid() {
  local rid=$1 host_out
  case "$rid" in
    linux-arm64) ;;
    *) echo "native/build.sh: --rid $rid: only linux-arm64 is cross-published" >&2; exit 64 ;;
  esac
  host_out=$(realpath -m "${2:-$top/artifacts/scenario-host/$rid}")
  "$here/cross/ensure-arm64-toolchain.sh" || exit 3
  local cross=()
  if [ "$(uname -m)" != aarch64 ]; then
    cross=(-p:CppCompilerAndLinker="$here/cross/aarch64-linux-gnu-cc" -p:ObjCopyName=aarch64-linux-gnu-objcopy)
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  dotnet publish "$top/scenarios/Host/HcrLab.ScenarioHost.csproj" -c Release -r "$rid" "${cross[@]}" -nologo -v quiet -clp:ErrorsOnly -o "$host_out" >&2
  cp "$top/runtime/obj/hcrguard/$rid/hcrtrial" "$host_out/hcrtrial"
  echo "$host_out/hcrlab-scenario-host"
}

# example_for_rid RID [OUT]: publish for RID, then the example built with RID's compiler into OUT/example.
example_for_rid() {
  local rid=$1 rid_out cc=gcc
  rid_out=$(realpath -m "${2:-$top/artifacts/native/$rid}")
  publish_for_rid "$rid" "$rid_out" >/dev/null
  [ "$(uname -m)" = aarch64 ] || cc=aarch64-linux-gnu-gcc
  build_example "$cc" "$rid_out/example" "$rid_out/lib"
  echo "$rid_out/example/host"
}

# run_for_rid RID [OUT]: the example, run under qemu-aarch64 with the cross C library (natively on an arm64 machine).
run_for_rid() {
  local host emulator=()
  host=$(example_for_rid "$@")
  if [ "$(uname -m)" != aarch64 ]; then
    # qemu-user runs the host; its trial children (hcrtrial) go through qemu too (HCRLAB_TRIAL_RUNNER), as no
    # binfmt_misc hands arm64 programs to qemu here. QEMU_LD_PREFIX: where both find the arm64 loader and libc.
    emulator=(env QEMU_LD_PREFIX=/usr/aarch64-linux-gnu HCRLAB_TRIAL_RUNNER="$(command -v qemu-aarch64)" qemu-aarch64)
  fi
  cd "$(dirname "$host")" && LD_LIBRARY_PATH="$(dirname "$(dirname "$host")")/lib" "${emulator[@]}" ./host
}

case "$command" in
  publish) if [ "${2:-}" = --rid ]; then publish_for_rid "${3:-}" "${4:-}"; exit; fi
           publish; echo "$lib/$real" ;;
  install) out=$(realpath -m -- "${3:-$top/artifacts/native}"); lib="$out/lib"; install_library "${2:-}" ;;
  example) if [ "${2:-}" = --rid ]; then example_for_rid "${3:-}" "${4:-}"; exit; fi
           example; echo "$out/example/host" ;;
  run) if [ "${2:-}" = --rid ]; then run_for_rid "${3:-}" "${4:-}"; exit; fi
       example; cd "$out/example" && LD_LIBRARY_PATH="$lib" ./host ;;
  scenario-host) [ "${2:-}" = --rid ] || { echo "native/build.sh scenario-host --rid RID [OUT]" >&2; exit 64; }
                 scenario_host_for_rid "${3:-}" "${4:-}" ;;
  nim) nim_runtimes; echo "$out/nim" ;;
  bench) bench "${3:-}" ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;; # the comment at the top
esac
