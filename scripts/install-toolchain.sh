#!/usr/bin/env bash
# Installs everything the kernel build and the VM tests need. Idempotent: a
# machine that has it all prints one line and returns.
set -euo pipefail
. "$(dirname "$0")/env.sh"

RUST_VER=1.96.0
PKGS=(rustc-web rust-web-src cargo-web libclang-19-dev build-essential flex bison bc
      libelf-dev libssl-dev cpio xz-utils kmod busybox-static qemu-system-x86 pahole
      rsync python3 e2fsprogs fio util-linux systemd-zram-generator)
# The debug kernel builds with clang (KASAN with Rust needs it), matching rustc's LLVM.
[ "$RZ_FLAVOR" = base ] || PKGS+=(clang-22 lld-22 llvm-22)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    rz_log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
v=$($RZ_KRUSTC --version | awk '{print $2}')
case "$v" in 1.9[6-9]*|1.[1-9][0-9][0-9]*) ;; *) rz_die "$RZ_KRUSTC is $v, need >= $RUST_VER (rustc-web)";; esac
[ -d "$($RZ_KRUSTC --print sysroot)/lib/rustlib/src/rust/library/core" ] || rz_die "rust-web-src missing"

if ! [ -x "$RZ_BINDGEN" ]; then
    rz_log "building bindgen-cli with Debian's cargo (about 2 minutes)"
    mkdir -p "$RZ_TOOLS"
    PATH=/usr/bin:/bin CARGO_HOME=$RZ_TOOLS/cargo-home \
        cargo install --locked --quiet bindgen-cli --root "$RZ_TOOLS"
fi
rz_log "toolchain ready: rustc $v, $("$RZ_BINDGEN" --version)"
