#!/usr/bin/env bash
# Installs everything the kernel build and the VM tests need. Idempotent: a
# machine that has it all prints one line and returns.
set -euo pipefail
. "$(dirname "$0")/env.sh"

RUST_VER=1.96.0
# What every flavor needs on the host: the guest (busybox, QEMU, the
# initramfs tools and the binaries copied into it); --build-only (make
# install) leaves these out.
PKGS=(kmod)
[ "${1:-}" = --build-only ] || PKGS+=(cpio xz-utils busybox-static qemu-system-x86 python3 e2fsprogs fio
                                       util-linux systemd-zram-generator zstd nbd-client nbdkit
                                       gcc libc6-dev)
case $RZ_FLAVOR in
    # Debian's kernel is built for inside the trixie environment
    # (scripts/trixie.sh), which debootstrap creates on a non-trixie host.
    stock) if grep -qx 'VERSION_CODENAME=trixie' /etc/os-release 2>/dev/null; then
               mapfile -t -O ${#PKGS[@]} PKGS < <("$RZ_TOP/scripts/trixie.sh" packages)
           else
               PKGS+=(debootstrap)
           fi ;;
    *) PKGS+=(rustc-web rust-web-src cargo-web libclang-19-dev build-essential flex bison bc
              libelf-dev libssl-dev pahole rsync) ;;
esac
# The debug kernel builds with clang (KASAN with Rust needs it), matching rustc's LLVM.
[ "$RZ_FLAVOR" != debug ] || PKGS+=(clang-22 lld-22 llvm-22)

missing=()
for p in "${PKGS[@]}"; do
    # name=version: that exact version must be installed.
    st=$(dpkg-query -W -f='${Status} ${Version}' "${p%%=*}" 2>/dev/null || true)
    case $st in "install ok installed"*) [ "$p" = "${p%%=*}" ] || [ "${st##* }" = "${p#*=}" ] || missing+=("$p") ;;
                *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -gt 0 ]; then
    rz_log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$RZ_FLAVOR" = stock ]; then
    # The compilers live in the trixie environment, which prepare-stock.sh
    # makes while the kernel packages download.
    rz_log "host packages ready (stock kernel; its toolchain: scripts/trixie.sh)"
    exit 0
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
