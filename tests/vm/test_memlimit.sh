# mem_limit: once the pool holds the limit, writes that need more memory
# fail with an I/O error (no OOM kill, no splat), data written before still
# reads back, same-filled pages still go in, and raising or removing the
# limit lets writes succeed again.
. /tests/lib.sh

LIMIT=2097152       # 2 MiB
CHUNK=16            # pages per write (64 KiB)

load
dev_init $SYS 64M
check_sh "mem_limit 2M" "echo 2M > $SYS/mem_limit"
expect_eq "mm_stat mem_limit is 2M" "$(mm_stat_col 4)" $LIMIT
# 12 MiB of random pages: incompressible, a whole pool page each.
dd if=/dev/urandom of=/tmp/rand bs=1M count=12 2>/dev/null
# Compressible text: 4 MiB that compresses far below the limit.
yes "mem_limit test line, compressible" | head -c 4194304 > /tmp/text

# write_chunks FIRST MAX: write 64 KiB chunks of /tmp/rand (chunk i to
# chunk i of the device) from FIRST until one fails or MAX are done; sets
# OK_UNTIL to the first chunk not written and LAST_ERR to dd's error.
write_chunks() {
    i=$1; LAST_ERR=
    while [ $i -lt $2 ]; do
        if ! LAST_ERR=$(dd if=/tmp/rand of=$DEV bs=64k skip=$i seek=$i count=1 oflag=direct conv=notrunc 2>&1); then
            break
        fi
        LAST_ERR=
        i=$((i + 1))
    done
    OK_UNTIL=$i
}

write_chunks 0 192
n=$OK_UNTIL
note "wrote $n chunks of 64 KiB before a failure: $LAST_ERR"
expect_num "writes stop near the limit (chunks written)" "$n" -ge 16
expect_num "writes stop at the limit (chunks written)" "$n" -le 33
if echo "$LAST_ERR" | grep -qiE "I/O error|Input/output error"; then pass "the failing write reports an I/O error"; else fail "failing write says '$LAST_ERR'"; fi
expect_num "mem_used_total within the limit" "$(mm_stat_col 3)" -le $LIMIT
expect_num "failed_writes counted" "$(io_stat_col 2)" -gt 0
no_oom "no OOM kill at the limit"
got=$(md5_dev $DEV 0 $((n * CHUNK)))
expect_eq "data written before the limit reads back" "$got" "$(md5_file /tmp/rand 0 $((n * CHUNK)))"
write_chunks $n $((n + 4))
expect_eq "a second attempt fails too" "$OK_UNTIL" "$n"
# Same-filled pages need no pool memory.
head -c 262144 /dev/zero | tr '\000' '\033' > /tmp/same
check "same-filled pages are accepted at the limit" dd if=/tmp/same of=$DEV bs=64k seek=512 oflag=direct conv=notrunc
expect_eq "same-filled pages read back" "$(md5_dev $DEV $((512 * CHUNK)) 64)" "$(md5_file /tmp/same 0 64)"
note "at the limit: mm_stat $(cat $SYS/mm_stat)"

check_sh "raise mem_limit to 8M" "echo 8M > $SYS/mem_limit"
expect_eq "mm_stat mem_limit is 8M" "$(mm_stat_col 4)" 8388608
write_chunks $n $((n + 16))
expect_eq "16 more chunks go in under the raised limit" "$OK_UNTIL" $((n + 16))
n=$OK_UNTIL
# Compressible data: 4 MiB of text fits in what is left of 8M.
check "4 MiB of text fits under the raised limit" dd if=/tmp/text of=$DEV bs=64k seek=768 oflag=direct conv=notrunc
write_chunks $n 192
n2=$OK_UNTIL
note "stopped again after chunk $n2: $LAST_ERR"
expect_num "the raised limit stops writes again" "$n2" -lt 192
expect_num "mem_used_total within the raised limit" "$(mm_stat_col 3)" -le 8388608
no_oom "no OOM kill at the raised limit"

check_sh "mem_limit 0 removes the limit" "echo 0 > $SYS/mem_limit"
write_chunks $n2 192
expect_eq "all 12 MiB go in without a limit" "$OK_UNTIL" 192
expect_eq "all random data reads back" "$(md5_dev $DEV 0 3072)" "$(md5_file /tmp/rand 0 3072)"
expect_eq "text reads back" "$(md5_dev $DEV $((768 * CHUNK)) 1024)" "$(md5_file /tmp/text 0 1024)"

used=$(mm_stat_col 3)
lower=$((used / 2))
check_sh "lower mem_limit below current use" "echo $lower > $SYS/mem_limit"
if dd if=/dev/urandom of=$DEV bs=64k seek=256 count=4 oflag=direct conv=notrunc 2>/dev/null; then
    fail "a write above a lowered limit succeeded"
else
    pass "a write above a lowered limit fails"
fi
expect_eq "stored data still reads back above the limit" "$(md5_dev $DEV 0 3072)" "$(md5_file /tmp/rand 0 3072)"
check_sh "discard frees memory under the lowered limit" "blkdiscard $DEV"
check "writes succeed once usage is below the limit" dd if=/tmp/rand of=$DEV bs=64k count=2 oflag=direct conv=notrunc
no_oom "no OOM kill at the end"
note "mm_stat: $(cat $SYS/mm_stat)"
note "io_stat: $(cat $SYS/io_stat)"
check_sh "reset" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
