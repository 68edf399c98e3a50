# Writeback to a backing device that fails: a memory-backed null_blk device
# (configfs) whose bad blocks fail I/O. A failing writeback reports EIO and
# leaves the pages in memory, idle, for a later retry; a failing read of a
# written-back page fails that page alone with EIO, never with wrong data,
# and the page reads back once the device works again; a full backing
# device gives ENOSPC; reset releases the device. No hang, no splat (the
# host scans the kernel log).
. /tests/lib.sh
. /tests/lib_wb.sh

load
wb_mix
NONSAME=$((WB_PAGES - WB_SAME))
nullb_make wbf 1
NB_BLOCKS=256
BDEV=$NULLB
note "backing device $NULLB, $NB_BLOCKS blocks of 4 KiB"

# 1. Every block bad: nothing is written back.
wb_init $SYS 4M
wb_write "all bad"
check "all bad: mark every block bad" nullb_bad wbf + 0 $((NB_BLOCKS - 1))
expect_write "all bad: idle all" ok $SYS/idle all
expect_write "all bad: writeback idle fails" "Input/output error" $SYS/writeback idle
expect_eq "all bad: bd_count, bd_writes stay 0" "$(bd_col 1) $(bd_col 3)" "0 0"
expect_eq "all bad: no page is marked w" "$(bs_count w)" 0
expect_eq "all bad: the pages stay idle for a retry" "$(bs_count i)" $NONSAME
expect_num "all bad: compr_data_size still counts them" "$(mm_stat_col 2)" -gt 0

# 2. Only blocks 0..7 good: at most 8 pages can go.
check "partial: clear the bad blocks" nullb_bad wbf - 0 $((NB_BLOCKS - 1))
check "partial: blocks 8.. bad" nullb_bad wbf + 8 $((NB_BLOCKS - 1))
expect_write "partial: writeback idle fails" "Input/output error" $SYS/writeback idle
w=$(bs_count w)
expect_num "partial: at most 8 pages written back" "$w" -le 8
expect_eq "partial: bd_count = the pages marked w" "$(bd_col 1)" "$w"
expect_eq "partial: bd_writes = the pages marked w" "$(bd_col 3)" "$w"
expect_eq "partial: the others stay idle" "$(bs_count i)" $((NONSAME - w))
check "partial: clear the bad blocks" nullb_bad wbf - 0 $((NB_BLOCKS - 1))
expect_write "retry: writeback idle" ok $SYS/writeback idle
expect_eq "retry: every page written back" "$(bd_col 1) $(bs_count w)" "$NONSAME $NONSAME"
wb_verify "retry"

# 3. A bad block under a written-back page. The page's block is found by
# its content (compressed_writeback is off, so the block holds the page).
P=70
want=$(md5_file /tmp/wbwant $P 1)
blk=
b=0
while [ $b -lt $NB_BLOCKS ]; do
    if [ "$(md5_dev $NULLB $b 1)" = "$want" ]; then blk=$b; break; fi
    b=$((b + 1))
done
if [ -n "$blk" ]; then pass "read: page $P is block $blk of $NULLB"; else fatal "read: page $P not found on $NULLB"; fi
check "read: block $blk bad" nullb_bad wbf + $blk $blk
drop_caches
r0=$(bd_col 2)
if out=$(dd if=$DEV of=/tmp/pg bs=4096 skip=$P count=1 iflag=direct 2>&1); then
    fail "read: O_DIRECT read of page $P succeeded: $(md5_file /tmp/pg 0 1) (want $want)"
elif echo "$out" | grep -qi "Input/output error"; then
    pass "read: O_DIRECT read of page $P fails with EIO"
else
    fail "read: O_DIRECT read of page $P: $out"
fi
expect_eq "read: ... and returns no data" "$(stat -c %s /tmp/pg)" 0
expect_num "read: bd_reads counts the attempt" "$(bd_col 2)" -gt "$r0"
if out=$(dd if=$DEV of=/tmp/pg bs=4096 skip=$P count=1 2>&1); then
    fail "read: buffered read of page $P succeeded: $(md5_file /tmp/pg 0 1) (want $want)"
else
    pass "read: buffered read of page $P fails ($(echo "$out" | tail -n 1 | sed 's/.*: //'))"
fi
expect_eq "read: the pages before it read back" "$(md5_dev $DEV 0 $P)" "$(md5_file /tmp/wbwant 0 $P)"
expect_eq "read: the pages after it read back" "$(md5_dev $DEV $((P + 1)) $((WB_PAGES - P - 1)))" \
    "$(md5_file /tmp/wbwant $((P + 1)) $((WB_PAGES - P - 1)))"
note "read: io_stat $(cat $SYS/io_stat) (7.3 counts no failed_reads for an asynchronous backing read)"
check "read: clear the bad block" nullb_bad wbf - $blk $blk
expect_eq "read: page $P reads back once the device works" "$(md5_dev $DEV $P 1)" "$want"
wb_verify "read: all"
check_sh "read: reset" "echo 1 > $SYS/reset"
expect_eq "read: reset releases the backing device" "$(cat $SYS/backing_dev)" none

# 4. A full backing device: 320 pages for 256 blocks.
wb_init $SYS 4M
wb_write "full"
dd if=/dev/urandom of=/tmp/more bs=4096 count=128 2>/dev/null
check "full: write 128 more random pages" dd if=/tmp/more of=$DEV bs=4096 seek=$WB_PAGES oflag=direct
expect_write "full: idle all" ok $SYS/idle all
expect_write "full: writeback idle runs out of space" "No space left on device" $SYS/writeback idle
expect_eq "full: bd_count = every block" "$(bd_col 1) $(bs_count w)" "$NB_BLOCKS $NB_BLOCKS"
expect_eq "full: the rest stay in memory, idle" "$(bs_count i)" $((NONSAME + 128 - NB_BLOCKS))
wb_verify "full"
expect_eq "full: the extra pages read back" "$(md5_dev $DEV $WB_PAGES 128)" "$(md5_file /tmp/more 0 128)"
for pg in $(awk 'index($3, "w") {print $1}' $BS | head -n 16); do
    blkdiscard-ul -o $((pg * 4096)) -l 4096 $DEV || fail "full: discard page $pg"
done
expect_eq "full: discard frees their blocks" "$(bd_col 1)" $((NB_BLOCKS - 16))
expect_write "full: idle all" ok $SYS/idle all
expect_write "full: writeback idle after the discard still runs out" "No space left on device" $SYS/writeback idle
expect_eq "full: the freed blocks were used again" "$(bd_col 1)" $NB_BLOCKS
expect_eq "full: no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
check_sh "full: reset" "echo 1 > $SYS/reset"
check "reset released null_blk: it can be removed" nullb_remove wbf
check "rmmod $DRV" unload
summary
