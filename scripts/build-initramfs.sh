#!/usr/bin/env bash
# Packs the guest: busybox, the kernel's modules plus rzram.ko (depmod'ed so
# `modprobe rzram` works), mkfs.ext4/e2fsck with their libraries,
# util-linux blkdiscard as blkdiscard-ul (busybox's has no -z), fio, zramctl
# and zram-generator (bookworm's, and trixie's under /trixie), kmod and the
# modprobe.d file in dist/, memhog and dio-check (static), and the VM test
# scripts, nbd-client and nbdkit with its file plugin and a preload that
# locks its pages (test_nbd's remote tier). For Debian's stock kernel
# the kernel's modules are the closure of zram, ext4, lz4hc, virtio_blk
# (the guest's disk, the writeback tests' backing device), null_blk (a
# backing device that fails I/O on demand), nbd (the NBD client) and
# rzram's own dependencies,
# taken from Debian's package and decompressed (the .ko.xz would load too,
# but test data and tools expect .ko).
# The initramfs is out/initramfs-<kernel key>.cpio.gz (the key is the kernel
# build's directory name), so an image is never booted with another
# kernel's modules. Prints its path on stdout.
set -euo pipefail
. "$(dirname "$0")/env.sh"
kout=$("$RZ_TOP/scripts/build-kernel.sh")
export RZ_KERNEL_SAID=$kout
ko=$("$RZ_TOP/scripts/build-module.sh")
krel=$(cat "$kout/include/config/kernel.release")
kkey=$(basename "$kout")

# stock_modules FROM TO NAME...: the modules NAME and everything they depend
# on (Debian's modules.dep), decompressed, with Debian's modules.builtin*
# and modules.order.
stock_modules() {
    local from=$1 to=$2; shift 2
    local want=" $* " changed=1 m
    while [ $changed = 1 ]; do
        changed=0
        for m in $(awk -v want="$want" '{ f = $1; sub(/:$/, "", f); n = f; sub(/.*\//, "", n); sub(/\.ko(\.xz)?$/, "", n)
                                        gsub(/-/, "_", n); if (index(want, " " n " ")) { $1 = ""; print } }' "$from/modules.dep"); do
            m=$(basename "$m"); m=${m%.xz}; m=${m%.ko}; m=${m//-/_}
            case $want in *" $m "*) ;; *) want="$want$m "; changed=1 ;; esac
        done
    done
    awk -v want="$want" '{ f = $1; sub(/:$/, "", f); n = f; sub(/.*\//, "", n); sub(/\.ko(\.xz)?$/, "", n)
                           gsub(/-/, "_", n); if (index(want, " " n " ")) print f }' "$from/modules.dep" |
    while read -r f; do
        mkdir -p "$to/$(dirname "$f")"
        case $f in *.xz) xz -dc "$from/$f" > "$to/${f%.xz}" ;; *) cp "$from/$f" "$to/$f" ;; esac
    done
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [ ! -f "$from/$f" ] || cp "$from/$f" "$to/"
    done
}

rz_log "building memhog and dio-check (static)"
(cd "$RZ_TOP" && RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release \
    -p memhog -p dio-check --target x86_64-unknown-linux-gnu)
tools=$RZ_TOP/target/x86_64-unknown-linux-gnu/release

out=$RZ_TOP/out
root=$out/initramfs-$kkey
rm -rf "$root"; mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,lib64,usr/bin,usr/sbin,tests}
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# The kernel loads modules on its own (a filesystem at mount) through
# /sbin/modprobe. A mount without -t tries the types in /etc/filesystems,
# then the registered ones: ext4 is a module on Debian's kernel, registered
# only once something loads it (the upstream selftest mounts without -t).
ln -s ../bin/busybox "$root/sbin/modprobe"
echo ext4 > "$root/etc/filesystems"
if [ "$RZ_FLAVOR" = stock ]; then
    stock_modules "$kout/stock/lib/modules/$krel" "$root/lib/modules/$krel" zram ext4 lz4hc_compress virtio_blk null_blk nbd \
        $(modinfo -F depends "$ko" | tr , ' ')
else
    rz_kmake -s -C "$kout" INSTALL_MOD_PATH="$root" modules_install >/dev/null
fi
install -D -m 644 "$ko" "$root/lib/modules/$krel/updates/rzram.ko"
depmod -b "$root" "$krel" 2>/dev/null

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
# test_nbd: the NBD client and server (nbdkit dlopens its plugin from its
# plugin directory; the file plugin needs only libc).
copy_tool /sbin/nbd-client
copy_tool /usr/bin/nbdkit
nbdplug=/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-file-plugin.so
install -D -m 644 "$nbdplug" "$root$nbdplug"
# The NBD server's preload that locks its pages as they are touched
# (tests/vm/lockonfault.c says why).
mkdir -p "$root/usr/lib/rzram"
cc -shared -fPIC -O2 -Wall -Wextra -o "$root/usr/lib/rzram/lockonfault.so" "$RZ_TOP/tests/vm/lockonfault.c"
# trixie's generation of the same tools (zramctl 2.41, zram-generator 1.2)
# under /trixie, run by trixie's loader with its libraries through the
# wrappers zramctl-trixie and zram-generator-trixie.
trixie=$("$RZ_TOP/scripts/fetch-trixie-tools.sh")
mkdir -p "$root/trixie"
cp -r "$trixie/bin" "$trixie/lib" "$trixie/versions" "$root/trixie/"
for t in zramctl zram-generator; do
    printf '#!/bin/sh\nexec /trixie/lib/ld-linux-x86-64.so.2 --library-path /trixie/lib /trixie/bin/%s "$@"\n' \
        $t > "$root/usr/sbin/$t-trixie"
    chmod +x "$root/usr/sbin/$t-trixie"
done
mkdir -p "$root/tests/dist"
cp "$RZ_TOP"/dist/modprobe.d/*.conf "$root/tests/dist/"
# The kernel's own zram selftests (bash scripts) for test_upstream.
copy_tool /bin/bash
ln -sf /usr/sbin/bash "$root/bin/bash"
mkdir -p "$root/selftests/zram"
cp "$("$RZ_TOP/scripts/fetch-kernel.sh")"/tools/testing/selftests/zram/*.sh "$root/selftests/zram/"

cp "$tools/memhog" "$tools/dio-check" "$root/bin/"
# A zstd dictionary trained on the guest's binaries (busybox, the tools
# above, the kernel modules) in 4 KiB pieces, as pages; at most 64 KiB, so
# lz4 and lz4hc take all of it too (algorithm_params dict=, test_codec).
mkdir -p "$root/usr/share/rzram"
zstd -q -f --train -B4096 --maxdict=65536 "$root/bin/busybox" "$root"/usr/sbin/* \
    $(find "$root/lib/modules" -name '*.ko') -o "$root/usr/share/rzram/binaries.dict"
cp "$RZ_TOP"/tests/vm/*.sh "$RZ_TOP"/tests/bench/*.sh "$root/tests/"
cp "$RZ_TOP/tests/vm/init" "$root/init"
chmod +x "$root/init" "$root"/tests/*.sh
img=$out/initramfs-$kkey.cpio.gz
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$img.tmp"
mv "$img.tmp" "$img"
rz_log "initramfs $(du -h "$img" | cut -f1) for $krel: ${img#"$RZ_TOP"/}"
echo "$img"
