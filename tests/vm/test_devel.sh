#!/bin/sh
# Lead's scratch checks while the driver grows (removed before landing).
. /tests/lib.sh
modprobe rzram num_devices=2 && pass modprobe || fail modprobe
note "allocator: $(cat $SYS/allocator)"
note "comp_algorithm: $(cat $SYS/comp_algorithm)"
expect_err "bad allocator" "Invalid argument" "echo foo > $SYS/allocator"
check "allocator zbud" sh -c "echo zbud > $SYS/allocator"
expect_eq "allocator shows zbud" "$(cat $SYS/allocator)" "zsmalloc [zbud] z3fold "
expect_err "long algo" "too long" "printf '%0200d' 0 > $SYS/comp_algorithm"
expect_err "bad algo" "Invalid argument" "echo nope > $SYS/comp_algorithm"
check "algo lz4" sh -c "echo lz4 > $SYS/comp_algorithm"
check "params level" sh -c "echo level=2 > $SYS/algorithm_params"
expect_err "params junk" "Invalid argument" "echo foo=1 > $SYS/algorithm_params"
expect_err "compact before init" "Invalid argument" "echo 1 > $SYS/compact"
check "mem_limit 1M" sh -c "echo 1M > $SYS/mem_limit"
check "disksize 64M" sh -c "echo 64M > $SYS/disksize"
expect_err "allocator after init" "busy" "echo z3fold > $SYS/allocator"
expect_err "algo after init" "busy" "echo lz4 > $SYS/comp_algorithm"
dd if=/dev/urandom of=/tmp/r bs=1M count=4 2>/dev/null
expect_err "write past mem_limit" "error" "dd if=/tmp/r of=/dev/rzram0 bs=1M count=4 oflag=direct 2>&1"
note "mm_stat: $(cat $SYS/mm_stat)"
note "io_stat: $(cat $SYS/io_stat)"
check "mem_limit 0" sh -c "echo 0 > $SYS/mem_limit"
check "write after limit" dd if=/tmp/r of=/dev/rzram0 bs=1M count=4 oflag=direct
expect_eq "read back" "$(dd if=/dev/rzram0 bs=1M count=4 iflag=direct 2>/dev/null | md5sum)" "$(md5sum < /tmp/r)"
check "compact" sh -c "echo 1 > $SYS/compact"
expect_err "mem_used_max 5" "Invalid argument" "echo 5 > $SYS/mem_used_max"
check "mem_used_max 0" sh -c "echo 0 > $SYS/mem_used_max"
note "debug_stat: $(cat $SYS/debug_stat | tr '\n' '|')"
note "classes: $(head -3 /sys/kernel/debug/rzram/rzram0/classes | tr '\n' '|')"
note "block_state lines: $(wc -l < /sys/kernel/debug/rzram/rzram0/block_state)"
exec 3</dev/rzram0
expect_err "reset while open" "busy" "echo 1 > $SYS/reset"
expect_err "hot_remove while open" "busy" "echo 0 > /sys/class/rzram-control/hot_remove"
exec 3<&-
check "reset" sh -c "echo 1 > $SYS/reset"
expect_eq "initstate after reset" "$(cat $SYS/initstate)" 0
expect_eq "allocator after reset" "$(cat $SYS/allocator)" "[zsmalloc] zbud z3fold "
id=$(cat /sys/class/rzram-control/hot_add)
expect_eq "hot_add id" "$id" 2
check "new dev" test -b /dev/rzram2
check "hot_remove 1" sh -c "echo 1 > /sys/class/rzram-control/hot_remove"
expect_err "hot_remove absent" "No such device" "echo 1 > /sys/class/rzram-control/hot_remove"
expect_eq "hot_add reuses 1" "$(cat /sys/class/rzram-control/hot_add)" 1
check "disksize 100G" sh -c "echo 100G > /sys/block/rzram2/disksize"
note "$(grep MemAvailable /proc/meminfo)"
check "zbud dev2 reset" sh -c "echo 1 > /sys/block/rzram2/reset"
check "rmmod" rmmod rzram
summary
