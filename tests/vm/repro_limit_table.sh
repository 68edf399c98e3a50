# Reproducer: a write refused at mem_limit can leave mem_used_total above
# the limit for good, when its allocation grew an index table (zsmalloc's
# handle table: 512 handles per 4 KiB leaf) that never shrinks.
. /tests/lib.sh
check "modprobe $DRV" load
dd if=/dev/urandom of=/tmp/r bs=4096 count=1600 2>/dev/null
for n in 1000 1023 1024 1025 1535 1536; do
    is_rzram && echo zsmalloc > $SYS/allocator
    echo 64M > $SYS/disksize
    dd if=/tmp/r of=$DEV bs=4096 count=$n oflag=direct 2>/dev/null
    used=$(mm_stat_col 3)
    echo $used > $SYS/mem_limit
    if dd if=/tmp/r of=$DEV bs=4096 seek=2000 skip=1599 count=1 oflag=direct 2>/dev/null; then
        note "$n objects: the write at the limit succeeded"
    fi
    after=$(mm_stat_col 3)
    expect_num "$n random pages stored, limit = mem_used_total $used; after a refused write mem_used_total" "$after" -le "$used"
    echo 1 > $SYS/reset
done
unload
summary
