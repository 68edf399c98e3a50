#!/usr/bin/env bash
# Downloads Debian's linux-source-7.3 (trixie-backports) with a private apt
# configuration, so the system's apt sources are never touched, and unpacks it
# under the cache. Prints the source directory on stdout.
set -euo pipefail
. "$(dirname "$0")/env.sh"

mkdir -p "$RZ_SRCDIR"

# A source tree that is already unpacked is reused without asking the network.
have=$(ls -d "$RZ_SRCDIR"/linux-source-7.3*/ 2>/dev/null | sort -V | tail -n1 || true)
if [ -n "$have" ] && [ -f "$have/.rzram-unpacked" ]; then
    echo "${have%/}"; exit 0
fi
rz_log "fetching linux-source-7.3 package list (private apt config)"
rz_apt update >/dev/null
cd "$RZ_APT/archives"
rm -f linux-source-7.3_*.deb
rz_apt download linux-source-7.3 >/dev/null
deb=$(ls linux-source-7.3_*.deb | head -n1)
rz_log "downloaded $deb; unpacking (about 20 s)"
rm -rf "$RZ_APT/pkg"; dpkg -x "$deb" "$RZ_APT/pkg"
tarball=$(ls "$RZ_APT"/pkg/usr/src/linux-source-7.3*.tar.xz | head -n1)
name=$(basename "$tarball" .tar.xz)
rm -rf "${RZ_SRCDIR:?}/$name"
tar -C "$RZ_SRCDIR" -xf "$tarball"
echo "$deb" > "$RZ_SRCDIR/$name/.rzram-unpacked"
rm -rf "$RZ_APT/pkg"
echo "$RZ_SRCDIR/$name"
