#!/usr/bin/env bash
# Downloads Debian's stock kernel (trixie-backports) through the private apt
# configuration and unpacks it under the cache, once per package version:
# the image (linux-binary: vmlinuz), its modules (linux-modules: .ko.xz,
# depmod'ed here as the package's postinst would) and the headers package
# (.config and Module.symvers, which the prepared tree needs).
# Prints the directory on stdout: vmlinuz, lib/modules/<krel>/, config,
# Module.symvers, version (the Debian package version).
set -euo pipefail
. "$(dirname "$0")/env.sh"

krel=$RZ_STOCK_KREL
pkgs=(linux-binary-$krel linux-modules-$krel linux-headers-$krel)
# The version is the one the source tree was unpacked from: the prepared
# tree must come from the very source Debian built this image from.
ksrc=$("$RZ_TOP/scripts/fetch-kernel.sh")
srcdeb=$(basename "$(cat "$ksrc/.rzram-unpacked")")
ver=${srcdeb#linux-source-7.3_}; ver=${ver%_all.deb}
ver_dec=${ver//%3a/:}
dir=$RZ_CACHE/stock/$krel-$ver
if [ -f "$dir/.rzram-unpacked" ]; then echo "$dir"; exit 0; fi

start=$SECONDS
cd "$RZ_APT/archives" 2>/dev/null || { mkdir -p "$RZ_APT/archives"; cd "$RZ_APT/archives"; }
if ! rz_apt download "${pkgs[@]/%/=$ver_dec}" >/dev/null 2>&1; then
    rz_log "fetching the trixie-backports package list (private apt config)"
    rz_apt update >/dev/null
    rz_apt download "${pkgs[@]/%/=$ver_dec}" >/dev/null ||
        rz_die "cannot download ${pkgs[*]} $ver_dec (the version of the unpacked linux-source-7.3)"
fi
rz_log "downloaded Debian's $krel ($ver_dec): image, modules, headers; unpacking"
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/pkg"
for p in "${pkgs[@]}"; do dpkg -x "${p}_${ver}_amd64.deb" "$dir.tmp/pkg"; done
pkg=$dir.tmp/pkg
mv "$pkg/usr/lib/modules/$krel/vmlinuz" "$dir.tmp/vmlinuz" 2>/dev/null ||
    mv "$pkg/boot/vmlinuz-$krel" "$dir.tmp/vmlinuz"
mkdir -p "$dir.tmp/lib/modules"
mv "$pkg/usr/lib/modules/$krel" "$dir.tmp/lib/modules/$krel"
hdr=$pkg/usr/src/linux-headers-$krel
cp "$hdr/.config" "$dir.tmp/config"
cp "$hdr/Module.symvers" "$dir.tmp/Module.symvers"
rm -rf "$pkg"
# The package ships no modules.order or modules.builtin*: depmod notes it.
depmod -b "$dir.tmp" "$krel" 2> >(grep -v "could not open modules\." >&2)
echo "$ver_dec" > "$dir.tmp/version"
touch "$dir.tmp/.rzram-unpacked"
rm -rf "$dir"; mv "$dir.tmp" "$dir"
rz_log "Debian's $krel unpacked in $((SECONDS - start)) s: ${dir/#"$RZ_CACHE"/<cache>}"
echo "$dir"
