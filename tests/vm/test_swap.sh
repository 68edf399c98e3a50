# Swap on /dev/rzram0 under memory pressure: memhog fills more memory than
# the guest has and verifies every page after it comes back from swap.
. /tests/lib.sh

check "modprobe rzram" modprobe rzram
check "set disksize 384M" sh -c "echo 384M > $SYS/disksize"
check "mkswap /dev/rzram0" mkswap /dev/rzram0
check "swapon /dev/rzram0" swapon /dev/rzram0
if grep -q '^/dev/rzram0' /proc/swaps; then pass "rzram0 listed in /proc/swaps"; else fail "rzram0 not in /proc/swaps"; fi
avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
size=$((avail * 3 / 2))
note "MemAvailable ${avail} MiB, memhog ${size} MiB"
if out=$(memhog "$size" --passes 2 --prefix 256 2>&1); then
    echo "$out" | grep -E 'VmSwap|swaps:|PASS' | sed 's/^/# /'
    echo "$out" | grep -q '^memhog: PASS' && pass "memhog verified $size MiB through swap" || fail "memhog: no PASS line"
else
    echo "$out" | tail -n 5 | sed 's/^/# /'
    fail "memhog failed"
fi
note "/proc/swaps:"; sed 's/^/#   /' /proc/swaps
note "mm_stat: $(cat $SYS/mm_stat)"
note "io_stat: $(cat $SYS/io_stat)"
swapped=$(echo "$out" | sed -n 's/.*VmSwap: *\([0-9]*\) kB.*/\1/p' | sort -n | tail -n 1)
if [ "${swapped:-0}" -gt $((64 * 1024)) ]; then pass "memhog had ${swapped} kB in swap"; else fail "memhog's VmSwap peaked at '${swapped}' kB"; fi
used=$(echo "$out" | awk '/swaps: \/dev\/rzram0/ {print $6}' | sort -n | tail -n 1)
if [ "${used:-0}" -gt $((64 * 1024)) ]; then pass "/proc/swaps showed ${used} kB used on rzram0 under pressure"; else fail "rzram0 swap use peaked at '${used}' kB"; fi
max=$(mm_stat_col 5)
if [ "$max" -gt 0 ]; then pass "mem_used_max is $max"; else fail "mem_used_max is 0"; fi
freed=$(awk '{print $4}' $SYS/io_stat)
if [ "$freed" -gt 1000 ]; then pass "swap freed $freed slots through slot_free_notify"; else fail "notify_free is $freed"; fi
expect_err "rmmod while swap is on is refused" "unavailable" "rmmod rzram"
check "swapoff /dev/rzram0" swapoff /dev/rzram0
# Only the swap header (page 0, written by mkswap) may remain.
expect_eq "after swapoff only the swap header is stored" "$(mm_stat_col 1)" 4096
check "rmmod rzram" rmmod rzram
summary
