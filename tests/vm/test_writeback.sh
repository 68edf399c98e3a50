# Writeback to a backing device (the guest's virtio disk), zram 7.3's
# contract: for each allocator (one pass under C zram) a mix of text,
# random, same-filled and binary pages is marked idle, written back, read
# back with O_DIRECT and buffered after dropping caches; bd_stat and mm_stat
# follow; overwrite and discard release backing blocks; page_index and
# page_indexes, huge and huge_idle (type= form), compressed_writeback; reset
# frees the backing device. Then, on the default setup: writeback_limit,
# idle by age, writeback_batch_size, exclusive use of the backing device.
. /tests/lib.sh
. /tests/lib_wb.sh

load
wb_disk
wb_mix
NONSAME=$((WB_PAGES - WB_SAME))
KB=4096

# round1 CASE: plain writeback and everything that follows it.
round1() {
    local t=$1 m0 o0
    wb_init $SYS 4M "$t"
    expect_eq "$t: backing_dev names the disk" "$(cat $SYS/backing_dev)" $BDEV
    expect_eq "$t: bd_stat starts at 0 0 0" "$(bd_col 1) $(bd_col 2) $(bd_col 3)" "0 0 0"
    cp /tmp/wbmix /tmp/wbwant
    wb_write "$t"
    m0=$(mm_stat_col 3); o0=$(mm_stat_col 1)
    expect_num "$t: the random pages are huge" "$(mm_stat_col 8)" -ge 64
    expect_eq "$t: no page idle before marking" "$(bs_count i)" 0
    expect_write "$t: idle all" ok $SYS/idle all
    expect_eq "$t: idle all marks every page but the same-filled" "$(bs_count i)" $NONSAME
    expect_eq "$t: same-filled pages are never idle" "$(bs_count i 128 191)" 0
    expect_write "$t: writeback idle" ok $SYS/writeback idle
    expect_eq "$t: bd_count = the idle pages" "$(bd_col 1)" $NONSAME
    expect_eq "$t: bd_writes = the idle pages" "$(bd_col 3)" $NONSAME
    expect_eq "$t: block_state marks them w" "$(bs_count w)" $NONSAME
    expect_eq "$t: no page idle after writeback" "$(bs_count i)" 0
    expect_eq "$t: same-filled pages are not written back" "$(bs_count w 128 191)" 0
    expect_eq "$t: written-back huge pages keep h (7.3 keeps ZRAM_HUGE)" "$(bs_count h $WB_HUGE_LO $WB_HUGE_HI)" 64
    expect_eq "$t: compr_data_size falls to 0" "$(mm_stat_col 2)" 0
    expect_eq "$t: huge_pages falls to 0" "$(mm_stat_col 8)" 0
    expect_num "$t: mem_used_total falls" "$(mm_stat_col 3)" -lt "$m0"
    expect_eq "$t: orig_data_size still counts written-back pages" "$(mm_stat_col 1)" "$o0"
    expect_eq "$t: same_pages unchanged" "$(mm_stat_col 6)" $WB_SAME
    expect_eq "$t: O_DIRECT read back matches" "$(md5_dev $DEV 0 $WB_PAGES)" "$(md5_file /tmp/wbwant 0 $WB_PAGES)"
    expect_eq "$t: bd_reads = one read per written-back page" "$(bd_col 2)" $NONSAME
    wb_verify "$t"
    expect_eq "$t: reads leave the pages on the backing device" "$(bd_col 1)" $NONSAME
    expect_write "$t: idle all again" ok $SYS/idle all
    expect_eq "$t: written-back pages are never idle" "$(bs_count i)" 0
    expect_write "$t: writeback idle with nothing idle" ok $SYS/writeback idle
    expect_eq "$t: ... writes nothing" "$(bd_col 3)" $NONSAME

    # Overwrite pages 0..15 (text, written back) with random data.
    dd if=/dev/urandom of=/tmp/patch bs=4096 count=16 2>/dev/null
    check "$t: overwrite 16 written-back pages" dd if=/tmp/patch of=$DEV bs=4096 seek=0 oflag=direct conv=notrunc
    dd if=/tmp/patch of=/tmp/wbwant bs=4096 seek=0 conv=notrunc 2>/dev/null
    expect_eq "$t: overwrite releases their blocks (bd_count)" "$(bd_col 1)" $((NONSAME - 16))
    expect_eq "$t: overwritten pages are in memory (no w)" "$(bs_count w 0 15)" 0
    # Discard pages 64..79 (random, written back).
    check "$t: discard 16 written-back pages" blkdiscard-ul -o $((64 * KB)) -l $((16 * KB)) $DEV
    dd if=/dev/zero of=/tmp/wbwant bs=4096 seek=64 count=16 conv=notrunc 2>/dev/null
    expect_eq "$t: discard releases their blocks (bd_count)" "$(bd_col 1)" $((NONSAME - 32))
    expect_eq "$t: discarded pages hold nothing" "$(bs_count . 64 79)" 0
    expect_eq "$t: orig_data_size falls by the discarded pages" "$(mm_stat_col 1)" $((o0 - 16 * KB))
    wb_verify "$t: after overwrite and discard"

    # page_index and page_indexes: pages 0..15 are in memory now.
    local c=$((NONSAME - 32))
    expect_write "$t: writeback page_index=0" ok $SYS/writeback page_index=0
    expect_eq "$t: page 0 is written back" "$(bd_col 1) $(bs_flags 0 | cut -c2)" "$((c + 1)) w"
    expect_write "$t: writeback page_indexes=1-7" ok $SYS/writeback page_indexes=1-7
    expect_eq "$t: pages 1..7 are written back" "$(bd_col 1) $(bs_count w 0 7)" "$((c + 8)) 8"
    expect_write "$t: writeback page_index=8 page_index=9 page_indexes=10-11" ok $SYS/writeback "page_index=8 page_index=9 page_indexes=10-11"
    expect_eq "$t: pages 8..11 are written back, 12..15 not" "$(bd_col 1) $(bs_count w 0 15)" "$((c + 12)) 12"
    expect_write "$t: writeback page_index of a same-filled page" ok $SYS/writeback page_index=130
    expect_eq "$t: ... writes nothing, the page stays same-filled" "$(bd_col 1) $(bs_flags 130)" "$((c + 12)) s....."
    expect_write "$t: writeback page_index of a written-back page" ok $SYS/writeback page_index=20
    expect_eq "$t: ... writes nothing" "$(bd_col 1)" $((c + 12))
    # Pages 12..15 are random (huge) and in memory.
    expect_eq "$t: huge_pages counts the 4 huge pages in memory" "$(mm_stat_col 8)" 4
    expect_write "$t: writeback huge" ok $SYS/writeback huge
    expect_eq "$t: huge writes exactly those 4" "$(bd_col 1) $(bs_count w 12 15) $(mm_stat_col 8)" "$((c + 16)) 4 0"
    expect_write "$t: writeback incompressible with no page marked n" ok $SYS/writeback incompressible
    expect_eq "$t: ... writes nothing" "$(bd_col 1)" $((c + 16))
    wb_verify "$t: after page_index and huge"
    expect_eq "$t: no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
    if [ "${t%/*}" != default ]; then
        expect_num "$t: debugfs classes names the allocator" "$(grep -c "${t%/*}" $DBG/${DEVNAME}0/classes 2>/dev/null)" -ge 1
    fi
    check_sh "$t: reset" "echo 1 > $SYS/reset"
    expect_eq "$t: reset releases the backing device" "$(cat $SYS/backing_dev)" none
    expect_eq "$t: bd_stat is 0 0 0 after reset" "$(bd_col 1) $(bd_col 2) $(bd_col 3)" "0 0 0"
}

# round2 CASE: compressed_writeback, huge_idle and the type= form.
round2() {
    local t="$1 compressed" hi
    expect_write "$t: compressed_writeback yes" ok $SYS/compressed_writeback yes
    expect_eq "$t: compressed_writeback reads 1" "$(cat $SYS/compressed_writeback)" 1
    wb_init $SYS 4M "$1"
    cp /tmp/wbmix /tmp/wbwant
    wb_write "$t"
    expect_write "$t: idle all" ok $SYS/idle all
    # Rewriting pages 64..71 (huge) makes them not idle.
    dd if=/dev/urandom of=/tmp/patch bs=4096 count=8 2>/dev/null
    check "$t: rewrite 8 huge pages" dd if=/tmp/patch of=$DEV bs=4096 seek=64 oflag=direct conv=notrunc
    dd if=/tmp/patch of=/tmp/wbwant bs=4096 seek=64 conv=notrunc 2>/dev/null
    expect_eq "$t: rewritten pages lost idle" "$(bs_count i 64 71)" 0
    # The idle huge pages: 72..127 and any binary page that did not
    # compress.
    hi=$(bs_match '^..hi')
    expect_num "$t: idle huge pages before writeback" "$hi" -ge 56
    expect_write "$t: writeback type=huge_idle" ok $SYS/writeback type=huge_idle
    expect_eq "$t: huge_idle writes the idle huge pages" "$(bd_col 1) $(bs_count w 72 127) $(bs_count w 64 71) $(bs_match '^..hi')" "$hi 56 0 0"
    expect_write "$t: writeback type=idle" ok $SYS/writeback type=idle
    expect_eq "$t: idle writes the idle text and binary pages" "$(bd_col 1) $(bs_count w 0 63) $(bs_count w 192 255)" "184 64 64"
    expect_eq "$t: compr_data_size counts only the 8 pages in memory" "$(mm_stat_col 2)" $((8 * KB))
    expect_eq "$t: O_DIRECT read back matches" "$(md5_dev $DEV 0 $WB_PAGES)" "$(md5_file /tmp/wbwant 0 $WB_PAGES)"
    expect_eq "$t: bd_reads = one per written-back page" "$(bd_col 2)" 184
    wb_verify "$t"
    check_sh "$t: reset" "echo 1 > $SYS/reset"
    # 7.3's reset leaves compressed_wb, wb_limit_enable, bd_wb_limit and
    # wb_batch_size as they were (zram_reset_device clears stats only).
    expect_eq "$t: compressed_writeback survives reset (as 7.3)" "$(cat $SYS/compressed_writeback)" 1
    expect_write "$t: compressed_writeback 0" ok $SYS/compressed_writeback 0
}

if is_rzram; then cases -r lz4 zstd; else cases -r $DEF_CODEC; fi
# The debug kernel's smoke run takes the first (the default allocator): a
# case costs some 30 s there, and the writeback paths are the same for every
# allocator (its read and free of an object, which test_cycles runs there
# for each allocator); test_recomp covers compressed writeback with zstd.
if [ "$SMOKE" = 1 ] && debug_kernel; then set -- $CASES; CASES=" $1"; fi
note "cases:$CASES"
for c in $CASES; do
    round1 "$c"
    round2 "$c"
done

note "--- writeback_limit"
wb_init $SYS 4M
cp /tmp/wbmix /tmp/wbwant
wb_write limit
expect_write "limit: idle all" ok $SYS/idle all
expect_write "limit: writeback_limit_enable 1" ok $SYS/writeback_limit_enable 1
expect_write "limit: writeback_limit 0" ok $SYS/writeback_limit 0
expect_write "limit: writeback idle with limit 0 is refused" "Input/output error" $SYS/writeback idle
expect_eq "limit: ... and writes nothing" "$(bd_col 1) $(bd_col 3)" "0 0"
expect_write "limit: writeback_limit 10" ok $SYS/writeback_limit 10
expect_write "limit: writeback idle stops at the limit" "Input/output error" $SYS/writeback idle
expect_eq "limit: exactly 10 pages written" "$(bd_col 1) $(bd_col 3)" "10 10"
expect_eq "limit: the limit counted down to 0" "$(cat $SYS/writeback_limit)" 0
expect_write "limit: writeback_limit 1000" ok $SYS/writeback_limit 1000
expect_write "limit: writeback idle within the limit" ok $SYS/writeback idle
expect_eq "limit: every idle page written" "$(bd_col 1)" $NONSAME
expect_eq "limit: the limit counted down by the pages written" "$(cat $SYS/writeback_limit)" $((1000 - NONSAME + 10))
wb_verify "limit"
check_sh "limit: reset" "echo 1 > $SYS/reset"
expect_eq "limit: writeback_limit_enable and writeback_limit survive reset (as 7.3)" \
    "$(cat $SYS/writeback_limit_enable) $(cat $SYS/writeback_limit)" "1 $((1000 - NONSAME + 10))"
wb_init $SYS 4M
wb_write "limit disabled"
expect_write "limit: writeback_limit 0" ok $SYS/writeback_limit 0
expect_write "limit: writeback_limit_enable 0" ok $SYS/writeback_limit_enable 0
expect_write "limit: writeback page_indexes=0-9 with the limit disabled" ok $SYS/writeback page_indexes=0-9
expect_eq "limit: disabled, writeback_limit 0 does not stop it" "$(bd_col 1)" 10
check_sh "limit: reset" "echo 1 > $SYS/reset"

note "--- idle by age"
wb_init $SYS 4M
yes "idle by age" | head -c $((64 * KB)) > /tmp/age
check "age: write 64 text pages" dd if=/tmp/age of=$DEV bs=64k oflag=direct
# Access times are in whole seconds since boot; 4 s apart, an age of 2 s
# separates the two groups whatever the rounding.
sleep 4
check "age: read pages 0..15 (access)" dd if=$DEV of=/dev/null bs=4096 count=16 iflag=direct
expect_write "age: idle all" ok $SYS/idle all
expect_write "age: idle 2" ok $SYS/idle 2
expect_eq "age: pages accessed within 2 s are not idle (idle N clears them)" "$(bs_count i 0 15)" 0
expect_eq "age: older pages are idle" "$(bs_count i 16 63)" 48
expect_write "age: writeback idle" ok $SYS/writeback idle
expect_eq "age: only the old pages are written back" "$(bd_col 1) $(bs_count w 16 63) $(bs_count w 0 15)" "48 48 0"
expect_write "age: idle all" ok $SYS/idle all
expect_eq "age: idle all marks the 16 pages in memory" "$(bs_count i)" 16
# 7.3 returns at once when the age is not below the uptime.
expect_write "age: idle with an age past the uptime" ok $SYS/idle 4000000000
expect_eq "age: ... changes no mark" "$(bs_count i)" 16
expect_eq "age: data reads back" "$(md5_dev $DEV 0 64)" "$(md5_file /tmp/age 0 64)"
# The access time column is the boot time of the last access.
up=$(cut -d. -f1 /proc/uptime)
at=$(awk '$1 == 0 {split($2, a, "."); print a[1]}' $BS)
expect_num "age: block_state access time of page 0 is within 10 s of now" "$((up - ${at:-0}))" -le 10
check_sh "age: reset" "echo 1 > $SYS/reset"

note "--- writeback_batch_size"
for b in 1 256; do
    expect_write "batch $b: writeback_batch_size $b" ok $SYS/writeback_batch_size $b
    expect_eq "batch $b: reads back" "$(cat $SYS/writeback_batch_size)" $b
    wb_init $SYS 4M
    cp /tmp/wbmix /tmp/wbwant
    wb_write "batch $b"
    expect_write "batch $b: idle all" ok $SYS/idle all
    expect_write "batch $b: writeback idle" ok $SYS/writeback idle
    expect_eq "batch $b: every idle page written" "$(bd_col 1)" $NONSAME
    wb_verify "batch $b"
    check_sh "batch $b: reset" "echo 1 > $SYS/reset"
done
expect_write "writeback_batch_size 32 (the default)" ok $SYS/writeback_batch_size 32

note "--- the backing device is held exclusively until reset"
wb_init $SYS 4M
id=$(cat $CTL/hot_add)
S1=$(dev_sys $id)
expect_write "another device cannot take the same backing device" "busy" $S1/backing_dev $BDEV
check_sh "reset device 0" "echo 1 > $SYS/reset"
expect_write "after reset, device $id can take it" ok $S1/backing_dev $BDEV
expect_eq "device $id names it" "$(cat $S1/backing_dev)" $BDEV
expect_write "device 0 cannot take it now" "busy" $SYS/backing_dev $BDEV
check_sh "hot_remove $id releases it" "echo $id > $CTL/hot_remove"
expect_write "device 0 takes it again" ok $SYS/backing_dev $BDEV
check_sh "reset an uninitialised device with a backing device" "echo 1 > $SYS/reset"
expect_eq "reset releases it before init too" "$(cat $SYS/backing_dev)" none
check "rmmod $DRV" unload
summary
