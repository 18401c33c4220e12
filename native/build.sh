#!/usr/bin/env bash
# Publishes the runtime as a native library and builds the C example against it.
#   native/build.sh publish [OUT]   OUT/lib/libhcrlab.so (NativeAOT) and OUT/lib/libnimhcr.so -> libhcrlab.so
#   native/build.sh example [OUT]   publish if needed, then OUT/example/host and its two modules (gcc)
#   native/build.sh run [OUT]       example, then runs it (LD_LIBRARY_PATH=OUT/lib)
# OUT defaults to artifacts/native at the repository's top. A publish is skipped while OUT/lib/libhcrlab.so is newer
# than every source of the runtime, the encoders and this project (the tests share one copy this way).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
command=${1:-}
out=$(realpath -m "${2:-$top/artifacts/native}")
lib="$out/lib"

publish_is_current() {
  [ -f "$lib/libhcrlab.so" ] || return 1
  [ -z "$(find "$top/runtime" "$top/encoders" "$here" \( -name bin -o -name obj -o -name examples \) -prune -o \
          \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$lib/libhcrlab.so" -print | head -n 1)" ] &&
    [ ! "$top/Directory.Build.props" -nt "$lib/libhcrlab.so" ]
}

publish() {
  if publish_is_current; then
    return
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  local staging="$out/publish"
  rm -rf "$staging"
  dotnet publish "$here/HcrLab.Native.csproj" -c Release -r linux-x64 -nologo -v quiet -clp:ErrorsOnly -o "$staging" >&2
  mkdir -p "$lib"
  cp "$staging/HcrLab.Native.so" "$lib/libhcrlab.so.tmp"
  mv -f "$lib/libhcrlab.so.tmp" "$lib/libhcrlab.so"
  # A link, not a copy: the loader sees one file (one runtime) whichever name a host or a Nim module opens.
  ln -sfn libhcrlab.so "$lib/libnimhcr.so"
}

example() {
  publish
  local dir="$out/example"
  mkdir -p "$dir"
  local flags=(-std=gnu11 -O1 -Wall -Wextra -Werror -I"$here/include")
  gcc "${flags[@]}" -o "$dir/host" "$here/examples/host.c" -L"$lib" -lhcrlab -Wl,-rpath,"$lib" -ldl
  # Two builds of one module: counter_v1.so is what starts, counter_v2.so is copied over counter.so to reload.
  gcc "${flags[@]}" -shared -fPIC -DCOUNTER_VERSION=1 -o "$dir/counter_v1.so" "$here/examples/counter.c"
  gcc "${flags[@]}" -shared -fPIC -DCOUNTER_VERSION=2 -o "$dir/counter_v2.so" "$here/examples/counter.c"
  gcc "${flags[@]}" -shared -fPIC -o "$dir/greeter.so" "$here/examples/greeter.c"
}

case "$command" in
  publish) publish; echo "$lib/libhcrlab.so" ;;
  example) example; echo "$out/example/host" ;;
  run) example; cd "$out/example" && LD_LIBRARY_PATH="$lib" ./host ;;
  *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
