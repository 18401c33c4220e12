#!/usr/bin/env bash
# Installs what building and running arm64 code from an x86-64 Debian/Ubuntu machine needs, when it is missing:
#   gcc-aarch64-linux-gnu   the cross compiler (the runtime's arm64 C halves, NativeAOT's link step, arm64 modules)
#   libc6-dev-arm64-cross   the aarch64 C library and loader in /usr/aarch64-linux-gnu (linking, and qemu-aarch64 -L)
#   qemu-user               qemu-aarch64, which runs the arm64 programs and tests on this machine
# Used by build.sh and native/build.sh. On an arm64 machine nothing is needed (gcc builds for it, programs run natively).
# Exit code 3 when something is missing and cannot be installed here (not root, no sudo, no apt-get).
set -euo pipefail

[ "$(uname -m)" = aarch64 ] && exit 0
missing=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/lib/crt1.o ] || missing+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
[ ${#missing[@]} -eq 0 ] && exit 0

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 3; fi
}
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the arm64 toolchain is missing (${missing[*]}) and apt-get is not here to install it" >&2
  exit 3
fi
echo "installing ${missing[*]} with apt-get ..." >&2
as_root apt-get update -qq || exit 3
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${missing[@]}" >/dev/null || exit 3
