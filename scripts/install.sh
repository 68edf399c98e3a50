#!/usr/bin/env bash
# `make install` / `make uninstall`: rzram.ko for Debian's stock kernel, in
# /lib/modules/<krel>/updates/, depmod'ed, so `modprobe rzram` works (also
# after a reboot into that kernel).
#
#   install.sh [--root DIR] [--uninstall]
#
# Installs for $RZ_STOCK_KREL (env.sh; the running kernel must be it unless
# --root names another root tree, which is how it is tested: the stock-kernel
# VM boots such a tree). The first run prepares the Rust metadata for that
# kernel (scripts/prepare-stock.sh, cached), later runs only rebuild the
# module. Signing: with RZ_SIGN_KEY and RZ_SIGN_CERT (PEM key, DER or PEM
# certificate) the module is signed with them; otherwise with DKMS's MOK
# (/var/lib/dkms/mok.key, mok.pub) if this machine has one; otherwise it
# stays unsigned: it loads with taint "E" where Secure Boot is off, and is
# refused where Secure Boot enforces lockdown.
# ZRAM_ALIAS=1 also installs dist/modprobe.d/rzram-as-zram.conf in
# /etc/modprobe.d/ (`modprobe zram` then loads rzram zram_names=1, see the
# README's "Switching from zram"); --uninstall removes it whenever present.
set -euo pipefail
export RZ_FLAVOR=stock
. "$(dirname "$0")/env.sh"

root=/ uninstall=0
while [ $# -gt 0 ]; do
    case $1 in
        --root) root=$2; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        *) rz_die "usage: install.sh [--root DIR] [--uninstall]" ;;
    esac
done
krel=$RZ_STOCK_KREL
if [ "$root" = / ] && [ "$(uname -r)" != "$krel" ]; then
    rz_die "the running kernel is $(uname -r); rzram installs for Debian's $krel (trixie-backports linux-image-$krel), or into a root tree with --root"
fi
[ "$(id -u)" = 0 ] || rz_die "run as root (it writes /lib/modules and runs depmod)"
moddir=${root%/}/lib/modules/$krel
dest=$moddir/updates/rzram.ko
alias_conf=${root%/}/etc/modprobe.d/rzram-as-zram.conf

if [ $uninstall = 1 ]; then
    if [ -f "$dest" ]; then rm -f "$dest"; rz_log "removed $dest"; else rz_log "rzram is not installed for $krel"; fi
    if [ -f "$alias_conf" ]; then rm -f "$alias_conf"; rz_log "removed $alias_conf: modprobe zram loads C zram again"; fi
    depmod -b "$root" "$krel" 2> >(grep -v "could not open modules\." >&2)
    exit 0
fi

[ -d "$moddir/kernel" ] || rz_die "no $moddir/kernel: install linux-image-$krel first"
"$RZ_TOP/scripts/install-toolchain.sh" --build-only
kout=$("$RZ_TOP/scripts/build-kernel.sh")
export RZ_KERNEL_SAID=$kout
ko=$("$RZ_TOP/scripts/build-module.sh")
magic=$(modinfo -F vermagic "$ko")
case $magic in "$krel "*) ;; *) rz_die "rzram.ko has vermagic '$magic', not for $krel" ;; esac

key=${RZ_SIGN_KEY:-} cert=${RZ_SIGN_CERT:-}
if [ -z "$key" ] && [ -f /var/lib/dkms/mok.key ] && [ -f /var/lib/dkms/mok.pub ]; then
    key=/var/lib/dkms/mok.key cert=/var/lib/dkms/mok.pub
fi
staged=$RZ_TOP/out/module-$(basename "$kout")/install/rzram.ko
mkdir -p "$(dirname "$staged")"
cp "$ko" "$staged"
if [ -n "$key" ]; then
    [ -f "$key" ] && [ -f "$cert" ] || rz_die "signing key or certificate missing: '$key' '$cert'"
    # sign-file comes from the prepared tree (built for the trixie
    # environment), and runs there; the key is copied next to the module
    # because only the checkout and the cache are visible inside.
    tmp=$(mktemp -d "$RZ_TOP/out/sign.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    install -m 600 "$key" "$tmp/key"; install -m 600 "$cert" "$tmp/cert"
    "$RZ_TOP/scripts/trixie.sh" run "$kout/scripts/sign-file" sha256 "$tmp/key" "$tmp/cert" "$staged"
    rz_log "signed with $cert: $(modinfo -F signer "$staged")"
else
    rz_log "not signed (no RZ_SIGN_KEY/RZ_SIGN_CERT, no DKMS MOK): loads with taint E unless Secure Boot enforces signatures"
fi
install -D -m 644 "$staged" "$dest"
if [ "${ZRAM_ALIAS:-0}" = 1 ]; then
    install -D -m 644 "$RZ_TOP/dist/modprobe.d/rzram-as-zram.conf" "$alias_conf"
    rz_log "installed $alias_conf: modprobe zram loads rzram zram_names=1"
fi
depmod -b "$root" "$krel" 2> >(grep -v "could not open modules\." >&2)
rz_log "installed $dest; depmod done: modprobe rzram"
