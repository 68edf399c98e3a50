#!/usr/bin/env bash
# Builds rzram.ko out of tree against the cached kernel build (RZ_FLAVOR:
# stock, base or debug), into out/module-<kernel key>/ (Kbuild's MO=), so
# the module of each kernel keeps its own objects and a build for one never
# leaves stale objects for another.
# Prints the path of rzram.ko on stdout.
set -euo pipefail
. "$(dirname "$0")/env.sh"
kout=$("$RZ_TOP/scripts/build-kernel.sh")
export RZ_KERNEL_SAID=$kout
mo=$RZ_TOP/out/module-$(basename "$kout")
log=$mo/build.log
mkdir -p "$mo"
rz_log "building rzram.ko against $(basename "$kout")"
start=$SECONDS
if ! rz_kmake -C "$kout" M="$RZ_TOP" MO="$mo" modules > "$log" 2>&1; then
    cat "$log" >&2
    rz_die "rzram.ko failed to build"
fi
grep -E -A 6 "^(warning|error)" "$log" >&2 || true
rz_log "rzram.ko built in $((SECONDS - start)) s: ${mo#"$RZ_TOP"/}/rzram.ko"
echo "$mo/rzram.ko"
