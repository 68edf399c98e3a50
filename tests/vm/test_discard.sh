# Discard and write-zeroes: blkdiscard of a range and of the whole device
# (and blkdiscard -z, REQ_OP_WRITE_ZEROES) free the slots: mm_stat's orig,
# compr and mem_used drop, the range reads zeroes, the rest stays intact.
. /tests/lib.sh

load
dev_init $SYS 16M
# 4 MiB = 1024 pages: 0..255 text, 256..767 random, 768..1023 binary.
yes "discard test line of compressible text" | head -c 1048576 > /tmp/d
dd if=/dev/urandom bs=4096 count=512 2>/dev/null >> /tmp/d
head -c 1048576 /bin/busybox >> /tmp/d
zero_md5() { head -c $(($1 * 4096)) /dev/zero | md5sum | cut -d' ' -f1; }
check "write 4 MiB" dd if=/tmp/d of=$DEV bs=64k oflag=direct
expect_eq "orig_data_size is 4 MiB" "$(mm_stat_col 1)" 4194304
o0=$(mm_stat_col 1); c0=$(mm_stat_col 2); u0=$(mm_stat_col 3); n0=$(io_stat_col 4)
h0=$(mm_stat_col 8); hs0=$(mm_stat_col 9)
expect_num "the random pages are huge" "$h0" -ge 512
note "before: mm_stat $(cat $SYS/mm_stat)"

# Range 1: pages 384..639, all random (huge: one pool page each).
check "blkdiscard 1 MiB at page 384" blkdiscard -o $((384 * 4096)) -l 1048576 $DEV
expect_eq "orig_data_size drops by 1 MiB" "$(mm_stat_col 1)" $((o0 - 1048576))
expect_num "compr_data_size drops by at least 1 MiB" "$(mm_stat_col 2)" -le $((c0 - 1048576))
expect_num "mem_used_total drops by at least 768 KiB" "$(mm_stat_col 3)" -le $((u0 - 786432))
expect_eq "huge_pages drops by 256" "$(mm_stat_col 8)" $((h0 - 256))
expect_eq "notify_free counts the 256 discarded pages" "$(io_stat_col 4)" $((n0 + 256))
expect_eq "discarded range reads zeroes" "$(md5_dev $DEV 384 256)" "$(zero_md5 256)"
expect_eq "pages before the range intact" "$(md5_dev $DEV 0 384)" "$(md5_file /tmp/d 0 384)"
expect_eq "pages after the range intact" "$(md5_dev $DEV 640 384)" "$(md5_file /tmp/d 640 384)"

# Range 2: 8 text pages at 10..17.
o1=$(mm_stat_col 1); c1=$(mm_stat_col 2)
check "blkdiscard 32 KiB at page 10" blkdiscard -o 40960 -l 32768 $DEV
expect_eq "orig_data_size drops by 8 pages" "$(mm_stat_col 1)" $((o1 - 32768))
expect_num "compr_data_size drops" "$(mm_stat_col 2)" -lt "$c1"
expect_eq "text range reads zeroes" "$(md5_dev $DEV 10 8)" "$(zero_md5 8)"
expect_eq "text around it intact" "$(md5_dev $DEV 0 10)$(md5_dev $DEV 18 366)" "$(md5_file /tmp/d 0 10)$(md5_file /tmp/d 18 366)"

# A discard of a range that was never written changes nothing.
o2=$(mm_stat_col 1)
check "blkdiscard 1 MiB never written (page 2048)" blkdiscard -o $((2048 * 4096)) -l 1048576 $DEV
expect_eq "orig_data_size unchanged" "$(mm_stat_col 1)" "$o2"

# Write-zeroes (BLKZEROOUT, REQ_OP_WRITE_ZEROES): 32 binary pages 800..831.
o3=$(mm_stat_col 1)
check "blkdiscard -z 128 KiB at page 800" blkdiscard-ul -z -o $((800 * 4096)) -l 131072 $DEV
expect_eq "write-zeroes frees the 32 pages" "$(mm_stat_col 1)" $((o3 - 131072))
expect_eq "zeroed range reads zeroes" "$(md5_dev $DEV 800 32)" "$(zero_md5 32)"
expect_eq "binary around it intact" "$(md5_dev $DEV 640 160)$(md5_dev $DEV 832 192)" "$(md5_file /tmp/d 640 160)$(md5_file /tmp/d 832 192)"

# Rewrite the discarded random range: the slots are usable again.
check "rewrite the discarded range" dd if=/tmp/d of=$DEV bs=4096 skip=384 seek=384 count=256 oflag=direct conv=notrunc
expect_eq "rewritten range reads back" "$(md5_dev $DEV 384 256)" "$(md5_file /tmp/d 384 256)"

# The whole device.
u4=$(mm_stat_col 3)
check "blkdiscard the whole device" blkdiscard $DEV
note "after: mm_stat $(cat $SYS/mm_stat)"
expect_eq "orig_data_size is 0" "$(mm_stat_col 1)" 0
expect_eq "compr_data_size is 0" "$(mm_stat_col 2)" 0
expect_eq "same_pages and huge_pages are 0" "$(mm_stat_col 6) $(mm_stat_col 8)" "0 0"
expect_num "mem_used_total drops" "$(mm_stat_col 3)" -lt "$u4"
check_sh "compact" "echo 1 > $SYS/compact"
if is_rzram; then
    # rzram's mem_used_total includes the allocator's own tables (README).
    expect_num "mem_used_total after compaction is metadata only (<= 16 pages)" "$(mm_stat_col 3)" -le 65536
else
    expect_eq "mem_used_total is 0 after compaction" "$(mm_stat_col 3)" 0
fi
if rzram_only "debugfs classes after a full discard"; then
    total=$(grep '^total:' $DBG/${DRV}0/classes 2>&1)
    note "classes: $total"
    expect_eq "debugfs classes: no objects and no class pages left" \
        "$(echo "$total" | sed -n 's/^total: \([0-9]*\) objects in \([0-9]*\) class pages.*/\1 \2/p')" "0 0"
fi
expect_eq "the device reads zeroes" "$(md5_dev $DEV 0 1024)" "$(zero_md5 1024)"
expect_eq "huge_pages_since only grows (256 rewritten)" "$(mm_stat_col 9)" $((hs0 + 256))
expect_eq "no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
check "write again after a full discard" dd if=/tmp/d of=$DEV bs=64k oflag=direct
expect_eq "data reads back after a full discard" "$(md5_dev $DEV 0 1024)" "$(md5_file /tmp/d 0 1024)"
check_sh "reset" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
