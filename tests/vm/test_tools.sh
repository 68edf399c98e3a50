# zram's own tools, run as a user and systemd run them, against the driver
# under zram's names, in both Debian generations: bookworm's util-linux
# zramctl (2.38.1) and systemd's zram-generator (1.1.2), and trixie's
# (2.41.5: COMP-RATIO and --algorithm-params; 1.2.1: algorithm parameters),
# with kmod's modprobe as /sbin/modprobe. Under rzram the shipped modprobe.d
# file (dist/modprobe.d/rzram-as-zram.conf) is installed, so that
# `modprobe zram` loads rzram with zram_names=1; under RZ_DRV=zram the same
# cases run against C zram without it, with the same expectations.
# rzram-only cases: with zram_names=0 the tools see and touch nothing of
# rzram's; zram_names=1 is refused while C zram is loaded; the file's
# fallback to C zram.
# The second tier through the tools: zram-generator's writeback-device=
# (both generations) on the guest's virtio disk, trixie's recompression
# algorithms (compression-algorithm = PRIMARY SECOND THIRD), and zramctl
# --reset of a device with written-back pages. zramctl 2.41.5 has no
# column or option for either (its --help).
DEVNAME=zram
. /tests/lib.sh
. /tests/lib_wb.sh

E_BUSY="Device or resource busy"
MiB=1048576

# Debian's /sbin/modprobe is kmod's (busybox's ignores "install" lines); the
# modprobe.d file calls it by that path and zram-generator finds it on PATH.
# busybox's sh runs its own applets before PATH, so the script names
# /sbin/modprobe in full ($MODPROBE); programs it starts search PATH.
ln -sf /usr/sbin/kmod /sbin/modprobe
export PATH=/sbin:$PATH
MODPROBE=/sbin/modprobe
check "/sbin/modprobe is kmod's" sh -c "$MODPROBE --version | grep -q kmod"
# zram-generator's --setup-device formats through systemd-makefs TYPE DEV
# (1.1.2 looks in /lib/systemd, 1.2.1 in /usr/lib/systemd); this stand-in
# does the same with mkswap/mkfs.
mkdir -p /lib/systemd /usr/lib/systemd /etc/systemd /etc/modprobe.d
printf '#!/bin/sh\nif [ "$1" = swap ]; then exec mkswap "$2"; else exec "mkfs.$1" "$2"; fi\n' \
    > /lib/systemd/systemd-makefs
chmod +x /lib/systemd/systemd-makefs
cp /lib/systemd/systemd-makefs /usr/lib/systemd/systemd-makefs
# The two generations: "zramctl zram-generator" command pairs. trixie's
# run through wrappers with trixie's loader and libraries (/trixie).
GENS="bookworm trixie"
tools_of() { if [ $1 = bookworm ]; then echo "zramctl zram-generator"; else echo "zramctl-trixie zram-generator-trixie"; fi; }
for g in $GENS; do
    set -- $(tools_of $g)
    note "$g: $($1 --version) ($(command -v $1)), $($2 --version 2>&1 | head -n 1)"
done
# zram-generator's configuration (zram-generator.conf(5): the first file it
# reads; /usr/lib, /usr/local/lib and /run and their .conf.d directories
# are empty here). bookworm's 1.1.2 has no algorithm parameters: zram1 uses
# lz4. trixie's 1.2.1 sets zram0's zstd at level 1 and zram1's at level
# 19, which must show in how small the same data compresses, and zram0's
# mem_limit (zram-resident-limit, in MiB like zram-size).
# Both generations write writeback-device= into zram0's backing_dev before
# its disksize. trixie's zram2 has recompression: 1.2.1 writes the first
# algorithm to comp_algorithm and each later one N to recomp_algorithm as
# "algo=NAME priority=N"; a later algorithm's "(params)" it writes to
# recompress as "PARAMS priority=N", which before init is EINVAL (the
# generator warns and goes on), and a "(params)" without algorithm it parses
# and never writes (its zram-generator.conf(5) and example; what it writes
# was traced with strace on the host against a stand-in /sys/block).
generator_conf() {
    limit=; recomp=
    if [ $1 = bookworm ]; then
        alg0=zstd; alg1=lz4
    else
        alg0="zstd(level=1)"; alg1="zstd(level=19)"; limit="zram-resident-limit = 16"
        recomp="
[zram2]
zram-size = 16
compression-algorithm = lz4 zstd deflate(level=9) (type=idle)"
    fi
    cat > /etc/systemd/zram-generator.conf <<EOF
[zram0]
zram-size = 64
compression-algorithm = $alg0
swap-priority = 42
writeback-device = $BDEV
$limit

[zram1]
zram-size = 32
compression-algorithm = $alg1
$recomp
EOF
}
# The backing disk: Debian's kernel has virtio_blk as a module.
wb_disk

# loaded: the zram-like modules loaded now (zram, rzram), space-separated.
loaded() { grep -oE '^r?zram ' /proc/modules | tr -d ' ' | sort | xargs; }
# zram_devs: the zramN disks that exist, in order.
zram_devs() { ls /sys/block | grep -E '^zram[0-9]+$' | sort | xargs; }
# kmsg_since N: the kernel log from line N+1 on, timestamps cut.
kmsg_since() { dmesg | tail -n +$(($1 + 1)) | sed 's/^\[[^]]*\] //'; }

# --- rzram under its own names (zram_names=0): zram's tools find nothing.
if rzram_only "zram_names=0: zram's tools leave rzram's devices alone"; then
    out=$($MODPROBE rzram 2>&1) || fatal "modprobe rzram: $out"
    e=$(set_attr /sys/block/rzram0/disksize 16M) || fatal "rzram0 set-up: $e"
    mixed_file /tmp/iso.bin rzram-own 101 64 64 64
    dd if=/tmp/iso.bin of=/dev/rzram0 bs=4096 oflag=direct 2>/dev/null || fatal "write to /dev/rzram0"
    state() {
        echo "$(md5_dev /dev/rzram0 0 48) $(cat /sys/block/rzram0/disksize) $(cat /sys/block/rzram0/initstate)"
        cat /sys/block/rzram0/mm_stat /sys/block/rzram0/comp_algorithm
        ls /sys/block /sys/class
    }
    before=$(state)
    expect_eq "zram_names=0: no zram disk, no zram-control" "$(zram_devs) $(ls -d /sys/class/zram-control 2>/dev/null)" " "
    for g in $GENS; do
        set -- $(tools_of $g)
        generator_conf $g
        expect_eq "zram_names=0, $g: zramctl lists nothing" "$($1 --noheadings 2>&1)" ""
        expect_err "zram_names=0, $g: zramctl --find --size 64M finds no device" "no free zram device" "$1 --find --size 64M"
        expect_err "zram_names=0, $g: zramctl --reset /dev/zram0 fails" "zram0" "$1 --reset /dev/zram0"
        expect_err "zram_names=0, $g: zram-generator --setup-device zram0 fails" "zram0" "$2 --setup-device zram0"
        expect_err "zram_names=0, $g: zram-generator --reset-device zram0 fails" "No such file" "$2 --reset-device zram0"
    done
    expect_eq "zram_names=0: rzram0's data, size, statistics and the device list unchanged" "$(state)" "$before"
    expect_eq "zram_names=0: only rzram loaded" "$(loaded)" rzram
    check "zram_names=0: rmmod rzram" rmmod rzram
fi

# --- zram_names=1 while C zram holds the names: refused, nothing left.
if rzram_only "zram_names=1 refused while C zram is loaded"; then
    out=$($MODPROBE --ignore-install zram 2>&1) || fatal "modprobe zram (C): $out"
    n=$(dmesg | wc -l)
    expect_err "modprobe rzram zram_names=1 with C zram loaded: EBUSY" "$E_BUSY" "$MODPROBE rzram zram_names=1"
    expect_eq "the one kernel line saying why" "$(kmsg_since $n | grep -i rzram)" \
        'rzram: zram_names=1: "/sys/class/zram-control" exists (is zram loaded?); not loading'
    expect_eq "rzram not loaded, C zram still is" "$(loaded)" zram
    check "no rzram-control, no rzram disk, no /sys/module/rzram" \
        sh -c "! ls -d /sys/class/rzram-control /sys/block/rzram* /sys/module/rzram 2>/dev/null"
    expect_eq "C zram's zram0 still there" "$(zram_devs)" zram0
    check "rmmod zram" rmmod zram
fi

# --- modprobe zram: rzram through the modprobe.d file, or C zram.
if is_rzram; then
    cp /tests/dist/rzram-as-zram.conf /etc/modprobe.d/ || fatal "no /tests/dist/rzram-as-zram.conf"
fi
check "modprobe zram" $MODPROBE zram
expect_eq "modprobe zram loaded $DRV" "$(loaded)" "$DRV"
check "modprobe zram: /dev/zram0 and /sys/class/zram-control" test -b /dev/zram0 -a -d /sys/class/zram-control
if is_rzram; then
    check "modprobe zram: rzram under zram's names only (no rzram-control)" test ! -e /sys/class/rzram-control
    check "modprobe zram again: nothing to do" $MODPROBE zram
fi
check "modprobe -r zram" $MODPROBE -r zram
expect_eq "modprobe -r zram: nothing loaded" "$(loaded)" ""
check "modprobe zram num_devices=3" $MODPROBE zram num_devices=3
expect_eq "modprobe zram num_devices=3: the option reached $DRV" "$(zram_devs)" "zram0 zram1 zram2"
check "modprobe -r zram (3 devices)" $MODPROBE -r zram
if rzram_only "the modprobe.d file's fallback to C zram"; then
    ko=$(find /lib/modules/$(uname -r) -name rzram.ko)
    mv "$ko" /tmp/rzram.ko
    $MODPROBE zram > /tmp/fallback.out 2>&1
    expect_eq "without rzram.ko, modprobe zram falls back to C zram" "$? $(loaded)" "0 zram"
    note "fallback: $(tr '\n' ' ' < /tmp/fallback.out)"
    check "modprobe -r zram removes C zram too" $MODPROBE -r zram
    mv /tmp/rzram.ko "$ko"
    expect_eq "fallback: nothing loaded" "$(loaded)" ""
fi

# same_data DEV...: the same 1 MiB of fio's binary (compressible, and more
# so at a higher zstd level) at page 256 of each DEV.
same_data() {
    for d in "$@"; do dd if=/usr/sbin/fio of=$d bs=4096 seek=256 count=256 oflag=direct 2>/dev/null; done
}

# --- zramctl, generation G with command ZC.
zramctl_cases() {
    local g=$1 ZC=$2 cols all row mm streams ratio a b
    check "$g: modprobe zram (for zramctl)" $MODPROBE zram
    expect_eq "$g: modprobe zram (for zramctl) loaded $DRV" "$(loaded)" "$DRV"
    out=$($ZC --find --size 256M --algorithm zstd 2>&1)
    expect_eq "$g: zramctl --find --size 256M --algorithm zstd prints the device" "$out" /dev/zram0
    expect_eq "$g: zramctl --find: zram0 disksize" "$(cat $SYS/disksize)" $((256 * MiB))
    expect_eq "$g: zramctl --find: zram0 algorithm" "$(current $SYS/comp_algorithm)" zstd
    expect_eq "$g: zramctl --find: zram0 initialised" "$(cat $SYS/initstate)" 1
    out=$($ZC --find --size 256M --algorithm zstd 2>&1)
    expect_eq "$g: zramctl --find with every device in use hot-adds one" "$out" /dev/zram1
    expect_eq "$g: zramctl --find: zram1 disksize and algorithm" \
        "$(cat /sys/block/zram1/disksize) $(current /sys/block/zram1/comp_algorithm)" "$((256 * MiB)) zstd"
    check "$g: zramctl /dev/zram0 (size, algorithm) by name" $ZC --size 128M --algorithm lz4 /dev/zram0
    expect_eq "$g: zramctl /dev/zram0: reset and set up again" \
        "$(cat $SYS/disksize) $(current $SYS/comp_algorithm)" "$((128 * MiB)) lz4"

    # A known write: 64 pages of text, 128 random, 64 of one repeated byte.
    mixed_file /tmp/known.bin zramctl-known 125 256 512 256
    dd if=/tmp/known.bin of=$DEV bs=4096 oflag=direct 2>/dev/null
    expect_eq "$g: known write reads back" "$(md5_dev $DEV 0 256)" "$(md5_file /tmp/known.bin 0 256)"
    cols=NAME,DISKSIZE,DATA,COMPR,ALGORITHM,STREAMS,ZERO-PAGES,TOTAL,MEM-LIMIT,MEM-USED,MIGRATED
    [ $g = trixie ] && cols=$cols,COMP-RATIO
    row=$($ZC --bytes --raw --noheadings --output $cols | grep '^/dev/zram0 ')
    mm=$(cat $SYS/mm_stat)
    streams=$(cat $SYS/max_comp_streams 2>/dev/null)
    # mm_stat columns: orig compr mem_used_total mem_limit mem_used_max
    # same_pages pages_compacted ...; COMP-RATIO is DATA/TOTAL.
    set -- $mm
    ratio=
    [ $g = trixie ] && ratio=" $(awk -v d=$1 -v t=$3 'BEGIN { printf "%.4f", t ? d / t : 0 }')"
    expect_eq "$g: zramctl row for zram0 equals the attributes and mm_stat" "$row" \
        "/dev/zram0 $(cat $SYS/disksize) $1 $2 lz4 $streams $6 $3 $4 $5 $7$ratio"
    expect_eq "$g: zramctl DATA is the 1 MiB written" "$(echo "$row" | awk -F'[ ]' '{print $3}')" $MiB
    expect_eq "$g: zramctl ZERO-PAGES is the 64 same-filled pages" "$(echo "$row" | awk -F'[ ]' '{print $7}')" 64
    [ -n "$streams" ] || note "$g: STREAMS is empty: $DRV has no max_comp_streams"
    check "$g: compact" sh -c "echo 1 > $SYS/compact"
    expect_eq "$g: zramctl MIGRATED after compact equals mm_stat's pages_compacted" \
        "$($ZC --bytes --raw --noheadings --output MIGRATED /dev/zram0)" "$(mm_stat_col 7)"
    echo 8M > $SYS/mem_limit
    expect_eq "$g: zramctl MEM-LIMIT after mem_limit=8M" \
        "$($ZC --bytes --raw --noheadings --output MEM-LIMIT /dev/zram0)" $((8 * MiB))
    all=$($ZC --output-all --bytes --raw)
    if [ $g = trixie ]; then
        expect_eq "$g: zramctl --output-all --bytes --raw: the header" "$(echo "$all" | head -n 1)" \
            "NAME DISKSIZE DATA COMPR ALGORITHM STREAMS ZERO-PAGES TOTAL MEM-LIMIT MEM-USED MIGRATED COMP-RATIO MOUNTPOINT"
        n=13
    else
        expect_eq "$g: zramctl --output-all --bytes --raw: the header" "$(echo "$all" | head -n 1)" \
            "NAME DISKSIZE DATA COMPR ALGORITHM STREAMS ZERO-PAGES TOTAL MEM-LIMIT MEM-USED MIGRATED MOUNTPOINT"
        n=12
    fi
    expect_eq "$g: zramctl --output-all: both devices, $n fields each" \
        "$(echo "$all" | awk -F'[ ]' 'NR > 1 {print $1, NF}' | sort | xargs)" "/dev/zram0 $n /dev/zram1 $n"
    expect_eq "$g: zramctl (default columns) lists zram0 and zram1" \
        "$($ZC --noheadings | awk '{print $1, $2}' | sort | xargs)" "/dev/zram0 lz4 /dev/zram1 zstd"
    check "$g: zramctl --reset /dev/zram1" $ZC --reset /dev/zram1
    expect_eq "$g: zramctl --reset /dev/zram1 removed it" "$(zram_devs)" zram0
    check "$g: zramctl --reset /dev/zram0" $ZC --reset /dev/zram0
    expect_eq "$g: zramctl --reset /dev/zram0 removed it too (hot_remove)" "$(zram_devs)" ""
    expect_eq "$g: zramctl lists nothing after the resets" "$($ZC --noheadings)" ""

    if [ $g = trixie ]; then
        # --algorithm-params: the same data at zstd level 1 and level 19.
        a=$($ZC --find --size 16M --algorithm zstd --algorithm-params level=1 2>&1)
        b=$($ZC --find --size 16M --algorithm zstd --algorithm-params level=19 2>&1)
        expect_eq "$g: zramctl --algorithm-params level=1 and level=19 set up two devices" \
            "$a $b $(cat /sys/block/${a#/dev/}/initstate /sys/block/${b#/dev/}/initstate | xargs)" "$a $b 1 1"
        same_data $a $b
        a=$(mm_stat_col 2 /sys/block/${a#/dev/}); b=$(mm_stat_col 2 /sys/block/${b#/dev/})
        note "$g: the same 1 MiB: compr_data_size $a at zstd level 1, $b at level 19"
        expect_num "$g: --algorithm-params reached the codec (level 19 stores the same data smaller)" "$b" -lt "$a"
        for d in $(zram_devs); do $ZC --reset /dev/$d; done
        expect_eq "$g: zramctl --reset of both" "$(zram_devs)" ""
    fi

    # zramctl --reset (reset, then hot_remove) of a device whose pages sit
    # on the backing device: it goes, and lets go of $BDEV.
    n=$(cat /sys/class/zram-control/hot_add); S=/sys/block/zram$n
    e=$( { echo $BDEV > $S/backing_dev && echo 16M > $S/disksize; } 2>&1)
    expect_eq "$g: zramctl: hot_add zram$n, backing_dev $BDEV, disksize 16M" "$e$(cat $S/backing_dev)" $BDEV
    same_data /dev/zram$n
    check "$g: zramctl: zram$n: echo all > idle; echo idle > writeback" sh -c "echo all > $S/idle && echo idle > $S/writeback"
    expect_num "$g: zramctl: zram$n: bd_count after writeback" "$(bd_col 1 $S)" -gt 0
    check "$g: zramctl --reset /dev/zram$n (pages on $BDEV)" $ZC --reset /dev/zram$n
    expect_eq "$g: zramctl --reset removed zram$n" "$(zram_devs)" ""
    n=$(cat /sys/class/zram-control/hot_add); S=/sys/block/zram$n
    expect_write "$g: zramctl: $BDEV free again: a new zram$n takes it as backing_dev" ok $S/backing_dev $BDEV
    check "$g: zramctl --reset /dev/zram$n (a backing device, never initialised)" $ZC --reset /dev/zram$n
    expect_eq "$g: zramctl --reset removed zram$n too" "$(zram_devs)" ""
    check "$g: modprobe -r zram after zramctl" $MODPROBE -r zram
}

# generator_writeback G: writeback-device='s effect on zram0 (set up,
# swapon and swapoff done): the swap header and 1 MiB at page 256 go to
# $BDEV and read back from it.
generator_writeback() {
    local g=$1 want c0 r0
    same_data $DEV
    # mm_stat: orig_data_size (bytes, same-filled pages included) and
    # same_pages; every other page is idle after "all" and goes.
    set -- $(cat $SYS/mm_stat)
    want=$(($1 / 4096 - $6)); c0=$2
    check "$g: zram0: echo all > idle; echo idle > writeback" sh -c "echo all > $SYS/idle && echo idle > $SYS/writeback"
    expect_num "$g: zram0: bd_count after writeback" "$(bd_col 1)" -gt 0
    expect_eq "$g: zram0: bd_count is every stored page not same-filled ($want)" "$(bd_col 1)" $want
    expect_num "$g: zram0: compr_data_size fell" "$(mm_stat_col 2)" -lt $c0
    drop_caches
    r0=$(bd_col 2)
    expect_eq "$g: zram0: the 1 MiB reads back after writeback and drop_caches" \
        "$(md5_dev $DEV 256 256)" "$(md5_file /usr/sbin/fio 0 256)"
    expect_eq "$g: zram0: the swap header reads back" "$(dd if=$DEV bs=1 skip=4086 count=10 2>/dev/null)" SWAPSPACE2
    expect_num "$g: zram0: those reads came from $BDEV (bd_reads)" "$(bd_col 2)" -gt "$r0"
}

# generator_recomp G ZG: trixie's zram2, lz4 with zstd and deflate for
# recompression. C zram without CONFIG_ZRAM_MULTI_COMP (Debian's) has no
# recomp_algorithm: 1.2.1 then warns and sets up the primary alone.
generator_recomp() {
    local g=$1 ZG=$2 S=/sys/block/zram2 n a b
    n=$(dmesg | wc -l)
    check "$g: zram-generator --setup-device zram2 (lz4 zstd deflate(level=9) (type=idle))" $ZG --setup-device zram2
    kmsg_since $n | grep zram_generator | sed "s/^/# $g: kmsg: /"
    if ! has_recomp $S; then
        expect_eq "$g: zram2: lz4, and the generator's warning: recompression not available" \
            "$(current $S/comp_algorithm) $(kmsg_since $n | grep -c 'recompression not available')" "lz4 2"
        skip "$g: zram2's recompression ($DRV has no recomp_algorithm: CONFIG_ZRAM_MULTI_COMP off)"
    else
        expect_eq "$g: zram2: lz4 primary, zstd at priority 1, deflate at priority 2" \
            "$(current $S/comp_algorithm) $(sed -n 's/^#\([0-9]\): .*\[\([^]]*\)\].*/\1:\2/p' $S/recomp_algorithm | xargs)" \
            "lz4 1:zstd 2:deflate"
        expect_eq "$g: zram2: deflate's (level=9), written to recompress before init, refused (EINVAL)" \
            "$(kmsg_since $n | grep 'supplemental data' | grep -c 'os error 22')" 1
        same_data /dev/zram2
        a=$(mm_stat_col 2 $S)
        check "$g: zram2: echo all > idle; echo type=idle priority=1 > recompress" \
            sh -c "echo all > $S/idle && echo 'type=idle priority=1' > $S/recompress"
        b=$(mm_stat_col 2 $S)
        note "$g: zram2: swap header and the 1 MiB: compr_data_size $a with lz4, $b after recompress with zstd"
        expect_num "$g: zram2: recompress with priority 1 (zstd) shrinks what lz4 stored" "$b" -lt "$a"
        drop_caches
        expect_eq "$g: zram2: the recompressed 1 MiB reads back" "$(md5_dev /dev/zram2 256 256)" "$(md5_file /usr/sbin/fio 0 256)"
    fi
    check "$g: zram-generator --reset-device zram2" $ZG --reset-device zram2
    if has_recomp $S; then
        expect_eq "$g: --reset-device zram2: uninitialised, no recompression algorithm left" \
            "$(cat $S/initstate) $(cat $S/recomp_algorithm)" "0 "
    else
        expect_eq "$g: --reset-device zram2: uninitialised" "$(cat $S/initstate)" 0
    fi
}

# --- zram-generator, generation G with command ZG, as systemd runs it: the
# generator at boot (loads the module with `modprobe zram`, adds the devices
# the config names, writes the units), then the units' --setup-device and
# --reset-device.
generator_cases() {
    local g=$1 ZG=$2 G=/tmp/generator prio opts alg1 devs a b
    generator_conf $g
    rm -rf $G; mkdir -p $G
    out=$($ZG $G 2>&1)
    expect_eq "$g: zram-generator (generator run) succeeds" "$?" 0
    echo "$out" | grep -v '^$' | sed "s/^/# $g: zram-generator: /"
    expect_eq "$g: zram-generator loaded $DRV through modprobe zram" "$(loaded)" "$DRV"
    devs="zram0 zram1"; [ $g = trixie ] && devs="$devs zram2"
    expect_eq "$g: zram-generator added the devices the config names" "$(zram_devs)" "$devs"
    check "$g: zram-generator wrote dev-zram0.swap with swap-priority 42" \
        grep -qx 'Priority=42' $G/dev-zram0.swap
    check "$g: dev-zram0.swap is for /dev/zram0 and wanted by swap.target" \
        sh -c "grep -qx 'What=/dev/zram0' $G/dev-zram0.swap && test -e $G/swap.target.wants/dev-zram0.swap"
    check "$g: zram-generator --setup-device zram0" $ZG --setup-device zram0
    expect_eq "$g: --setup-device zram0: disksize, algorithm, initstate as the config says" \
        "$(cat $SYS/disksize) $(current $SYS/comp_algorithm) $(cat $SYS/initstate)" "$((64 * MiB)) zstd 1"
    expect_eq "$g: --setup-device zram0: backing_dev from writeback-device=" "$(cat $SYS/backing_dev)" $BDEV
    if [ $g = trixie ]; then
        expect_eq "$g: --setup-device zram0: mem_limit from zram-resident-limit" "$(mm_stat_col 4)" $((16 * MiB))
    fi
    expect_eq "$g: --setup-device zram0: systemd-makefs made swap" \
        "$(dd if=$DEV bs=1 skip=4086 count=10 2>/dev/null)" SWAPSPACE2
    # The swap unit's Priority= and Options=, as systemd passes them to
    # util-linux swapon (busybox's has no -p).
    prio=$(sed -n 's/^Priority=//p' $G/dev-zram0.swap)
    opts=$(sed -n 's/^Options=//p' $G/dev-zram0.swap)
    check "$g: swapon -p $prio ${opts:+-o $opts }/dev/zram0 (the swap unit's)" swapon-ul -p "$prio" ${opts:+-o "$opts"} $DEV
    expect_eq "$g: /proc/swaps: zram0 at priority 42" "$(awk '$1 == "/dev/zram0" {print $5}' /proc/swaps)" 42
    check "$g: swapoff /dev/zram0" swapoff $DEV
    # zram0 holds $BDEV exclusively.
    expect_write "$g: zram1 backing_dev $BDEV while zram0 holds it: EBUSY" "$E_BUSY" /sys/block/zram1/backing_dev $BDEV
    check "$g: zram-generator --setup-device zram1" $ZG --setup-device zram1
    alg1=lz4; [ $g = trixie ] && alg1=zstd
    expect_eq "$g: --setup-device zram1: disksize, algorithm as the config says, no backing device" \
        "$(cat /sys/block/zram1/disksize) $(current /sys/block/zram1/comp_algorithm) $(cat /sys/block/zram1/backing_dev)" \
        "$((32 * MiB)) $alg1 none"
    if [ $g = trixie ]; then
        same_data /dev/zram0 /dev/zram1
        a=$(mm_stat_col 2 /sys/block/zram0); b=$(mm_stat_col 2 /sys/block/zram1)
        note "$g: swap header and the same 1 MiB: compr_data_size $a at zstd(level=1), $b at zstd(level=19)"
        expect_num "$g: the config's algorithm parameters reached the codec (level 19 stores the same data smaller)" "$b" -lt "$a"
    fi
    generator_writeback $g
    [ $g = trixie ] && generator_recomp $g $ZG
    check "$g: zram-generator --reset-device zram0" $ZG --reset-device zram0
    expect_eq "$g: --reset-device zram0: uninitialised, disksize 0, backing_dev none, bd_count 0" \
        "$(cat $SYS/initstate) $(cat $SYS/disksize) $(cat $SYS/backing_dev) $(bd_col 1)" "0 0 none 0"
    check "$g: zram-generator --reset-device zram1" $ZG --reset-device zram1
    expect_eq "$g: --reset-device zram1: uninitialised, device kept" "$(cat /sys/block/zram1/initstate) $(zram_devs)" "0 $devs"
    # reset closed $BDEV: it can be opened exclusively again.
    expect_write "$g: after --reset-device zram0, zram1 takes $BDEV as backing_dev" ok /sys/block/zram1/backing_dev $BDEV
    check "$g: reset zram1 (never initialised) lets go of $BDEV" \
        sh -c "echo 1 > /sys/block/zram1/reset && grep -qx none /sys/block/zram1/backing_dev"
    expect_err "$g: zram-generator --setup-device zram5 (not configured) fails" "zram5" "$ZG --setup-device zram5"
    check "$g: modprobe -r zram at the end" $MODPROBE -r zram
    expect_eq "$g: nothing loaded at the end" "$(loaded)" ""
}

for g in $GENS; do
    set -- $(tools_of $g)
    zramctl_cases $g $1
    generator_cases $g $2
done
summary
