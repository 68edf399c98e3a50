#!/usr/bin/env bash
# The stress suite on the debug kernel (KASAN, lockdep, atomic-sleep, list
# and SLUB checks, kmemleak): every stress script in its long variant. The
# scripts spend much of their time waiting on one task (memhog, a reset,
# a modprobe cycle), so two VMs run side by side on a two-core host, each
# taking one lane of scripts; a lane's output goes to out/stress-laneN.out.
# Prints every verdict and "stress: N passed, N failed"; exit status 0 only
# if nothing failed (a splat, timeout or missing verdict counts as a failure).
#   stress.sh [NAME...]   default: the scripts in $STRESS_T
set -uo pipefail
. "$(dirname "$0")/env.sh"
export RZ_FLAVOR=debug
export RZ_VM_TIMEOUT=${RZ_VM_TIMEOUT:-3600}
# Scripts alternate between the lanes in this order, which evens them out
# (about 75 min each): the two longest (test_stress, test_swapalloc, some
# 40 min) go first, one to each lane.
[ $# -gt 0 ] || set -- ${STRESS_T:-test_stress test_swapalloc test_input test_cycles test_busy test_upstream test_limitload test_wbswap test_autowb test_nbd}

"$RZ_TOP/scripts/install-toolchain.sh" || exit 1
kout=$("$RZ_TOP/scripts/build-kernel.sh") || exit 1
export RZ_KERNEL_SAID=$kout
"$RZ_TOP/scripts/build-initramfs.sh" >/dev/null || exit 1

lanes=("" "")
i=0
for n in "$@"; do lanes[i % 2]+=" $n"; i=$((i + 1)); done
start=$SECONDS
pids=()
for l in 0 1; do
    [ -n "${lanes[l]}" ] || continue
    rz_log "lane $l:${lanes[l]} (out/stress-lane$l.out)"
    # shellcheck disable=SC2086
    "$RZ_TOP/scripts/run-vm.sh" --no-build ${lanes[l]} > "$RZ_TOP/out/stress-lane$l.out" 2>&1 &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
pass=0; fail=0
for l in 0 1; do
    f=$RZ_TOP/out/stress-lane$l.out
    [ -f "$f" ] && [ -n "${lanes[l]}" ] || continue
    grep -aE '^FAIL|VM: .* done in' "$f"
    v=$(grep -aE '^vm: [0-9]+ passed, [0-9]+ failed' "$f" | tail -n1)
    [ -n "$v" ] || { echo "FAIL lane $l: no verdict (see ${f#"$RZ_TOP"/})"; fail=$((fail + 1)); continue; }
    set -- $v
    pass=$((pass + $2)); fail=$((fail + $4))
done
rz_log "stress suite took $((SECONDS - start)) s"
echo "stress: $pass passed, $fail failed"
[ $fail = 0 ]
