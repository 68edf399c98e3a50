#!/usr/bin/env bash
# Builds rzram.ko out of tree against the cached kernel build.
# Prints the path of rzram.ko on stdout.
set -euo pipefail
. "$(dirname "$0")/env.sh"
kout=$("$RZ_TOP/scripts/build-kernel.sh")
export RZ_KERNEL_SAID=$kout
rz_log "building rzram.ko against $(basename "$kout")"
if ! rz_kmake -C "$kout" M="$RZ_TOP" modules > "$RZ_TOP/.module-build.log" 2>&1; then
    cat "$RZ_TOP/.module-build.log" >&2
    rz_die "rzram.ko failed to build"
fi
grep -E -A 6 "^(warning|error)" "$RZ_TOP/.module-build.log" >&2 || true
echo "$RZ_TOP/rzram.ko"
