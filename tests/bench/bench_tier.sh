# Automatic tiering measured in one boot (issue 18; `make bench-tier`,
# scripts/bench-tier.sh): swap at 3x the guest's memory with a pool cap of
# a quarter of it, on
#   rzram-<allocator>  writeback_auto=1, swap_readahead=1, mem_limit,
#                      backing_dev a disk
#   rzram-<alloc>-sync the default allocator without swap_readahead (a
#                      synchronous disk, as zram)
#   zswap              enabled, shrinker on, max_pool_percent 25, lz4,
#                      over swap on a disk
#   zram               C zram, the same mem_limit and backing_dev, no
#                      automatic writeback (expected to fail writes or OOM)
# then a file system larger than memory: ext4 on rzram (4x the memory,
# mem_limit, writeback_auto=1) holding a tree of 2x the memory, verified by
# checksums, remounted and verified again.
#
# "The guest's memory" is MemTotal (MiB). Each column has a virtio disk of
# its own, whole, the extra disks scripts/bench-tier.sh attaches (/dev/vdb,
# /dev/vdc, ... in column order: same size, same kind, fresh), so no
# column finds another's data or a disk another has not yet let go of;
# without them every column takes /dev/vda in turn. Bytes written and read
# are the disk's /sys/block/<disk>/stat sectors (x 512), before and after. The rzram
# columns need writeback_auto (skipped, with a SKIP line, where the driver
# lacks it). C zram runs last: if its guest locks up under the OOM killer,
# the columns before it are already printed.
#
# Raw lines for the host (scripts/bench-tier.sh makes the tables):
#   BENCHTIER <col> <key>=<value>...   one per swap column
#   BENCHFS <key>=<value>...           the file-system run
# SMOKE=1: 1.5x instead of 3x, a tree of 0.5x (checks the script only).
. /tests/lib.sh
. /tests/lib_wb.sh

# dev_down SYSDIR: reset the device; fatal if refused. (lib_bench.sh's,
# which this script does not source: without it every reset was a "not
# found" and the next column found rzram0 still set up.)
dev_down() {
    local e
    e=$(set_attr "$1/reset" 1) || fatal "${1##*/}: $e"
}

# The bench shell must outlive an OOM kill: only memhog is a candidate
# (run_hog sets its score back to 0).
echo -1000 > /proc/self/oom_score_adj

MEM=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
if [ "$SMOKE" = 1 ]; then HOG=$((MEM * 3 / 2)); TREE=$((MEM / 2)); else HOG=$((MEM * 3)); TREE=$((MEM * 2)); fi
LIMIT=$((MEM / 4))
# The swap device: room for all of memhog (what stays in RAM aside), as 4x
# the memory; the file system's device: 4x the memory, as the issue says.
SWAP_MIB=$((MEM * 4))
FS_MIB=$((MEM * 4))
# A bound on each memhog run: an OOM-thrashing guest can run for a long
# time without finishing; what is still running then is killed (TIMEOUT).
HOG_TMO=${HOG_TMO:-420}
# The same for writing the file-system tree (2x the memory, through ext4).
FS_TMO=1200
CODEC=lz4
# The backing disks, one per column in turn (take_disk).
DISKS=
for d in /dev/vd[b-z]; do [ -b "$d" ] && DISKS="$DISKS $d"; done
DISKS=${DISKS# }
[ -n "$DISKS" ] || DISKS=$BDEV
set -- $DISKS
DISK_MIB=$(($(cat /sys/block/${1#/dev/}/size) / 2048))
# take_disk: the next disk of DISKS (the last one again when they run
# out) becomes BDEV and DISKNAME.
take_disk() {
    set -- $DISKS
    BDEV=$1
    [ $# -le 1 ] || { shift; DISKS=$*; }
    DISKNAME=${BDEV#/dev/}
}

# disk_wr / disk_rd: bytes written to / read from the backing disk so far
# (sectors x 512).
disk_wr() { awk '{print $7 * 512}' /sys/block/$DISKNAME/stat; }
disk_rd() { awk '{print $3 * 512}' /sys/block/$DISKNAME/stat; }
# OOM kills: the test kernel has no vm event counters (no oom_kill in
# /proc/vmstat), and the kernel log's ring buffer can lose the oldest lines
# to C zram's write errors, so every kernel message is kept from the start
# in /tmp/kmsg (a reader of /dev/kmsg) and the kills are counted there.
cat /dev/kmsg > /tmp/kmsg 2>/dev/null &
KMSG_PID=$!
oom_kills() { grep -c 'invoked oom-killer' /tmp/kmsg; }
zswap_dbg() { cat /sys/kernel/debug/zswap/$1 2>/dev/null || echo 0; }

wb_disk
load
has_auto=0
[ -e $SYS/writeback_auto ] && has_auto=1
swap_reserve
note "tier: MemTotal $MEM MiB, memhog $HOG MiB (--passes 1), mem_limit $LIMIT MiB, swap devices $SWAP_MIB MiB, backing disks $# of $DISK_MIB MiB ($DISKS), codec $CODEC, writeback_auto $( [ $has_auto = 1 ] && echo present || echo absent)"

# run_hog COL: memhog through whatever swap is on, bounded by HOG_TMO; sets
# HOG_SECS, HOG_RC, HOG_VERDICT (PASS, FAIL, OOM, TIMEOUT, EXIT<rc>),
# HOG_OOM (OOM kills during it), HOG_DISK (bytes written to $BDEV),
# HOG_DISKRD (bytes read from it), HOG_SWAP (memhog's peak VmSwap, kB).
run_hog() {
    local oom0 d0 r0 t0 out
    sync; echo 3 > /proc/sys/vm/drop_caches
    oom0=$(oom_kills); d0=$(disk_wr); r0=$(disk_rd)
    t0=$(uptime_cs)
    out=$(sh -c "echo 0 > /proc/self/oom_score_adj; exec timeout $HOG_TMO memhog $HOG --passes 1 --prefix 256" 2>&1)
    HOG_RC=$?
    HOG_SECS=$(secs_since "$t0")
    # A run that timed out: what the device and the blocked tasks were
    # doing at the end goes to the log (sysrq w: tasks in D state, with
    # their stacks, in the kernel log), so a stall can be told apart from
    # slowness.
    if [ $HOG_RC = 143 ] || [ $HOG_RC = 124 ]; then
        note "$1: timed out: mm_stat $(cat $SYS/mm_stat 2>/dev/null); bd_stat $(cat $SYS/bd_stat 2>/dev/null); $BDEV stat $(cat /sys/block/$DISKNAME/stat)"
        echo w > /proc/sysrq-trigger
    fi
    sync
    # The kill's report reaches /tmp/kmsg through the reader: a moment.
    sleep 1
    HOG_OOM=$(($(oom_kills) - oom0))
    # Only memhog can be killed (everything else has oom_score_adj -1000)
    # and nothing else sends it SIGKILL (timeout sends SIGTERM): exit 137
    # is an OOM kill even if the reader missed its report.
    if [ $HOG_RC = 137 ] && [ $HOG_OOM = 0 ]; then
        note "$1: memhog got SIGKILL but /tmp/kmsg holds no OOM report (reader behind?): counted as one kill"
        HOG_OOM=1
    fi
    HOG_DISK=$(($(disk_wr) - d0)); HOG_DISKRD=$(($(disk_rd) - r0))
    HOG_SWAP=$(echo "$out" | sed -n 's/.*VmSwap: *\([0-9]*\) kB.*/\1/p' | sort -n | tail -n 1)
    HOG_SWAP=${HOG_SWAP:-0}
    if [ $HOG_RC = 0 ] && echo "$out" | grep -q '^memhog: PASS'; then HOG_VERDICT=PASS
    elif [ $HOG_OOM -gt 0 ]; then HOG_VERDICT=OOM
    elif [ $HOG_RC = 143 ] || [ $HOG_RC = 124 ]; then HOG_VERDICT=TIMEOUT
    elif echo "$out" | grep -q '^memhog: FAIL'; then HOG_VERDICT=FAIL
    else HOG_VERDICT=EXIT$HOG_RC
    fi
    echo "$out" | tail -n 2 | sed "s/^/# $1: /"
    note "$1: memhog $HOG_VERDICT in $HOG_SECS s (exit $HOG_RC), OOM kills $HOG_OOM, $BDEV written $HOG_DISK bytes, read $HOG_DISKRD bytes, VmSwap peak $HOG_SWAP kB"
}

# hog_line COL FAILED_WRITES EXTRA...: the column's BENCHTIER line.
hog_line() {
    local col=$1 fw=$2
    shift 2
    echo "BENCHTIER $col disk=$DISKNAME verdict=$HOG_VERDICT secs=$HOG_SECS failed_writes=$fw oom=$HOG_OOM disk_bytes=$HOG_DISK disk_read_bytes=$HOG_DISKRD vmswap_kb=$HOG_SWAP $*"
}

# A column's set-up may be refused (a driver without the attribute, a
# limit it does not take): the column is reported as SETUP and the next
# one runs; it is a FAIL line, not the end of the benchmark.
setup_failed() {
    fail "$1: set-up: $2"
    echo "BENCHTIER $1 verdict=SETUP"
}

# col_rzram ALLOC RA: rzram with ALLOC, lz4, backing_dev, mem_limit and
# writeback_auto=1, as swap; swap_readahead=1 where RA is 1 (column
# rzram-ALLOC), else the synchronous disk zram is (rzram-ALLOC-sync).
col_rzram() {
    local col=rzram-$1 e
    [ "$2" = 1 ] || col=$col-sync
    if [ $has_auto = 0 ]; then
        skip "$col: the driver has no writeback_auto"
        echo "BENCHTIER $col verdict=SKIP"
        return
    fi
    take_disk
    e=$(set_attr $SYS/backing_dev $BDEV) || { setup_failed $col "$e"; return; }
    e=$(set_attr $SYS/allocator $1) || { setup_failed $col "$e"; dev_down $SYS; return; }
    e=$(set_attr $SYS/comp_algorithm $CODEC) || { setup_failed $col "$e"; dev_down $SYS; return; }
    if [ "$2" = 1 ]; then
        e=$(set_attr $SYS/swap_readahead 1) || { setup_failed $col "$e"; dev_down $SYS; return; }
    fi
    e=$(set_attr $SYS/disksize ${SWAP_MIB}M) || { setup_failed $col "$e"; dev_down $SYS; return; }
    e=$(set_attr $SYS/mem_limit ${LIMIT}M) || { setup_failed $col "$e"; dev_down $SYS; return; }
    e=$(set_attr $SYS/writeback_auto 1) || { setup_failed $col "$e"; dev_down $SYS; return; }
    note "$col: writeback_watermarks $(cat $SYS/writeback_watermarks 2>/dev/null)"
    swap_on $DEV
    run_hog $col
    note "$col: mm_stat $(cat $SYS/mm_stat); io_stat $(cat $SYS/io_stat); bd_stat $(cat $SYS/bd_stat)"
    hog_line $col "$(io_stat_col 2)" "bd_writes=$(bd_col 3) bd_reads=$(bd_col 2) pool_max=$(mm_stat_col 5)"
    # The issue's targets for rzram: memhog verified, no OOM kill, no
    # failed write (the times against zswap's are for the table).
    expect_eq "$col: memhog verified $HOG MiB" $HOG_VERDICT PASS
    expect_eq "$col: no OOM kill" $HOG_OOM 0
    expect_eq "$col: no failed write (io_stat)" "$(io_stat_col 2)" 0
    check "$col: swapoff" timeout 300 swapoff $DEV
    dev_down $SYS
    released $col
}

# released COL: after reset the device must be back to its state after
# load and the column's backing disk free again: backing_dev takes it at
# once, as it does after a device that used manual writeback. A full run
# found rzram0 after a swap run with writeback_auto still refusing
# backing_dev (EBUSY) and still reading the old disk. Tries for up to
# 10 s; the device is reset again either way.
released() {
    local t0 e ok=0
    t0=$(uptime_cs)
    note "$1: after reset: initstate $(cat $SYS/initstate), disksize $(cat $SYS/disksize), backing_dev $(cat $SYS/backing_dev)"
    while :; do
        if e=$(set_attr $SYS/backing_dev $BDEV); then ok=1; break; fi
        [ $(($(uptime_cs) - t0)) -lt 1000 ] || break
        usleep 200000
    done
    if [ $ok = 1 ]; then
        pass "$1: after reset, backing_dev takes $BDEV again ($(secs_since $t0) s)"
    else
        fail "$1: after reset, backing_dev $BDEV still refused after 10 s: $e (initstate $(cat $SYS/initstate), backing_dev $(cat $SYS/backing_dev))"
    fi
    dev_down $SYS
}

# col_zswap: zswap (lz4, shrinker on, max_pool_percent 25) in front of
# swap on the whole backing disk; its debugfs counters are since boot, so
# the column takes differences. zswap is switched off again after it.
col_zswap() {
    local p=/sys/module/zswap/parameters wb0 lim0 rej0 e
    [ -d $p ] || { setup_failed zswap "no $p (kernel without CONFIG_ZSWAP)"; return; }
    for kv in compressor=$CODEC max_pool_percent=25 shrinker_enabled=Y enabled=Y; do
        e=$(set_attr $p/${kv%%=*} ${kv#*=}) || { setup_failed zswap "$e"; echo N > $p/enabled; return; }
    done
    note "zswap: $(for f in enabled compressor max_pool_percent shrinker_enabled accept_threshold_percent; do printf '%s=%s ' $f "$(cat $p/$f)"; done)"
    take_disk
    swap_on $BDEV
    wb0=$(zswap_dbg written_back_pages); lim0=$(zswap_dbg pool_limit_hit)
    rej0=$(($(zswap_dbg reject_reclaim_fail) + $(zswap_dbg reject_alloc_fail) + $(zswap_dbg reject_compress_fail)))
    run_hog zswap
    note "zswap: written_back_pages $(zswap_dbg written_back_pages) pool_limit_hit $(zswap_dbg pool_limit_hit) stored_pages $(zswap_dbg stored_pages) pool_total_size $(zswap_dbg pool_total_size)"
    hog_line zswap n/a "bd_writes=$(($(zswap_dbg written_back_pages) - wb0)) pool_limit_hit=$(($(zswap_dbg pool_limit_hit) - lim0)) rejects=$(($(zswap_dbg reject_reclaim_fail) + $(zswap_dbg reject_alloc_fail) + $(zswap_dbg reject_compress_fail) - rej0))"
    check "zswap: swapoff" swapoff $BDEV
    echo N > $p/enabled
}

# col_zram: C zram with the same mem_limit and backing_dev and nothing that
# writes back: over the limit its writes fail, and swap keeps those pages
# in memory.
col_zram() {
    local z=/sys/block/zram0 e
    load_module zram
    take_disk
    e=$(set_attr $z/backing_dev $BDEV) || { setup_failed zram "$e"; return; }
    e=$(set_attr $z/comp_algorithm $CODEC) || { setup_failed zram "$e"; dev_down $z; return; }
    e=$(set_attr $z/disksize ${SWAP_MIB}M) || { setup_failed zram "$e"; dev_down $z; return; }
    e=$(set_attr $z/mem_limit ${LIMIT}M) || { setup_failed zram "$e"; dev_down $z; return; }
    swap_on /dev/zram0
    run_hog zram
    note "zram: mm_stat $(cat $z/mm_stat); io_stat $(cat $z/io_stat); bd_stat $(cat $z/bd_stat)"
    hog_line zram "$(io_stat_col 2 $z)" "bd_writes=$(bd_col 3 $z) bd_reads=$(bd_col 2 $z) pool_max=$(mm_stat_col 5 $z)"
    check "zram: swapoff" swapoff /dev/zram0
    dev_down $z
}

# The file system: ext4 on rzram (zsmalloc, lz4) of FS_MIB, mem_limit,
# writeback_auto=1 on $BDEV. The tree is copies of the guest's binaries
# and modules; each file of copy N starts with a header line of its own
# length (N-dependent), so no two copies hold the same pages (a block
# read from the wrong place changes a checksum). Checksums are taken from
# the stream as it is written; verified with caches dropped, then after
# umount and mount.
fs_run() {
    local e t0 d0 n=0 bytes=0 f dst w v1 v2 bad1 bad2
    if [ $has_auto = 0 ]; then
        skip "fs: the driver has no writeback_auto"
        echo "BENCHFS verdict=SKIP"
        return
    fi
    take_disk
    e=$(set_attr $SYS/backing_dev $BDEV) || { fail "fs: set-up: $e"; echo "BENCHFS verdict=SETUP"; return; }
    dev_init $SYS ${FS_MIB}M $DEF_ALLOC/$CODEC
    e=$(set_attr $SYS/mem_limit ${LIMIT}M) || { fail "fs: set-up: $e"; echo "BENCHFS verdict=SETUP"; dev_down $SYS; return; }
    e=$(set_attr $SYS/writeback_auto 1) || { fail "fs: set-up: $e"; echo "BENCHFS verdict=SETUP"; dev_down $SYS; return; }
    check "fs: mkfs.ext4" mkfs.ext4 -q $DEV
    check "fs: mount" mount -t ext4 $DEV /mnt
    find /bin/busybox /bin/memhog /bin/dio-check /usr /lib -type f 2>/dev/null | sort > /tmp/fsfiles
    d0=$(disk_wr)
    : > /tmp/fssums
    t0=$(uptime_cs)
    # Bounded like the memhog runs: a device that stalls ends the tree
    # (the size check below then fails) instead of the whole boot.
    while [ $((bytes / 1048576)) -lt $TREE ] && [ $(($(uptime_cs) - t0)) -lt $((FS_TMO * 100)) ]; do
        n=$((n + 1))
        while read -r f; do
            dst=/mnt/c$n$f
            mkdir -p "${dst%/*}"
            w=$({ printf "copy %d of %s %0$((n * 97 % 3000 + 1))d\n" $n "$f" 0; cat "$f"; } | tee "$dst" | md5sum)
            echo "${w%% *}  $dst" >> /tmp/fssums
        done < /tmp/fsfiles
        bytes=$(du -sk /mnt | awk '{print $1 * 1024}')
    done
    sync
    w=$(secs_since "$t0")
    note "fs: wrote $n copies, $(wc -l < /tmp/fssums) files, $((bytes / 1048576)) MiB in $w s; mm_stat $(cat $SYS/mm_stat); bd_stat $(cat $SYS/bd_stat)"
    expect_num "fs: the tree is at least ${TREE} MiB" $((bytes / 1048576)) -ge $TREE
    drop_caches
    t0=$(uptime_cs)
    bad1=$(md5sum -c /tmp/fssums 2>&1 | grep -c -v -e ': OK$' -e '^md5sum: WARNING')
    v1=$(secs_since "$t0")
    expect_eq "fs: every checksum matches (caches dropped)" "$bad1" 0
    check "fs: umount" umount /mnt
    check "fs: e2fsck -fn" e2fsck -fn $DEV
    check "fs: mount again" mount -t ext4 $DEV /mnt
    t0=$(uptime_cs)
    bad2=$(md5sum -c /tmp/fssums 2>&1 | grep -c -v -e ': OK$' -e '^md5sum: WARNING')
    v2=$(secs_since "$t0")
    expect_eq "fs: every checksum matches after the remount" "$bad2" 0
    check "fs: umount at the end" umount /mnt
    note "fs: mm_stat $(cat $SYS/mm_stat); io_stat $(cat $SYS/io_stat); bd_stat $(cat $SYS/bd_stat)"
    echo "BENCHFS disk=$DISKNAME verdict=$([ "$bad1$bad2" = 00 ] && echo PASS || echo FAIL) mib=$((bytes / 1048576)) files=$(wc -l < /tmp/fssums) copies=$n write_secs=$w verify_secs=$v1 remount_verify_secs=$v2 bad=$bad1/$bad2 failed_writes=$(io_stat_col 2) failed_reads=$(io_stat_col 1) disk_bytes=$(($(disk_wr) - d0)) bd_stat=$(tr -s ' ' , < $SYS/bd_stat | sed 's/^,//') mm_stat=$(tr -s ' ' , < $SYS/mm_stat | sed 's/^,//')"
    rm -f /tmp/fssums /tmp/fsfiles
    dev_down $SYS
}

oom_mark
for a in $ALLOCATORS; do col_rzram $a 1; done
col_rzram $DEF_ALLOC 0
col_zswap
fs_run
col_zram
kill $KMSG_PID 2>/dev/null
note "OOM kills in the whole run: $(oom_kills)"
summary
