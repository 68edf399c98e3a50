# Dev check (temporary): writeback to a null_blk memory-backed disk.
. /tests/lib.sh
load
modprobe null_blk nr_devices=1 gb=1 memory_backed=1 bs=4096 || fatal "null_blk"
BD=/dev/nullb0
check "backing_dev set" sh -c "echo $BD > $SYS/backing_dev"
expect_eq "backing_dev shows" "$(cat $SYS/backing_dev)" "$BD"
dev_init $SYS 16M
mixed_file /tmp/m "wb line" 101 1024 2048 512
check "write" dd if=/tmp/m of=$DEV bs=64k oflag=direct
note "mm_stat $(cat $SYS/mm_stat)"
check "idle all" sh -c "echo all > $SYS/idle"
note "block_state head: $(head -3 /sys/kernel/debug/$DRV/${DEVNAME}0/block_state | tr '\n' '|')"
check "writeback idle" sh -c "echo idle > $SYS/writeback"
note "bd_stat $(cat $SYS/bd_stat) mm_stat $(cat $SYS/mm_stat)"
expect_num "bd_count > 0" "$(awk '{print $1}' $SYS/bd_stat)" -gt 0
drop_caches
n=$(($(stat -c %s /tmp/m) / 4096))
expect_eq "reads back" "$(md5_dev $DEV 0 $n)" "$(md5_file /tmp/m 0 $n)"
note "bd_stat $(cat $SYS/bd_stat)"
note "block_state head: $(head -3 /sys/kernel/debug/$DRV/${DEVNAME}0/block_state | tr '\n' '|')"
check "overwrite 10 pages" dd if=/dev/urandom of=$DEV bs=4096 count=10 oflag=direct
note "bd_stat $(cat $SYS/bd_stat)"
check "reset" sh -c "echo 1 > $SYS/reset"
expect_eq "backing_dev none after reset" "$(cat $SYS/backing_dev)" none
echo $BD > $SYS/backing_dev; echo 1 > $SYS/compressed_writeback
dev_init $SYS 16M
check "write" dd if=/tmp/m of=$DEV bs=64k oflag=direct
check "writeback page_indexes" sh -c "echo page_indexes=0-300 > $SYS/writeback"
note "bd_stat $(cat $SYS/bd_stat) mm_stat $(cat $SYS/mm_stat)"
drop_caches
expect_eq "reads back (compressed wb)" "$(md5_dev $DEV 0 $n)" "$(md5_file /tmp/m 0 $n)"
check "reset" sh -c "echo 1 > $SYS/reset"
summary
