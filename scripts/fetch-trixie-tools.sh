#!/usr/bin/env bash
# Downloads trixie's generation of zram's tools for test_tools: util-linux's
# zramctl (2.41: COMP-RATIO, --algorithm-params) and systemd's zram-generator
# (1.2: algorithm parameters, recompression) with the libraries they load,
# through the private apt configuration, and unpacks them under the cache.
# The guest runs them with trixie's own dynamic loader next to bookworm's
# tools. Prints the directory on stdout: bin/ (zramctl, zram-generator),
# lib/ (the loader and the libraries) and versions (one "package version"
# line each). Keyed by the package list; the versions are what the archive
# had when it was fetched, as in versions.
set -euo pipefail
. "$(dirname "$0")/env.sh"

# The tools, and the packages of the libraries their ELF NEEDED entries
# name (checked below: a library missing from these fails the fetch).
PKGS=(util-linux systemd-zram-generator libsmartcols1 libc6 libgcc-s1)
BINS=(usr/sbin/zramctl usr/lib/systemd/system-generators/zram-generator)
LIBDIR=usr/lib/x86_64-linux-gnu

key=$(printf '%s\n' "${PKGS[@]}" "${BINS[@]}" | sha256sum | cut -c1-12)
dir=$RZ_CACHE/trixie-tools-$key
if [ -f "$dir/.rzram-unpacked" ]; then echo "$dir"; exit 0; fi

start=$SECONDS
mkdir -p "$RZ_APT/archives"
dl=$RZ_APT/archives/tools-$key
rm -rf "$dl"; mkdir -p "$dl"
cd "$dl"
if ! rz_apt download "${PKGS[@]}" >/dev/null 2>&1; then
    rz_log "fetching the trixie package list (private apt config)"
    rz_apt update >/dev/null
    rz_apt download "${PKGS[@]}" >/dev/null || rz_die "cannot download ${PKGS[*]} from trixie"
fi
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/pkg" "$dir.tmp/bin" "$dir.tmp/lib"
for deb in *.deb; do
    dpkg -x "$deb" "$dir.tmp/pkg"
    dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >> "$dir.tmp/versions"
done
pkg=$dir.tmp/pkg
cp -L "$pkg/$LIBDIR/ld-linux-x86-64.so.2" "$dir.tmp/lib/"
# needed FILE: the libraries FILE names, then theirs, into lib/.
needed() {
    local lib
    for lib in $(objdump -p "$1" | awk '$1 == "NEEDED" {print $2}'); do
        [ -e "$dir.tmp/lib/$lib" ] && continue
        [ -e "$pkg/$LIBDIR/$lib" ] || rz_die "$(basename "$1") needs $lib, which none of ${PKGS[*]} has"
        cp -L "$pkg/$LIBDIR/$lib" "$dir.tmp/lib/"
        needed "$dir.tmp/lib/$lib"
    done
}
for b in "${BINS[@]}"; do
    cp -L "$pkg/$b" "$dir.tmp/bin/"
    needed "$pkg/$b"
done
rm -rf "$pkg" "$dl"
touch "$dir.tmp/.rzram-unpacked"
rm -rf "$dir"; mv "$dir.tmp" "$dir"
rz_log "trixie's zramctl and zram-generator unpacked in $((SECONDS - start)) s: $(paste -sd, "$dir/versions")"
echo "$dir"
