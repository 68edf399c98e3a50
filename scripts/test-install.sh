#!/usr/bin/env bash
# Tests `make install` / `make uninstall` as far as this machine can: the
# stock-kernel guest's root tree with rzram taken out (Debian's kernel and
# modules only), then scripts/install.sh --root into it; the result must
# boot in the stock-kernel VM, where test_swap (modprobe rzram, swap under
# memory pressure) runs from the installed module; then --uninstall must
# take it out of the tree and of modules.dep again.
# Prints "install: N passed, N failed"; exit status 0 only if none failed.
set -uo pipefail
export RZ_FLAVOR=stock
. "$(dirname "$0")/env.sh"

pass=0 fail=0
ok() { echo "PASS install: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL install: $*"; fail=$((fail + 1)); }

"$RZ_TOP/scripts/build-initramfs.sh" >/dev/null || exit 1
kout=$("$RZ_TOP/scripts/build-kernel.sh") || exit 1
export RZ_KERNEL_SAID=$kout
kkey=$(basename "$kout")
krel=$RZ_STOCK_KREL
tree=$RZ_TOP/out/install-root-$kkey
rm -rf "$tree"
cp -a "$RZ_TOP/out/initramfs-$kkey" "$tree"
rm -f "$tree/lib/modules/$krel/updates/rzram.ko"
depmod -b "$tree" "$krel" 2>/dev/null
grep -q rzram "$tree/lib/modules/$krel/modules.dep" && bad "rzram still in the tree before install" || ok "tree without rzram"

"$RZ_TOP/scripts/install.sh" --root "$tree" || bad "install.sh failed"
[ -f "$tree/lib/modules/$krel/updates/rzram.ko" ] && ok "rzram.ko in updates/" || bad "no updates/rzram.ko"
grep -q '^updates/rzram.ko:' "$tree/lib/modules/$krel/modules.dep" && ok "depmod lists updates/rzram.ko" ||
    bad "modules.dep has no updates/rzram.ko"

img=$RZ_TOP/out/initramfs-install-$kkey.cpio.gz
(cd "$tree" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$img"
if RZ_INITRD=$img RZ_SMOKE=1 "$RZ_TOP/scripts/run-vm.sh" --no-build test_swap; then
    ok "stock-kernel VM boots the tree: modprobe rzram and test_swap pass"
else
    bad "test_swap on the installed tree (log out/vm-test_swap-stock.log)"
fi

"$RZ_TOP/scripts/install.sh" --root "$tree" --uninstall || bad "install.sh --uninstall failed"
[ ! -e "$tree/lib/modules/$krel/updates/rzram.ko" ] && ok "uninstall removes rzram.ko" || bad "rzram.ko left after uninstall"
grep -q rzram "$tree/lib/modules/$krel/modules.dep" && bad "modules.dep still lists rzram" || ok "depmod after uninstall: no rzram"
echo "install: $pass passed, $fail failed"
[ $fail = 0 ]
