# Swap on a device with a backing device: memhog fills twice the memory the
# guest has available and verifies every page, while a background loop
# marks every page idle and writes the idle ones back (idle all; writeback
# idle) each second. Pages then come back from memory and from the backing
# device; swap's slot-free releases backing blocks. Short variant
# (RZ_SMOKE=1): one memhog pass; long: three, two on the debug kernel
# (make stress), where a pass takes several times longer.
. /tests/lib.sh
. /tests/lib_wb.sh

load
wb_disk
if [ "$SMOKE" = 1 ]; then PASSES=1; elif debug_kernel; then PASSES=2; else PASSES=3; fi
wb_init $SYS 1G
swap_on
pass "$DEV swaps, backing device $(cat $SYS/backing_dev)"
swap_reserve

# The loop: "DONE FAILED" in /tmp/wbloop after each round (counts_ok).
rm -f /tmp/wbstop /tmp/wbloop /tmp/wberr
(
    done=0; failed=0
    while [ ! -e /tmp/wbstop ]; do
        if e=$( { echo all > $SYS/idle && echo idle > $SYS/writeback; } 2>&1); then
            done=$((done + 1))
        else
            failed=$((failed + 1)); echo "$e" >> /tmp/wberr
        fi
        echo "$done $failed" > /tmp/wbloop
        sleep 1
    done
) &
loop=$!
wait_until 60 "[ -s /tmp/wbloop ]" || fail "the idle + writeback loop made no round in 60 s"

avail=$(avail_mib)
size=$((avail * 2))
note "MemAvailable ${avail} MiB, memhog ${size} MiB, $PASSES passes"
oom_mark
memhog_run "memhog" "$size" --passes $PASSES --prefix 256 --seed 17
touch /tmp/wbstop
wait $loop
counts_ok "idle + writeback loop during memhog" /tmp/wbloop
[ ! -s /tmp/wberr ] || note "loop errors: $(sort /tmp/wberr | uniq -c | tr '\n' ' ')"
note "bd_stat $(cat $SYS/bd_stat)"
expect_num "pages were written back during the run (bd_writes)" "$(bd_col 3)" -gt 256
expect_num "pages were read back from the backing device (bd_reads)" "$(bd_col 2)" -gt 0
expect_num "memhog's VmSwap peak in kB exceeds half the guest's available memory" "$MEMHOG_SWAP" -gt $((avail * 1024 / 2))
swap_checks "memhog"
# Only the swap header (and pages whose free was missed) may still be
# stored, in memory or written back.
expect_num "swap's slot-free released the backing blocks (bd_count)" "$(bd_col 1)" -le $((1 + ${MISS_FREE:-0}))
check_sh "reset" "echo 1 > $SYS/reset"
expect_eq "reset releases the backing device" "$(cat $SYS/backing_dev)" none
check "rmmod $DRV" unload
summary
