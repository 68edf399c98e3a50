# The sysfs ABI of $DRV, zram's names, formats and error codes: every device
# attribute before and after init, reset (also while the device is open),
# the control class (hot_add/hot_remove), num_devices, rzram's allocator
# attribute and debugfs files.
. /tests/lib.sh

# accepts_each ATTR NAME...: writing each name to ATTR selects it.
accepts_each() {
    attr=$1; shift
    for v in "$@"; do
        if sh -c "echo $v > $SYS/$attr" 2>/tmp/err && [ "$(current $SYS/$attr)" = "$v" ]; then
            pass "$attr accepts $v"
        else
            fail "$attr $v: $(cat /tmp/err) reads '$(cat $SYS/$attr)'"
        fi
    done
}

# offers ATTR WANT...: a "[current] other" attribute: exactly one current
# entry, each of WANT listed, and writing each listed name selects it.
offers() {
    attr=$1; shift
    note "$attr: $(cat $SYS/$attr)"
    expect_eq "$attr has exactly one current entry" "$(grep -o '\[' $SYS/$attr | wc -l)" 1
    for v in "$@"; do
        if in_list "$v" $(listed $SYS/$attr); then pass "$attr lists $v"; else fail "$attr does not list $v"; fi
    done
    accepts_each $attr $(listed $SYS/$attr)
}

E_INVAL="Invalid argument"
E_BUSY="Device or resource busy"
E_2BIG="Argument list too long"
E_NODEV="No such device"
# What the driver must offer at least (load reads what it does offer into
# CODECS and ALLOCATORS).
WANT_CODECS="lz4 lz4hc lzo lzo-rle zstd deflate"
# Only where the kernel has lib/842 (Debian's has not).
kernel_has 842_compress && WANT_CODECS="$WANT_CODECS 842"
WANT_ALLOCATORS="zsmalloc zbud z3fold zblock"

load
check "$SYS exists" test -d $SYS
check "$DEV is a block device" test -b $DEV
check "$CTL exists" test -d $CTL
expect_eq "one device by default" "$(ls -d /sys/block/$DRV* | wc -l)" 1
for a in disksize initstate reset compact mem_limit mem_used_max comp_algorithm \
        algorithm_params io_stat mm_stat debug_stat; do
    check "attribute $a exists" test -e $SYS/$a
done
for a in hot_add hot_remove; do check "control file $a exists" test -e $CTL/$a; done

note "--- before init"
expect_eq "initstate is 0" "$(cat $SYS/initstate)" 0
expect_eq "disksize is 0" "$(cat $SYS/disksize)" 0
expect_eq "capacity is 0" "$(blockdev --getsize64 $DEV)" 0
expect_eq "mm_stat has 9 columns" "$(awk '{print NF}' $SYS/mm_stat)" 9
expect_eq "mm_stat is all zero" "$(awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s}' $SYS/mm_stat)" 0
expect_eq "io_stat has 4 columns" "$(awk '{print NF}' $SYS/io_stat)" 4
expect_eq "io_stat is all zero" "$(awk '{print $1 + $2 + $3 + $4}' $SYS/io_stat)" 0
expect_eq "debug_stat starts with 'version: 1'" "$(head -n 1 $SYS/debug_stat)" "version: 1"
expect_err "compact before init: EINVAL" "$E_INVAL" "echo 1 > $SYS/compact"
expect_err "disksize 0: EINVAL" "$E_INVAL" "echo 0 > $SYS/disksize"
expect_err "disksize garbage: EINVAL" "$E_INVAL" "echo abc > $SYS/disksize"
expect_eq "initstate still 0 after refused disksizes" "$(cat $SYS/initstate)" 0
check_sh "mem_used_max 0 before init" "echo 0 > $SYS/mem_used_max"
expect_err "mem_used_max 1: EINVAL" "$E_INVAL" "echo 1 > $SYS/mem_used_max"
expect_err "mem_used_max garbage: EINVAL" "$E_INVAL" "echo abc > $SYS/mem_used_max"
expect_err "mem_limit garbage: EINVAL" "$E_INVAL" "echo abc > $SYS/mem_limit"
check_sh "mem_limit 8M before init" "echo 8M > $SYS/mem_limit"
expect_eq "mm_stat mem_limit is 8M" "$(mm_stat_col 4)" 8388608
check_sh "mem_limit 0 (no limit)" "echo 0 > $SYS/mem_limit"
expect_eq "mm_stat mem_limit is 0" "$(mm_stat_col 4)" 0
check_sh "mem_limit 1G" "echo 1G > $SYS/mem_limit"
expect_eq "mm_stat mem_limit is 1G" "$(mm_stat_col 4)" 1073741824
check_sh "reset of an uninitialised device" "echo 1 > $SYS/reset"
expect_err "reset 0: EINVAL" "$E_INVAL" "echo 0 > $SYS/reset"
expect_err "reset garbage: EINVAL" "$E_INVAL" "echo abc > $SYS/reset"

# comp_algorithm: every codec listed, exactly one current, each writable.
algs=$CODECS
def_alg=$DEF_CODEC
offers comp_algorithm $WANT_CODECS
check_sh "comp_algorithm back to $def_alg" "echo $def_alg > $SYS/comp_algorithm"
expect_err "comp_algorithm unknown: EINVAL" "$E_INVAL" "echo nosuch > $SYS/comp_algorithm"
long=$(head -c 130 /dev/zero | tr '\000' a)
expect_err "comp_algorithm of 130 chars: E2BIG" "$E_2BIG" "echo $long > $SYS/comp_algorithm"
expect_eq "comp_algorithm unchanged by refused writes" "$(current $SYS/comp_algorithm)" "$def_alg"

# algorithm_params: key=value pairs for the primary algorithm.
other=lz4; [ "$def_alg" = lz4 ] && other=zstd
check_sh "algorithm_params level=3" "echo level=3 > $SYS/algorithm_params"
check_sh "algorithm_params algo=$def_alg level=1" "echo algo=$def_alg level=1 > $SYS/algorithm_params"
check_sh "algorithm_params priority=0 level=2" "echo priority=0 level=2 > $SYS/algorithm_params"
expect_err "algorithm_params empty value: EINVAL" "$E_INVAL" "echo level= > $SYS/algorithm_params"
expect_err "algorithm_params key without value: EINVAL" "$E_INVAL" "echo level > $SYS/algorithm_params"
expect_err "algorithm_params level=abc: EINVAL" "$E_INVAL" "echo level=abc > $SYS/algorithm_params"
expect_err "algorithm_params algo not selected ($other): EINVAL" "$E_INVAL" "echo algo=$other level=1 > $SYS/algorithm_params"
expect_err "algorithm_params priority=9: EINVAL" "$E_INVAL" "echo priority=9 level=1 > $SYS/algorithm_params"
# C zram skips keys it does not know; rzram refuses them.
if rzram_only "algorithm_params unknown key: EINVAL"; then
    expect_err "algorithm_params unknown key: EINVAL" "$E_INVAL" "echo foo=1 > $SYS/algorithm_params"
fi
check_sh "algorithm_params level=1 before init" "echo level=1 > $SYS/algorithm_params"

# max_comp_streams: zram removed it in 6.15; rzram keeps it for zramctl.
if rzram_only "max_comp_streams"; then
    check_sh "max_comp_streams accepts 2" "echo 2 > $SYS/max_comp_streams"
    n=$(cat $SYS/max_comp_streams)
    expect_num "max_comp_streams reads back the stream count" "$n" -ge 1
    expect_err "max_comp_streams garbage: EINVAL" "$E_INVAL" "echo abc > $SYS/max_comp_streams"
fi

# allocator (rzram only): like comp_algorithm.
if rzram_only "allocator attribute"; then
    expect_eq "allocator default is zsmalloc" "$DEF_ALLOC" zsmalloc
    offers allocator $WANT_ALLOCATORS
    for last in $ALLOCATORS; do :; done
    expect_err "allocator unknown: EINVAL" "$E_INVAL" "echo slab > $SYS/allocator"
    expect_eq "allocator unchanged by a refused write" "$(current $SYS/allocator)" "$last"
fi

note "--- init"
init_alg=zstd; in_list zstd $algs || init_alg=$def_alg
check_sh "comp_algorithm $init_alg" "echo $init_alg > $SYS/comp_algorithm"
if is_rzram; then check_sh "allocator zbud" "echo zbud > $SYS/allocator"; fi
check_sh "mem_limit 32M" "echo 32M > $SYS/mem_limit"
check_sh "disksize 64M" "echo 64M > $SYS/disksize"
expect_eq "disksize reads back in bytes" "$(cat $SYS/disksize)" 67108864
expect_eq "initstate is 1" "$(cat $SYS/initstate)" 1
expect_eq "capacity is 64M" "$(blockdev --getsize64 $DEV)" 67108864
expect_eq "mem_limit kept through init" "$(mm_stat_col 4)" 33554432
expect_err "disksize again: EBUSY" "$E_BUSY" "echo 32M > $SYS/disksize"
expect_err "disksize 0 after init: EINVAL" "$E_INVAL" "echo 0 > $SYS/disksize"
expect_eq "disksize unchanged" "$(cat $SYS/disksize)" 67108864
other_alg=lz4; [ "$init_alg" = lz4 ] && other_alg=$def_alg
expect_err "comp_algorithm after init: EBUSY" "$E_BUSY" "echo $other_alg > $SYS/comp_algorithm"
expect_eq "comp_algorithm stays $init_alg" "$(current $SYS/comp_algorithm)" "$init_alg"
expect_err "algorithm_params after init: EBUSY" "$E_BUSY" "echo level=1 > $SYS/algorithm_params"
if is_rzram; then
    expect_err "allocator after init: EBUSY" "$E_BUSY" "echo zsmalloc > $SYS/allocator"
    expect_eq "allocator stays zbud" "$(current $SYS/allocator)" zbud
else
    skip "allocator after init (rzram only)"
fi
check_sh "mem_limit 16M after init" "echo 16M > $SYS/mem_limit"
expect_eq "mm_stat mem_limit is 16M" "$(mm_stat_col 4)" 16777216

# Some data: 64 text pages, 64 random pages, 32 same-filled pages.
mixed_file /tmp/d "abi test line" 245 256 256 128
check "write 160 pages" dd if=/tmp/d of=$DEV bs=64k oflag=direct
expect_eq "orig_data_size is 160 pages" "$(mm_stat_col 1)" $((160 * 4096))
expect_eq "same_pages is 32" "$(mm_stat_col 6)" 32
expect_num "huge_pages covers the random pages" "$(mm_stat_col 8)" -ge 64
expect_num "huge_pages_since >= huge_pages" "$(mm_stat_col 9)" -ge "$(mm_stat_col 8)"
expect_num "mem_used_total > 0" "$(mm_stat_col 3)" -gt 0
expect_num "mem_used_max >= mem_used_total" "$(mm_stat_col 5)" -ge "$(mm_stat_col 3)"
expect_eq "data reads back" "$(md5_dev $DEV 0 160)" "$(md5_file /tmp/d 0 160)"
check_sh "compact after init" "echo 1 > $SYS/compact"
check_sh "mem_used_max 0 after init" "echo 0 > $SYS/mem_used_max"
expect_eq "mem_used_max reset to mem_used_total" "$(mm_stat_col 5)" "$(mm_stat_col 3)"
expect_err "mem_used_max 5 after init: EINVAL" "$E_INVAL" "echo 5 > $SYS/mem_used_max"
expect_eq "io_stat still 4 columns" "$(awk '{print NF}' $SYS/io_stat)" 4
expect_eq "io_stat invalid_io is 0" "$(io_stat_col 3)" 0
note "mm_stat: $(cat $SYS/mm_stat)"
note "io_stat: $(cat $SYS/io_stat)"
note "debug_stat: $(cat $SYS/debug_stat | tr '\n' '|')"

# debugfs (rzram only).
if rzram_only "debugfs classes/block_state"; then
    check "debugfs $DBG/${DRV}0/classes exists" test -r $DBG/${DRV}0/classes
    lines=$(wc -l < $DBG/${DRV}0/classes 2>/dev/null)
    expect_num "classes has lines" "${lines:-0}" -gt 0
    check "debugfs block_state exists" test -r $DBG/${DRV}0/block_state
    expect_eq "block_state has one line per stored slot" "$(wc -l < $DBG/${DRV}0/block_state 2>/dev/null)" 160
    expect_eq "block_state first index is 0" "$(awk 'NR == 1 {print $1}' $DBG/${DRV}0/block_state 2>/dev/null)" 0
    expect_eq "block_state last index is 159" "$(awk 'END {print $1}' $DBG/${DRV}0/block_state 2>/dev/null)" 159
    expect_num "block_state lines have index, size, flags" \
        "$(awk 'NF < 3' $DBG/${DRV}0/block_state 2>/dev/null | wc -l)" -eq 0
    expect_eq "block_state flags 32 slots same-filled (s)" "$(awk '$3 ~ /s/' $DBG/${DRV}0/block_state 2>/dev/null | wc -l)" 32
    expect_eq "block_state flags the 64 random slots huge (h)" "$(awk '$3 ~ /h/' $DBG/${DRV}0/block_state 2>/dev/null | wc -l)" 64
    expect_num "classes names the allocator (zbud)" "$(grep -c zbud $DBG/${DRV}0/classes 2>/dev/null)" -ge 1
fi

note "--- reset"
exec 3<$DEV
expect_err "reset while open: EBUSY" "$E_BUSY" "echo 1 > $SYS/reset"
exec 3<&-
expect_eq "device still initialised after refused reset" "$(cat $SYS/initstate)" 1
expect_err "reset 0 after init: EINVAL" "$E_INVAL" "echo 0 > $SYS/reset"
expect_eq "data intact after refused resets" "$(md5_dev $DEV 0 160)" "$(md5_file /tmp/d 0 160)"
check_sh "reset" "echo 1 > $SYS/reset"
expect_eq "initstate 0 after reset" "$(cat $SYS/initstate)" 0
expect_eq "disksize 0 after reset" "$(cat $SYS/disksize)" 0
expect_eq "capacity 0 after reset" "$(blockdev --getsize64 $DEV)" 0
expect_eq "mm_stat all zero after reset (mem_limit too)" \
    "$(awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s}' $SYS/mm_stat)" 0
expect_eq "io_stat all zero after reset" "$(awk '{print $1 + $2 + $3 + $4}' $SYS/io_stat)" 0
expect_eq "comp_algorithm back to the default ($def_alg)" "$(current $SYS/comp_algorithm)" "$def_alg"
if is_rzram; then
    expect_eq "allocator back to the default" "$(current $SYS/allocator)" zsmalloc
else
    skip "allocator after reset (rzram only)"
fi
check_sh "disksize 4M after reset" "echo 4M > $SYS/disksize"
expect_eq "data is gone after reset" "$(md5_dev $DEV 0 160)" "$(head -c 655360 /dev/zero | md5sum | cut -d' ' -f1)"
expect_eq "orig_data_size 0 after reading" "$(mm_stat_col 1)" 0
check_sh "reset again" "echo 1 > $SYS/reset"

note "--- disksize parsing"
for pair in 10000:12288 4096:4096 1K:4096 5K:8192 3M:3145728 1G:1073741824; do
    in=${pair%%:*}; want=${pair#*:}
    if sh -c "echo $in > $SYS/disksize" 2>/tmp/err; then
        expect_eq "disksize $in reads $want" "$(cat $SYS/disksize)" "$want"
    else
        fail "disksize $in: $(cat /tmp/err)"
    fi
    echo 1 > $SYS/reset 2>/dev/null
done

note "--- hot_add / hot_remove"
id=$(cat $CTL/hot_add 2>/tmp/err)
expect_eq "hot_add creates device 1" "$id" 1
s1=$(dev_sys 1); d1=$(dev_node 1)
check "$d1 is a block device" test -b $d1
expect_eq "new device is uninitialised" "$(cat $s1/initstate 2>&1)" 0
check_sh "disksize 8M on the new device" "echo 8M > $s1/disksize"
dd if=/dev/urandom of=/tmp/r bs=64k count=16 2>/dev/null
check "write 1M to the new device" dd if=/tmp/r of=$d1 bs=64k oflag=direct
expect_eq "new device reads back" "$(md5_dev $d1 0 256)" "$(md5_file /tmp/r 0 256)"
expect_eq "device 0 is untouched" "$(cat $SYS/initstate)" 0
id2=$(cat $CTL/hot_add 2>/dev/null)
expect_eq "second hot_add creates device 2" "$id2" 2
exec 3<$d1
expect_err "hot_remove while open: EBUSY" "$E_BUSY" "echo 1 > $CTL/hot_remove"
exec 3<&-
check "device 1 survives the refused hot_remove" test -d $s1
check_sh "hot_remove 1 (initialised, holding data)" "echo 1 > $CTL/hot_remove"
check "device 1 is gone from sysfs" test ! -e $s1
check "device 1 node is gone" test ! -e $d1
expect_err "hot_remove 1 again: ENODEV" "$E_NODEV" "echo 1 > $CTL/hot_remove"
expect_err "hot_remove 99: ENODEV" "$E_NODEV" "echo 99 > $CTL/hot_remove"
expect_err "hot_remove garbage: EINVAL" "$E_INVAL" "echo abc > $CTL/hot_remove"
expect_err "hot_remove -1: EINVAL" "$E_INVAL" "echo -1 > $CTL/hot_remove"
id3=$(cat $CTL/hot_add 2>/dev/null)
expect_eq "hot_add reuses the freed id 1" "$id3" 1
check_sh "reused device 1 works" "echo 1M > $s1/disksize && dd if=/tmp/r of=$d1 bs=64k count=16 oflag=direct 2>/dev/null"
expect_eq "reused device 1 reads back" "$(md5_dev $d1 0 256)" "$(md5_file /tmp/r 0 256)"

note "--- rmmod and num_devices"
exec 3<$DEV
expect_err "rmmod while a device is open is refused" "unavailable" "rmmod $DRV"
exec 3<&-
check "rmmod with hot-added devices present" unload
check "every device is gone" test ! -e $SYS -a ! -e $s1 -a ! -e $(dev_sys 2)
check "control class is gone" test ! -e $CTL
load num_devices=4
check "devices 0..3 exist" test -b $(dev_node 0) -a -b $(dev_node 1) -a -b $(dev_node 2) -a -b $(dev_node 3)
check "device 4 does not" test ! -e $(dev_sys 4)
expect_eq "hot_add after num_devices=4 gives 4" "$(cat $CTL/hot_add 2>&1)" 4
check_sh "disksize 10000 on device 2" "echo 10000 > $(dev_sys 2)/disksize"
expect_eq "device 2 disksize rounded up to a page" "$(cat $(dev_sys 2)/disksize)" 12288
expect_eq "devices 1 and 3 stay uninitialised" "$(cat $(dev_sys 1)/initstate)$(cat $(dev_sys 3)/initstate)" 00
check "rmmod (5 devices, one initialised)" unload

if rzram_only "a 100G disk on a small guest (zram allocates its whole table)"; then
load
# Free memory with the per-CPU lists (free_kib): MemFree or MemAvailable
# alone moves by megabytes as pages go to and from those lists.
free0=$(free_kib)
check_sh "disksize 100G on a $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB guest" "echo 100G > $SYS/disksize"
free1=$(free_kib)
note "free memory (MemFree + per-CPU lists) before/after disksize: $free0 / $free1 kB"
# Only the slot-table directory (800 KiB) and the streams may be taken now.
expect_num "disksize 100G takes under 8 MiB" "$((free0 - free1))" -lt 8192
dd if=/dev/urandom of=/tmp/e bs=64k count=16 2>/dev/null
check "write 1 MiB at the end of the 100G disk" dd if=/tmp/e of=$DEV bs=64k seek=$((100 * 16384 - 16)) count=16 oflag=direct
expect_eq "it reads back" "$(dd if=$DEV bs=64k skip=$((100 * 16384 - 16)) count=16 iflag=direct 2>/dev/null | md5sum)" "$(md5sum < /tmp/e)"
expect_eq "the start of the 100G disk reads zeroes" "$(dd if=$DEV bs=64k count=16 iflag=direct 2>/dev/null | md5sum)" "$(dd if=/dev/zero bs=64k count=16 2>/dev/null | md5sum)"
check_sh "reset the 100G disk" "echo 1 > $SYS/reset"
check "rmmod after the 100G disk" unload
fi
if rzram_only "num_devices above the limit"; then
    expect_err "num_devices above the limit is refused" "invalid" "modprobe $DRV num_devices=100000"
    check "no device left behind" test ! -e $SYS
fi
summary
