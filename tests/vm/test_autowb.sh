# Automatic tiering (rzram's own attributes; issue 18): writeback_auto,
# writeback_watermarks, writeback_shrinker, writeback_huge, swap_readahead.
# The contract:
# - the attributes refuse bad input (EINVAL) and the switches need a
#   backing device (ENODEV); reset turns the switches off;
# - with writeback_auto, a write that would exceed mem_limit makes room by
#   writing back the coldest pages (the LRU: pages read since are kept),
#   the pool ends under LOW % of the limit, nothing is lost; it fails
#   with EIO only once the backing device is full or writeback_limit is
#   exhausted, and never hangs;
# - the shrinker (driven through CONFIG_SHRINKER_DEBUG's scan file, and by
#   real pressure in the long variant) sheds pages below mem_limit;
# - writeback_huge sends incompressible pages straight to the backing
#   device.
# Under C zram (RZ_DRV=zram) the same over-limit write must fail: that is
# what proves the scenario really crosses mem_limit. Short variant
# (RZ_SMOKE=1): two allocators (one on the debug kernel) and no swap run;
# long: every allocator and swap under memhog with writeback_auto and the
# shrinker.
. /tests/lib.sh
. /tests/lib_wb.sh

load
wb_disk
AUTO=$SYS/writeback_auto
MARKS=$SYS/writeback_watermarks
SHR=$SYS/writeback_shrinker
HUGE=$SYS/writeback_huge
RA=$SYS/swap_readahead

# rnd_pages FILE N SEED: N pages that do not compress (each a huge page).
rnd_pages() { dd if=/dev/urandom of="$1" bs=4096 count="$2" 2>/dev/null; }
# text_pages FILE N: N pages of text that compress about 3:1 (not
# same-filled, not trivially small: numbered lines).
text_pages() {
    awk -v n="$2" 'BEGIN { for (i = 0; i < n * 110; i++) printf "line %09d of rzram auto tier %06x\n", i, i * 7919 }' |
        head -c $(($2 * 4096)) > "$1"
}
# write_at FILE PAGE: FILE onto $DEV at PAGE, O_DIRECT; prints dd's error.
write_at() { dd if="$1" of=$DEV bs=4096 seek="$2" oflag=direct conv=notrunc 2>&1 >/dev/null | grep -v records; }
mem_used() { mm_stat_col 3; }
reset_dev() { check_sh "$1: reset" "echo 1 > $SYS/reset"; }

# 1. The attributes (rzram only).
if rzram_only "attribute contract"; then
    expect_eq "attrs: writeback_auto defaults to 0" "$(cat $AUTO)" 0
    expect_eq "attrs: writeback_watermarks defaults to 90 75" "$(cat $MARKS)" "90 75"
    expect_eq "attrs: writeback_shrinker defaults to 0" "$(cat $SHR)" 0
    expect_eq "attrs: writeback_huge defaults to 0" "$(cat $HUGE)" 0
    for f in $AUTO $SHR $HUGE; do
        expect_write "attrs: ${f##*/} 1 without backing_dev" "No such device" $f 1
        expect_write "attrs: ${f##*/} 0 without backing_dev" ok $f 0
        expect_write "attrs: ${f##*/} x" "Invalid argument" $f x
    done
    for bad in "75 90" "90 90" "0 0" "101 50" "50 0" "90" "90 75 10" "x y" "-1 5"; do
        expect_write "attrs: watermarks '$bad'" "Invalid argument" $MARKS "$bad"
    done
    expect_eq "attrs: a refused write leaves the watermarks" "$(cat $MARKS)" "90 75"
    expect_write "attrs: watermarks 80 50" ok $MARKS "80 50"
    expect_eq "attrs: watermarks read back" "$(cat $MARKS)" "80 50"
    check_sh "attrs: backing_dev" "echo $BDEV > $SYS/backing_dev"
    for f in $AUTO $SHR $HUGE; do
        expect_write "attrs: ${f##*/} 1 with backing_dev (before disksize)" ok $f 1
        expect_eq "attrs: ${f##*/} reads 1" "$(cat $f)" 1
    done
    expect_eq "attrs: swap_readahead defaults to 0" "$(cat $RA)" 0
    expect_write "attrs: swap_readahead x" "Invalid argument" $RA x
    expect_write "attrs: swap_readahead 1 (before disksize)" ok $RA 1
    expect_eq "attrs: swap_readahead reads 1" "$(cat $RA)" 1
    dev_init $SYS 16M
    expect_write "attrs: swap_readahead 0 after disksize" "Device or resource busy" $RA 0
    expect_eq "attrs: a refused swap_readahead stays 1" "$(cat $RA)" 1
    reset_dev "attrs"
    expect_eq "attrs: reset turns writeback_auto, _shrinker, _huge off" "$(cat $AUTO) $(cat $SHR) $(cat $HUGE)" "0 0 0"
    expect_eq "attrs: reset turns swap_readahead off" "$(cat $RA)" 0
    expect_eq "attrs: reset keeps the watermarks" "$(cat $MARKS)" "80 50"
    expect_write "attrs: watermarks back to 90 75" ok $MARKS "90 75"
fi

# Smoke: two allocators (one on the debug kernel, whose smoke runs every
# path once under its detectors); long: every allocator.
if [ "$SMOKE" = 1 ]; then
    cases -r lz4 lzo; set -- $CASES
    if debug_kernel; then CASES=$1; else CASES="$1 $2"; fi
else
    cases -r lz4 lzo zstd
fi

# 2. A write over mem_limit. rzram with writeback_auto: no failed write,
# the pool ends under LOW, every page reads back. C zram (and rzram with
# writeback_auto off): the write fails.
LIMIT_MB=2
for c in $CASES; do
    text_pages /tmp/t16 4096
    wb_init $SYS 64M "$c"
    check_sh "$c: mem_limit ${LIMIT_MB}M" "echo ${LIMIT_MB}M > $SYS/mem_limit"
    if is_rzram; then
        expect_write "$c: writeback_auto 1" ok $AUTO 1
        err=$(timeout 120 dd if=/tmp/t16 of=$DEV bs=64k oflag=direct 2>&1 >/dev/null | grep -v records)
        expect_eq "$c: 16 MiB of text (~5 MiB compressed) through a ${LIMIT_MB} MiB limit: no write error" "$err" ""
        expect_eq "$c: failed_writes" "$(io_stat_col 2)" 0
        expect_num "$c: pages were written back (bd_count)" "$(bd_col 1)" -gt 0
        # A pass ends under LOW; writes after it may refill up to HIGH.
        high=$((LIMIT_MB * 1048576 * 90 / 100))
        wait_until 30 "[ \$(mem_used) -le $high ]"
        expect_num "$c: the pool ends under HIGH (90 % of mem_limit)" "$(mem_used)" -le $high
        drop_caches
        expect_eq "$c: every page reads back" "$(md5_dev $DEV 0 4096)" "$(md5_file /tmp/t16 0 4096)"
        expect_num "$c: reading written-back pages counts bd_reads" "$(bd_col 2)" -gt 0
        note "$c: mm_stat $(cat $SYS/mm_stat); bd_stat $(cat $SYS/bd_stat)"
        reset_dev "$c"
        # The same with writeback_auto off: zram's behaviour.
        wb_init $SYS 64M "$c"
        check_sh "$c: mem_limit ${LIMIT_MB}M (auto off)" "echo ${LIMIT_MB}M > $SYS/mem_limit"
    fi
    err=$(timeout 120 dd if=/tmp/t16 of=$DEV bs=64k oflag=direct 2>&1 >/dev/null | grep -v records)
    if [ -n "$err" ]; then pass "$c: without automatic writeback the write fails ($err)"; else fail "$c: the write over mem_limit succeeded without automatic writeback"; fi
    expect_num "$c: failed_writes counts it" "$(io_stat_col 2)" -gt 0
    expect_eq "$c: nothing was written back" "$(bd_col 1)" 0
    reset_dev "$c"
done

rzram_only "LRU order, shrinker, writeback_huge, full backing device" || { check "rmmod $DRV" unload; summary; exit 0; }

# 3. Cold first: A (pages 0..255) and B (256..511) are written, A is read
# again; the limit is then set at what they take and 64 more pages come.
# The worker writes back down to LOW: from B, the colder, not from A.
for c in $CASES; do
    rnd_pages /tmp/a 256; rnd_pages /tmp/b 256; rnd_pages /tmp/c 64
    wb_init $SYS 64M "$c"
    expect_eq "$c: LRU: write A" "$(write_at /tmp/a 0)" ""
    expect_eq "$c: LRU: write B" "$(write_at /tmp/b 256)" ""
    expect_eq "$c: LRU: read A again" "$(md5_dev $DEV 0 256)" "$(md5_file /tmp/a 0 256)"
    used=$(mem_used)
    check_sh "$c: LRU: mem_limit = what A and B take ($used)" "echo $used > $SYS/mem_limit"
    expect_write "$c: LRU: writeback_auto 1" ok $AUTO 1
    expect_eq "$c: LRU: write C over the limit" "$(write_at /tmp/c 512)" ""
    wait_until 30 "[ \$(mem_used) -le $((used * 75 / 100)) ]"
    wa=$(bs_count w 0 255); wb=$(bs_count w 256 511)
    note "$c: LRU: written back from A $wa, from B $wb; mm_stat $(cat $SYS/mm_stat)"
    expect_eq "$c: LRU: no page of A (read recently) was written back" "$wa" 0
    expect_num "$c: LRU: pages of B (cold) were written back" "$wb" -ge 64
    expect_eq "$c: LRU: A reads back" "$(md5_dev $DEV 0 256)" "$(md5_file /tmp/a 0 256)"
    expect_eq "$c: LRU: B reads back" "$(md5_dev $DEV 256 256)" "$(md5_file /tmp/b 0 256)"
    expect_eq "$c: LRU: C reads back" "$(md5_dev $DEV 512 64)" "$(md5_file /tmp/c 0 64)"
    reset_dev "$c"
done

# 4. The shrinker, driven through its debugfs scan file.
SHRDIR=/sys/kernel/debug/shrinker
set -- $CASES
c=$1
text_pages /tmp/t4 1024
wb_init $SYS 64M "$c"
expect_eq "shrinker: write 4 MiB" "$(write_at /tmp/t4 0)" ""
sdir=$(ls -d $SHRDIR/${DEVNAME}0-* 2>/dev/null | head -n 1)
if [ ! -d $SHRDIR ]; then
    skip "shrinker: the kernel has no CONFIG_SHRINKER_DEBUG (Debian's): its scan file is how this case drives it"
elif [ -z "$sdir" ]; then
    fail "shrinker: no $SHRDIR/${DEVNAME}0-* (CONFIG_SHRINKER_DEBUG)"
else
    pass "shrinker: registered as ${sdir##*/}"
    cnt() { awk '{n += $2} END {print n + 0}' $sdir/count; }
    expect_eq "shrinker: off: count is 0" "$(cnt)" 0
    echo "0 0 256" > $sdir/scan 2>/dev/null
    sleep 1
    expect_eq "shrinker: off: a scan writes nothing back" "$(bd_col 1)" 0
    expect_write "shrinker: writeback_shrinker 1" ok $SHR 1
    expect_num "shrinker: on: count is the pages in memory" "$(cnt)" -ge 1000
    echo "0 0 256" > $sdir/scan 2>/dev/null
    wait_until 20 "[ \$(bd_col 1) -ge 256 ]"
    expect_num "shrinker: a scan of 256 writes back 256 or more pages" "$(bd_col 1)" -ge 256
    expect_num "shrinker: ... and not everything" "$(bd_col 1)" -lt 1024
    expect_eq "shrinker: all pages read back" "$(md5_dev $DEV 0 1024)" "$(md5_file /tmp/t4 0 1024)"
fi
reset_dev "shrinker"

# 5. writeback_huge: the incompressible pages of the mix go straight to
# the backing device and take no pool memory.
wb_mix
wb_init $SYS 4M "$c"
expect_write "huge: writeback_huge 1" ok $HUGE 1
wb_write "huge"
nh=$((WB_HUGE_HI - WB_HUGE_LO + 1))
expect_eq "huge: every random page is on the backing device" "$(bs_count w $WB_HUGE_LO $WB_HUGE_HI)" $nh
expect_eq "huge: every page written back is a huge one (w and h)" "$(bs_match '^.wh')" "$(bs_count w)"
expect_eq "huge: bd_count = bd_writes = the pages marked w" "$(bd_col 1) $(bd_col 3)" "$(bs_count w) $(bs_count w)"
expect_eq "huge: no huge page in memory (huge_pages)" "$(mm_stat_col 8)" 0
expect_num "huge: counted in huge_pages_since" "$(mm_stat_col 9)" -ge $nh
wb_verify "huge"
check_sh "huge: discard the random part" "blkdiscard -o $((WB_HUGE_LO * 4096)) -l $((nh * 4096)) $DEV"
expect_eq "huge: discard gives their blocks back" "$(bd_col 1)" $(($(bd_col 3) - nh))
reset_dev "huge"

# 6. A full backing device (null_blk of 1 MiB: 256 blocks) and an
# exhausted writeback_limit: the write fails with EIO, in bounded time.
nullb_make auto 1
wb_init_on() { e=$(set_attr $SYS/backing_dev $1) || fatal "$e"; dev_init $SYS 64M "$c"; }
rnd_pages /tmp/r8 2048
for how in full limit; do
    wb_init_on $NULLB
    check_sh "$how: mem_limit 1M" "echo 1M > $SYS/mem_limit"
    if [ $how = limit ]; then
        check_sh "$how: writeback_limit 16" "echo 1 > $SYS/writeback_limit_enable && echo 16 > $SYS/writeback_limit"
    fi
    expect_write "$how: writeback_auto 1" ok $AUTO 1
    t0=$(uptime_cs)
    err=$(timeout 300 dd if=/tmp/r8 of=$DEV bs=64k oflag=direct 2>&1 >/dev/null | grep -v records)
    note "$how: dd took $(secs_since $t0) s: $err"
    if echo "$err" | grep -qi "Input/output error"; then pass "$how: the write fails with EIO"; else fail "$how: expected EIO, got '$err'"; fi
    if [ $how = full ]; then
        expect_eq "$how: every block of the backing device is used" "$(bd_col 1)" 256
    else
        expect_eq "$how: exactly the limit was written back" "$(bd_col 3)" 16
        expect_eq "$how: writeback_limit is exhausted" "$(cat $SYS/writeback_limit)" 0
    fi
    reset_dev "$how"
done
# writeback_limit and its switch outlive reset (as zram's): off again.
check_sh "limit: writeback_limit_enable 0" "echo 0 > $SYS/writeback_limit_enable"
nullb_remove auto

# 7. Long variant: swap with writeback_auto and the shrinker under memhog.
if [ "$SMOKE" != 1 ]; then
    if debug_kernel; then PASSES=1; else PASSES=2; fi
    wb_init $SYS 1G "$c"
    avail=$(avail_mib)
    check_sh "swap: mem_limit $((avail / 4))M" "echo $((avail / 4))M > $SYS/mem_limit"
    expect_write "swap: writeback_auto 1" ok $AUTO 1
    expect_write "swap: writeback_shrinker 1" ok $SHR 1
    swap_reserve
    swap_on
    # Progress in the log every 20 s (a slow run is then told from a stuck one).
    ( while :; do sleep 20; echo "# $(cut -d' ' -f1 /proc/uptime) s: mm_stat $(cat $SYS/mm_stat); bd_stat $(cat $SYS/bd_stat)"; done ) &
    mon=$!
    oom_mark
    memhog_run "swap" $((avail * ${AUTO_SWAP_X:-2})) --passes $PASSES --seed 23
    kill $mon
    expect_eq "swap: no failed write" "$(io_stat_col 2)" 0
    expect_num "swap: pages went to the backing device (bd_writes)" "$(bd_col 3)" -gt 256
    note "swap: bd_stat $(cat $SYS/bd_stat)"
    swap_checks "swap"
    reset_dev "swap"
fi
check "rmmod $DRV" unload
summary
