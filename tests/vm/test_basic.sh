# Load, size, write/read integrity, discard and unload of /dev/rzram0.
. /tests/lib.sh

check "modprobe rzram" modprobe rzram
check "/sys/block/rzram0 exists" test -d $SYS
check "/dev/rzram0 is a block device" test -b /dev/rzram0
expect_eq "initstate is 0 before disksize" "$(cat $SYS/initstate)" 0
expect_eq "disksize is 0 before init" "$(cat $SYS/disksize)" 0
expect_eq "capacity is 0 before init" "$(blockdev --getsize64 /dev/rzram0)" 0
expect_err "disksize 0 is rejected" "invalid" "echo 0 > $SYS/disksize"
expect_err "disksize garbage is rejected" "invalid" "echo 12xyz > $SYS/disksize"
check "set disksize 64M" sh -c "echo 64M > $SYS/disksize"
expect_eq "disksize reads back in bytes" "$(cat $SYS/disksize)" 67108864
expect_eq "initstate is 1" "$(cat $SYS/initstate)" 1
expect_eq "block device size" "$(blockdev --getsize64 /dev/rzram0)" 67108864
expect_err "disksize again is busy" "busy" "echo 32M > $SYS/disksize"

# 20 MiB of mixed data: compressible text, random (incompressible, stored as
# huge pages), zeroes and a repeated non-zero word (same-filled), a binary.
yes "rzram compressible line of text, repeated" | head -c 6291456 > /tmp/text
dd if=/dev/urandom of=/tmp/rand bs=1M count=4 2>/dev/null
dd if=/dev/zero of=/tmp/zero bs=1M count=2 2>/dev/null
tr '\000' '\132' < /tmp/zero > /tmp/fill
cat /bin/busybox /bin/busybox /bin/busybox | head -c 4194304 > /tmp/bin
cat /tmp/text /tmp/rand /tmp/zero /tmp/fill /tmp/bin > /tmp/mix
rm -f /tmp/text /tmp/rand /tmp/zero /tmp/fill /tmp/bin
size=$(stat -c %s /tmp/mix)
pages=$((size / 4096))
want=$(md5sum < /tmp/mix)
check "write $size bytes with O_DIRECT" dd if=/tmp/mix of=/dev/rzram0 bs=64k oflag=direct conv=fsync
echo 3 > /proc/sys/vm/drop_caches
got=$(dd if=/dev/rzram0 bs=64k count=$((size / 65536)) iflag=direct 2>/dev/null | md5sum)
expect_eq "O_DIRECT read back matches" "$got" "$want"
echo 3 > /proc/sys/vm/drop_caches
got=$(head -c "$size" /dev/rzram0 | md5sum)
expect_eq "buffered read back matches" "$got" "$want"
note "mm_stat: $(cat $SYS/mm_stat)"
note "io_stat: $(cat $SYS/io_stat)"
expect_eq "orig_data_size counts every page" "$(mm_stat_col 1)" "$size"
same=$(mm_stat_col 6)
expect_eq "same-filled pages stored in the slot" "$same" 1024
huge=$(mm_stat_col 8)
# The 1024 random pages at least; some pages of the binary may be huge too.
if [ "$huge" -ge 1024 ] && [ "$huge" -le 2048 ]; then pass "random pages stored as huge ($huge)"; else fail "huge_pages $huge, expected 1024..2048"; fi
compr=$(mm_stat_col 2)
if [ "$compr" -lt $((size / 2)) ]; then pass "data compressed ($compr of $size bytes)"; else fail "compr_data_size $compr not below half of $size"; fi
used=$(mm_stat_col 3)
if [ "$used" -gt 0 ]; then pass "mem_used_total is $used"; else fail "mem_used_total is 0"; fi

# Overwrite part of it with new data: the old objects must be replaced.
dd if=/dev/urandom of=/tmp/patch bs=4096 count=100 2>/dev/null
check "overwrite 100 pages at page 10" dd if=/tmp/patch of=/dev/rzram0 bs=4096 seek=10 oflag=direct conv=notrunc
dd if=/tmp/patch of=/tmp/mix bs=4096 seek=10 conv=notrunc 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
got=$(dd if=/dev/rzram0 bs=64k count=$((size / 65536)) iflag=direct 2>/dev/null | md5sum)
expect_eq "read back after overwrite matches" "$got" "$(md5sum < /tmp/mix)"
expect_eq "orig_data_size unchanged by overwrite" "$(mm_stat_col 1)" "$size"

# Page-misaligned O_DIRECT buffers: every block reaches the driver as two
# sub-page segments (read-modify-write on write, bounce on read).
out=$(dio-check /dev/rzram0 --blocks 512 --seed 3 2>&1)
if echo "$out" | grep -q '^dio-check: PASS'; then pass "sub-page segments: $out"; else fail "sub-page segments: $out"; fi
# Four writers at once on disjoint quarters: slot locks, streams, the pool.
for i in 0 1 2 3; do
    dio-check /dev/rzram0 --blocks 1024 --seed $((10 + i)) --range $((i * 4096)):4096 > /tmp/dio.$i 2>&1 &
done
wait
for i in 0 1 2 3; do
    if grep -q '^dio-check: PASS' /tmp/dio.$i; then pass "concurrent writer $i: $(cat /tmp/dio.$i)"; else fail "concurrent writer $i: $(cat /tmp/dio.$i)"; fi
done

check "discard the whole device" blkdiscard /dev/rzram0
expect_eq "discard frees every page" "$(mm_stat_col 1)" 0
expect_eq "compr_data_size is 0 after discard" "$(mm_stat_col 2)" 0
got=$(dd if=/dev/rzram0 bs=64k count=16 iflag=direct 2>/dev/null | md5sum)
expect_eq "discarded pages read as zeroes" "$got" "$(head -c 1048576 /dev/zero | md5sum)"

check "rmmod rzram" rmmod rzram
check "/sys/block/rzram0 is gone" test ! -e $SYS

check "modprobe rzram num_devices=3" modprobe rzram num_devices=3
check "rzram0..rzram2 exist" test -b /dev/rzram0 -a -b /dev/rzram1 -a -b /dev/rzram2
check "disksize 10000 on rzram1" sh -c "echo 10000 > /sys/block/rzram1/disksize"
expect_eq "disksize is rounded up to a page" "$(cat /sys/block/rzram1/disksize)" 12288
expect_eq "other devices stay uninitialised" "$(cat /sys/block/rzram2/initstate)" 0
check "rmmod rzram (3 devices)" rmmod rzram
expect_err "num_devices above the limit is refused" "invalid" "modprobe rzram num_devices=100000"
summary
