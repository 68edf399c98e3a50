#!/usr/bin/env bash
# Configures and builds the test kernel (bzImage + in-tree modules) into a
# cache directory keyed by kernel version, config fragments and toolchain, so a
# fresh clone reuses it and any change of input builds a new one.
# Usage: build-kernel.sh [--print]   (flavor from RZ_FLAVOR: base or debug)
# Prints the build directory on stdout; --print only computes it. For
# RZ_FLAVOR=stock (Debian's kernel) nothing is built: prepare-stock.sh
# prepares a tree for the module build instead.
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ "$RZ_FLAVOR" != stock ] || exec "$RZ_TOP/scripts/prepare-stock.sh" "$@"

flavor=$RZ_FLAVOR
frags=("$RZ_TOP/scripts/kconfig/base.config")
[ "$flavor" = base ] || frags+=("$RZ_TOP/scripts/kconfig/$flavor.config")
for f in "${frags[@]}"; do [ -f "$f" ] || rz_die "no config fragment $f"; done

ksrc=$("$RZ_TOP/scripts/fetch-kernel.sh")
kver=$(make -s -C "$ksrc" kernelversion)
key=$( { cat "${frags[@]}"; cat "$ksrc/.rzram-unpacked"; $RZ_KRUSTC --version;
         "$RZ_BINDGEN" --version 2>/dev/null; gcc --version | head -n1;
         [ "$flavor" = base ] || { echo "${RZ_KMAKE_CC[*]} $LIBCLANG_PATH"; clang-22 --version | head -n1; }; } | sha256sum | cut -c1-12)
kout=$RZ_CACHE/build/$kver-$flavor-$key
if [ "${1:-}" = --print ]; then echo "$kout"; exit 0; fi
rz_tree_or_lock "$kout" "kernel $kver ($flavor) cached in $kout"
kmake() { rz_kmake -C "$ksrc" O="$kout" "$@"; }
mkdir -p "$kout"
rz_log "configuring $kver ($flavor): tinyconfig + ${frags[*]##*/}"
kmake -s tinyconfig >/dev/null
(cd "$kout" && "$ksrc/scripts/kconfig/merge_config.sh" -m -O "$kout" "$kout/.config" "${frags[@]}" >/dev/null)
kmake -s olddefconfig >/dev/null
kmake -s rustavailable >/dev/null || rz_die "Rust toolchain rejected by the kernel (make rustavailable)"

# Every requested line must survive olddefconfig: a silently dropped
# CONFIG_RUST (or a debug option) would make every later result meaningless.
bad=0
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*) grep -qxF "$line" "$kout/.config" || { rz_log "config lost: $line"; bad=1; } ;;
        "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}
            grep -q "^$sym=" "$kout/.config" && { rz_log "config forced on: $sym"; bad=1; } ;;
    esac
done < <(cat "${frags[@]}")
[ $bad = 0 ] || rz_die "config fragment did not survive olddefconfig"

rz_log "building bzImage + modules with -j$(nproc) (about 5-8 minutes cold); log: $kout/build.log"
start=$SECONDS
rz_watch "$kout/build.log" kmake -j"$(nproc)" bzImage modules || rz_die "kernel build failed"
touch "$kout/.rzram-built"
rz_log "kernel built in $((SECONDS - start)) s"
echo "$kout"
