# Swap helpers for the VM scripts (and the benchmarks' swap phase): the
# reserve, swap on a device, one memhog run and the checks every run ends
# with. Sourced by lib.sh.

# avail_mib: MemAvailable in MiB.
avail_mib() { awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo; }

# swap_reserve: raise vm.min_free_kbytes to 16 MiB before swapping more
# than the guest's memory. With two CPUs the default for 512 MiB (about
# 2.8 MiB) is not enough: reclaim writes pages to the compressed device
# from PF_MEMALLOC context, where the pool's own page allocations may use
# the reserve, so free memory reached zero and kswapd's swap-table
# allocation failed (a warning with a call trace), with C zram exactly as
# with rzram. A larger reserve is the usual setting for compressed swap;
# every driver and every swap test gets the same one.
# The watermark boost goes to 0: after a fragmentation event it adds up to
# 16 MiB more on top of that reserve, which in test_swapalloc's 128 MiB
# guest stalled user-space page faults for 10-20 s on the debug kernel.
swap_reserve() {
    old=$(cat /proc/sys/vm/min_free_kbytes)
    [ "$old" -ge 16384 ] || echo 16384 > /proc/sys/vm/min_free_kbytes
    boost=$(cat /proc/sys/vm/watermark_boost_factor)
    echo 0 > /proc/sys/vm/watermark_boost_factor
    note "vm.min_free_kbytes $old -> $(cat /proc/sys/vm/min_free_kbytes), watermark_boost_factor $boost -> $(cat /proc/sys/vm/watermark_boost_factor)"
}

# swap_on [NODE]: mkswap and swapon on NODE (default $DEV), which must then
# be listed in /proc/swaps. Set-up: fatal if refused.
swap_on() {
    local d=${1:-$DEV} out
    out=$( { mkswap "$d" && swapon "$d"; } 2>&1) || fatal "swap on $d: $(echo "$out" | tail -n 1)"
    grep -q "^$d " /proc/swaps || fatal "$d not in /proc/swaps after swapon"
}

# slab_watch_start / slab_watch_stop: on a kernel with SLUB debugfs (the
# debug flavour), a background loop notes the largest slab cache and its
# top allocation call sites each time unreclaimable slab has grown by
# another 32 MiB, so memory pressure that ends in the OOM killer leaves the
# reason in the log.
SLAB_WATCH=
slab_watch_start() {
    [ -r /proc/slabinfo ] && [ -d /sys/kernel/debug/slab ] || return 0
    (
        next=$(($(awk '/SUnreclaim/ {print $2}' /proc/meminfo) + 32768))
        while sleep 2; do
            su=$(awk '/SUnreclaim/ {print $2}' /proc/meminfo)
            [ "$su" -gt "$next" ] || continue
            next=$((su + 32768))
            top=$(awk 'NR > 2 {print $3 * $4, $1}' /proc/slabinfo | sort -n | tail -n 1)
            note "slab watch: SUnreclaim $su kB; largest cache ${top#* } ($((${top% *} / 1024)) kB)"
            head -c 4000 "/sys/kernel/debug/slab/${top#* }/alloc_traces" 2>/dev/null | sed 's/^/# slab watch: /'
        done
    ) &
    SLAB_WATCH=$!
}
slab_watch_stop() { [ -z "$SLAB_WATCH" ] || kill "$SLAB_WATCH" 2>/dev/null; SLAB_WATCH=; }

# memhog_run TAG MIB MEMHOG-ARG...: memhog fills MIB MiB (through swap, on
# a guest with less memory) and verifies every page, with the slab watch
# on; one PASS or FAIL line from its verdict. Leaves its output in
# MEMHOG_OUT, its peak VmSwap in kB in MEMHOG_SWAP and its run time (S.CC
# seconds) in MEMHOG_SECS; returns non-zero if it failed.
memhog_run() {
    local tag=$1 mib=$2 t0 rc
    shift 2
    t0=$(uptime_cs)
    slab_watch_start
    MEMHOG_OUT=$(memhog "$mib" "$@" 2>&1); rc=$?
    slab_watch_stop
    MEMHOG_SECS=$(secs_since "$t0")
    MEMHOG_SWAP=$(echo "$MEMHOG_OUT" | sed -n 's/.*VmSwap: *\([0-9]*\) kB.*/\1/p' | sort -n | tail -n 1)
    MEMHOG_SWAP=${MEMHOG_SWAP:-0}
    if [ $rc = 0 ] && echo "$MEMHOG_OUT" | grep -q '^memhog: PASS'; then
        pass "$tag: memhog verified $mib MiB ($MEMHOG_SECS s)"
        return 0
    fi
    echo "$MEMHOG_OUT" | tail -n 5 | sed 's/^/# /'
    fail "$tag: memhog exit $rc: $(echo "$MEMHOG_OUT" | tail -n 1)"
    return 1
}

# swap_io_ok TAG: after memhog through swap on $DEV, no read failed, and
# writes failed for at most 1% of the pages swapped (notify_free). As in
# zram, a write that gets no page under GFP_NOIO fails with EIO when memory
# runs out, and swap keeps that page in memory: nothing is lost (memhog
# verifies every page), but each such write is noted. With SWAP_FAILS_WHY
# set, the reason a run's writes may fail beyond that, they are only noted.
swap_io_ok() {
    expect_eq "$1: no failed reads" "$(io_stat_col 1)" 0
    fw=$(io_stat_col 2)
    if [ -n "$SWAP_FAILS_WHY" ]; then
        skip "$1: failed writes not bounded ($fw of $(io_stat_col 4) slots freed): $SWAP_FAILS_WHY"
        return
    fi
    [ "$fw" = 0 ] || note "$1: $fw swap writes failed (no page under GFP_NOIO); the kernel kept those pages"
    expect_num "$1: failed writes at most 1% of the pages swapped" "$fw" -le $(($(io_stat_col 4) / 100))
}

# swap_checks TAG: what every memhog run through swap on $DEV must leave:
# no OOM kill since oom_mark, a high-water mark, huge pages stored, slots
# freed through swap_slot_free_notify, swap_io_ok; then swapoff, after
# which only the swap header (page 0, written by mkswap) may stay stored.
# mm_stat and io_stat go to the log.
swap_checks() {
    no_oom "$1: no OOM kill"
    expect_num "$1: mem_used_max" "$(mm_stat_col 5)" -gt 0
    expect_num "$1: huge pages were stored (huge_pages_since)" "$(mm_stat_col 9)" -gt 0
    expect_num "$1: slots freed through swap_slot_free_notify (notify_free)" "$(io_stat_col 4)" -gt 1000
    swap_io_ok "$1"
    note "$1: mm_stat $(cat $SYS/mm_stat)"
    note "$1: io_stat $(cat $SYS/io_stat)"
    check "$1: swapoff" swapoff $DEV
    # A slot-free notification that found its slot locked (debug_stat's
    # miss_free: a writeback or idle scan held it) leaves that page stored,
    # in zram as here, until the slot is written again.
    MISS_FREE=$(awk 'NR == 2 {print $2}' $SYS/debug_stat)
    note "$1: after swapoff: mm_stat $(cat $SYS/mm_stat), miss_free $MISS_FREE"
    if [ "${MISS_FREE:-0}" = 0 ]; then
        expect_eq "$1: after swapoff only the swap header is stored" "$(mm_stat_col 1)" 4096
    else
        expect_num "$1: after swapoff only the swap header and missed frees are stored" \
            "$(mm_stat_col 1)" -le $((4096 * (1 + MISS_FREE)))
    fi
}
