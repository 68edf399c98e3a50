# Helpers of the writeback and recompression scripts: the backing device,
# bd_stat, debugfs block_state, the test data, a failing null_blk device.
# Sourced after lib.sh. The contract is zram 7.3's (zram_drv.c): bd_stat
# counts 4 KiB units; block_state prints "%12lu %12u.%06d %c%c%c%c%c%c"
# (index, access time in seconds since boot, always ".000000", flags
# s w h i r n or '.').

# The guest's virtio disk (scripts/run-vm.sh attaches a fresh sparse file).
BDEV=/dev/vda
BS=$DBG/${DEVNAME}0/block_state

# wb_disk: the backing disk must exist; Debian's kernel has virtio_blk as a
# module. Fatal otherwise: nothing can be written back.
wb_disk() {
    [ -b $BDEV ] || modprobe virtio_blk 2>/dev/null
    wait_until 10 "[ -b $BDEV ]" || fatal "no backing disk $BDEV (run-vm.sh attaches one)"
}

# has_recomp [SYSDIR]: the driver offers recompression. C zram without
# CONFIG_ZRAM_MULTI_COMP (Debian's kernel) has no recomp_algorithm file.
has_recomp() { [ -e "${1:-$SYS}/recomp_algorithm" ]; }

# bd_col N [SYSDIR]: bd_stat column N (1 bd_count, 2 bd_reads, 3 bd_writes).
bd_col() { awk -v c="$1" '{print $c}' "${2:-$SYS}/bd_stat" 2>/dev/null; }

# bs_count FLAG [LO HI]: the block_state lines whose flags hold FLAG (a
# letter of "swhirn"), pages LO..HI (default all); "." counts every line.
bs_count() {
    awk -v f="$1" -v lo="${2:-0}" -v hi="${3:-999999999}" \
        '$1 >= lo && $1 <= hi && (f == "." || index($3, f)) {n++} END {print n + 0}' "$BS" 2>/dev/null
}
# bs_match REGEX: the block_state lines whose flags match REGEX (awk).
bs_match() { awk -v r="$1" '$3 ~ r {n++} END {print n + 0}' "$BS" 2>/dev/null; }
# bs_flags INDEX: the six flag characters of page INDEX, "-" if not listed
# (no data there).
bs_flags() { awk -v i="$1" '$1 == i {f = $3} END {print (f == "" ? "-" : f)}' "$BS" 2>/dev/null; }

# wb_init SYSDIR SIZE [CASE [PARAMS]]: backing_dev $BDEV, then dev_init.
wb_init() {
    local e
    e=$(set_attr $1/backing_dev $BDEV) || fatal "${3:-set-up}: $e"
    dev_init "$@"
}

# The data of the writeback scripts, WB_PAGES pages in /tmp/wbmix, each
# part page-aligned:
#   0..63    text (compressible)
#   64..127  random (incompressible: huge pages)
#   128..159 zero pages, 160..191 pages of one repeated byte (same-filled)
#   192..255 the start of busybox (binary, about 2:1)
WB_PAGES=256
WB_SAME=64
WB_HUGE_LO=64
WB_HUGE_HI=127
wb_mix() {
    {
        yes "rzram writeback line of compressible text 0123456789" | head -c 262144
        dd if=/dev/urandom bs=4096 count=64 2>/dev/null
        head -c 131072 /dev/zero
        head -c 131072 /dev/zero | tr '\000' '\245'
        head -c 262144 /bin/busybox
    } > /tmp/wbmix
    cp /tmp/wbmix /tmp/wbwant
}
# wb_write: the mix onto $DEV from page 0 with O_DIRECT (a case).
wb_write() { check "$1: write the mix (O_DIRECT)" dd if=/tmp/wbmix of=$DEV bs=64k oflag=direct; }
# wb_verify TAG: O_DIRECT and then buffered (caches dropped) reads of the
# first WB_PAGES pages match /tmp/wbwant.
wb_verify() {
    local want
    want=$(md5_file /tmp/wbwant 0 $WB_PAGES)
    expect_eq "$1: O_DIRECT read back matches" "$(md5_dev $DEV 0 $WB_PAGES)" "$want"
    drop_caches
    blockdev --flushbufs $DEV 2>/dev/null
    expect_eq "$1: buffered read back matches" "$(dd if=$DEV bs=4096 count=$WB_PAGES 2>/dev/null | md5sum | cut -d' ' -f1)" "$want"
}

# wb_echo FILE VALUE: writes VALUE; prints "ok" or the error text.
wb_echo() {
    local err
    if err=$( { echo "$2" > "$1"; } 2>&1); then echo ok; else echo "${err##*: }"; fi
}
# expect_write DESC WANT FILE VALUE: the write answers WANT ("ok" or a part
# of the error text).
expect_write() {
    local got
    got=$(wb_echo "$3" "$4")
    if [ "$2" = ok ] && [ "$got" = ok ]; then
        pass "$1"
    elif [ "$2" != ok ] && [ "$got" != ok ] && echo "$got" | grep -qi "$2"; then
        pass "$1 ($got)"
    else
        fail "$1: '$got', expected '$2'"
    fi
}

# A null_blk device that fails I/O on demand (configfs, bad blocks).
NULLB_CFG=/sys/kernel/config/nullb
# nullb_make NAME SIZE_MB: a memory-backed null_blk device with 4 KiB
# blocks; its node goes to NULLB. Fatal if null_blk or configfs is missing
# (call it from the script's shell, not from $(...)).
nullb_make() {
    local d=$NULLB_CFG/$1 e
    if [ ! -d $NULLB_CFG ]; then
        e=$(modprobe null_blk nr_devices=0 2>&1) || fatal "modprobe null_blk: $e"
        grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config
        [ -d $NULLB_CFG ] || fatal "no $NULLB_CFG after loading null_blk"
    fi
    mkdir $d || fatal "mkdir $d"
    e=$( { echo "$2" > $d/size && echo 1 > $d/memory_backed && echo 4096 > $d/blocksize &&
        echo 1 > $d/power; } 2>&1) || fatal "null_blk $1 set-up: $e"
    # A device made through configfs takes the item's name.
    NULLB=/dev/$1
    wait_until 10 "[ -b $NULLB ]" || fatal "no $NULLB after power=1"
}
# nullb_bad NAME +|- FIRST_BLOCK LAST_BLOCK: marks (+) or clears (-) 4 KiB
# blocks FIRST..LAST bad.
nullb_bad() { echo "$2$(($3 * 8))-$(($4 * 8 + 7))" > $NULLB_CFG/$1/badblocks; }
nullb_remove() { echo 0 > $NULLB_CFG/$1/power && rmdir $NULLB_CFG/$1; }
