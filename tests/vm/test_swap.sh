# Swap on $DEV under memory pressure: memhog fills twice the memory the guest
# has available and verifies every page after it comes back from swap;
# reset, hot_remove and rmmod are refused while swap is on.
. /tests/lib.sh

check "modprobe $DRV" load
check_sh "disksize 1G" "echo 1G > $SYS/disksize"
check "mkswap $DEV" mkswap $DEV
check "swapon $DEV" swapon $DEV
if grep -q "^$DEV " /proc/swaps; then pass "$DEV listed in /proc/swaps"; else fail "$DEV not in /proc/swaps"; fi
expect_err "reset while swap is on: EBUSY" "Device or resource busy" "echo 1 > $SYS/reset"
expect_err "hot_remove while swap is on: EBUSY" "Device or resource busy" "echo 0 > $CTL/hot_remove"
expect_err "rmmod while swap is on is refused" "unavailable" "rmmod $DRV"

swap_reserve
avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
size=$((avail * 2))
# --prefix 256: the mixed pages compress about 8:1; 1/16 of the pages are
# random (huge), 1/8 zero or same-filled.
note "MemAvailable ${avail} MiB, memhog ${size} MiB"
start=$(date +%s)
slab_watch_start
out=$(memhog "$size" --passes 2 --prefix 256 2>&1); rc=$?
slab_watch_stop
if [ $rc = 0 ]; then
    echo "$out" | grep -E 'VmSwap|swaps:|PASS' | sed 's/^/# /'
    if echo "$out" | grep -q '^memhog: PASS'; then pass "memhog verified $size MiB through swap"; else fail "memhog: no PASS line"; fi
else
    echo "$out" | tail -n 5 | sed 's/^/# /'
    fail "memhog failed: $(echo "$out" | tail -n 1)"
fi
note "memhog took $(($(date +%s) - start)) s"
note "mm_stat: $(cat $SYS/mm_stat)"
note "io_stat: $(cat $SYS/io_stat)"
no_oom "no OOM kill"
swapped=$(echo "$out" | sed -n 's/.*VmSwap: *\([0-9]*\) kB.*/\1/p' | sort -n | tail -n 1)
expect_num "memhog's VmSwap peak in kB exceeds the guest's available memory" "${swapped:-0}" -gt $((avail * 1024 / 2))
used=$(echo "$out" | awk -v d="$DEV" '$2 == "swaps:" && $3 == d {print $6}' | sort -n | tail -n 1)
expect_num "swap used on $DEV during the run (kB)" "${used:-0}" -gt $((64 * 1024))
expect_num "mem_used_max" "$(mm_stat_col 5)" -gt 0
expect_num "huge pages were stored (huge_pages_since)" "$(mm_stat_col 9)" -gt 0
expect_num "slots freed through swap_slot_free_notify (notify_free)" "$(io_stat_col 4)" -gt 1000
swap_io_ok "memhog"
compr=$(mm_stat_col 2); orig=$(mm_stat_col 1)
note "after memhog: orig $orig, compr $compr"
check "swapoff $DEV" swapoff $DEV
# Only the swap header (page 0, written by mkswap) may remain.
expect_eq "after swapoff only the swap header is stored" "$(mm_stat_col 1)" 4096
check_sh "reset after swapoff" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
