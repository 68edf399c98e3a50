#!/usr/bin/env bash
# Packs the guest: busybox, the kernel's modules plus rzram.ko (depmod'ed so
# `modprobe rzram` works), mkfs.ext4/e2fsck with their libraries,
# util-linux blkdiscard as blkdiscard-ul (busybox's has no -z), fio, zramctl,
# zram-generator, kmod and the modprobe.d file in dist/, memhog
# and dio-check (static), and the VM test scripts. Prints the initramfs path
# on stdout.
set -euo pipefail
. "$(dirname "$0")/env.sh"
kout=$("$RZ_TOP/scripts/build-kernel.sh")
export RZ_KERNEL_SAID=$kout
"$RZ_TOP/scripts/build-module.sh" >/dev/null
krel=$(cat "$kout/include/config/kernel.release")

rz_log "building memhog and dio-check (static)"
(cd "$RZ_TOP" && RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release \
    -p memhog -p dio-check --target x86_64-unknown-linux-gnu)
tools=$RZ_TOP/target/x86_64-unknown-linux-gnu/release

out=$RZ_TOP/out
root=$out/initramfs
rm -rf "$root"; mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,lib64,usr/bin,usr/sbin,tests}
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# busybox has no bash; the VM scripts are POSIX sh.
kmake() { rz_kmake -s -C "$kout" INSTALL_MOD_PATH="$root" "$@"; }
kmake modules_install >/dev/null
kmake M="$RZ_TOP" INSTALL_MOD_DIR=updates modules_install >/dev/null
depmod -b "$root" "$krel"

# Dynamically linked host tools, with the libraries ldd lists; an optional
# second argument renames the tool (not to shadow a busybox applet).
copy_tool() {
    local bin=$1 name=${2:-$(basename "$1")} lib
    cp -L "$bin" "$root/usr/sbin/$name"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"; cp -Ln "$lib" "$root$lib" 2>/dev/null || true
    done
}
copy_tool /sbin/mke2fs
copy_tool /sbin/e2fsck
ln -sf mke2fs "$root/usr/sbin/mkfs.ext4"
copy_tool /sbin/blkdiscard blkdiscard-ul
copy_tool /usr/bin/fio
# zram's own tools for test_tools (Debian's zramctl and zram-generator),
# kmod, which test_tools makes /sbin/modprobe to try the modprobe.d file,
# and util-linux swapon as swapon-ul (busybox's has no -p priority).
copy_tool /usr/sbin/zramctl
copy_tool /lib/systemd/system-generators/zram-generator
copy_tool /bin/kmod
copy_tool /sbin/swapon swapon-ul
mkdir -p "$root/tests/dist"
cp "$RZ_TOP"/dist/modprobe.d/*.conf "$root/tests/dist/"
# The kernel's own zram selftests (bash scripts) for test_upstream.
copy_tool /bin/bash
ln -sf /usr/sbin/bash "$root/bin/bash"
mkdir -p "$root/selftests/zram"
cp "$("$RZ_TOP/scripts/fetch-kernel.sh")"/tools/testing/selftests/zram/*.sh "$root/selftests/zram/"

cp "$tools/memhog" "$tools/dio-check" "$root/bin/"
cp "$RZ_TOP"/tests/vm/*.sh "$RZ_TOP"/tests/bench/*.sh "$root/tests/"
cp "$RZ_TOP/tests/vm/init" "$root/init"
chmod +x "$root/init" "$root"/tests/*.sh
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$out/initramfs.cpio.gz"
rz_log "initramfs $(du -h "$out/initramfs.cpio.gz" | cut -f1) for $krel"
echo "$out/initramfs.cpio.gz"
