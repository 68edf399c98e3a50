#!/usr/bin/env bash
# The prepared tree for Debian's stock kernel: the 7.3.4 source configured
# with Debian's own .config and `make modules_prepare`d in the trixie
# environment, which builds the Rust metadata (rust/*.rmeta, the proc-macro
# libraries) that Debian's headers package lacks. Debian's Module.symvers goes
# in so modpost knows the kernel's exports. No kernel is built: the image is
# Debian's (copied in as vmlinuz). Keyed by the kernel packages, the source
# and the trixie environment; reused when unchanged.
#   prepare-stock.sh [--print]   prints the tree's directory on stdout
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ "$RZ_FLAVOR" = stock ] || rz_die "prepare-stock.sh is for RZ_FLAVOR=stock"

# The kernel source and Debian's packages download while the trixie
# environment is made (cold, each takes about a minute).
got=$(mktemp -d)
trap 'rm -rf "$got"' EXIT
{ "$RZ_TOP/scripts/fetch-kernel.sh" > "$got/src" && "$RZ_TOP/scripts/fetch-stock.sh" > "$got/stock"; } &
fetch=$!
env_root=$("$RZ_TOP/scripts/trixie.sh") || { wait $fetch; exit 1; }
wait $fetch || rz_die "fetching Debian's kernel source and packages failed"
ksrc=$(cat "$got/src") stock=$(cat "$got/stock")
kver=$(make -s -C "$ksrc" kernelversion)
key=$( { cat "$ksrc/.rzram-unpacked" "$stock/version" "$stock/config" "$stock/Module.symvers";
         echo "$env_root"; "$RZ_TOP/scripts/trixie.sh" run sh -c 'rustc --version; bindgen --version; x86_64-linux-gnu-gcc-14 --version | head -n1'; } |
       sha256sum | cut -c1-12)
kout=$RZ_CACHE/build/$kver-stock-$key
if [ "${1:-}" = --print ]; then echo "$kout"; exit 0; fi
rz_tree_or_lock "$kout" "Debian's $RZ_STOCK_KREL prepared in $kout"
kmake() { rz_kmake -C "$ksrc" O="$kout" "$@"; }
rm -rf "$kout"; mkdir -p "$kout"
cp "$stock/config" "$kout/.config"
kmake -s olddefconfig >/dev/null
# Debian's configuration must survive as it is: any change would build
# metadata for another kernel.
diff <(grep '^CONFIG_' "$stock/config") <(grep '^CONFIG_' "$kout/.config") >&2 ||
    rz_die "olddefconfig changed Debian's configuration (toolchain mismatch?)"
rz_log "modules_prepare for Debian's $RZ_STOCK_KREL with -j$(nproc) (about 3 minutes cold; log ${kout/#"$RZ_CACHE"/<cache>}/build.log)"
start=$SECONDS
rz_watch "$kout/build.log" kmake -j"$(nproc)" modules_prepare || rz_die "modules_prepare failed"
[ "$(cat "$kout/include/config/kernel.release")" = "$RZ_STOCK_KREL" ] ||
    rz_die "prepared tree is for $(cat "$kout/include/config/kernel.release"), not $RZ_STOCK_KREL"
cp "$stock/Module.symvers" "$kout/Module.symvers"
cp "$stock/vmlinuz" "$kout/vmlinuz"
# Where run-vm.sh and build-initramfs.sh find Debian's modules for the guest.
ln -sfn "$stock" "$kout/stock"
touch "$kout/.rzram-built"
rz_log "Debian's $RZ_STOCK_KREL prepared in $((SECONDS - start)) s"
echo "$kout"
