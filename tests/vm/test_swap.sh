# Swap on $DEV under memory pressure: memhog fills twice the memory the guest
# has available and verifies every page after it comes back from swap;
# reset, hot_remove and rmmod are refused while swap is on.
. /tests/lib.sh

load
dev_init $SYS 1G
swap_on
pass "$DEV swaps"
expect_err "reset while swap is on: EBUSY" "Device or resource busy" "echo 1 > $SYS/reset"
expect_err "hot_remove while swap is on: EBUSY" "Device or resource busy" "echo 0 > $CTL/hot_remove"
expect_err "rmmod while swap is on is refused" "unavailable" "rmmod $DRV"

swap_reserve
avail=$(avail_mib)
size=$((avail * 2))
# --prefix 256: the mixed pages compress about 8:1; 1/16 of the pages are
# random (huge), 1/8 zero or same-filled.
note "MemAvailable ${avail} MiB, memhog ${size} MiB"
memhog_run "memhog" "$size" --passes 2 --prefix 256 &&
    echo "$MEMHOG_OUT" | grep -E 'VmSwap|swaps:' | sed 's/^/# /'
expect_num "memhog's VmSwap peak in kB exceeds half the guest's available memory" "$MEMHOG_SWAP" -gt $((avail * 1024 / 2))
used=$(echo "$MEMHOG_OUT" | awk -v d="$DEV" '$2 == "swaps:" && $3 == d {print $6}' | sort -n | tail -n 1)
expect_num "swap used on $DEV during the run (kB)" "${used:-0}" -gt $((64 * 1024))
swap_checks "memhog"
check_sh "reset after swapoff" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
