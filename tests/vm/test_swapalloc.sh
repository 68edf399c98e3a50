# Swap pressure on each allocator: swap on $DEV with zbud and z3fold (and,
# in the long variant, zsmalloc with zstd and the lz4 variants; test_swap
# covers zsmalloc with the default codec), memhog fills a multiple of the
# memory the guest has available and verifies every page after it comes
# back from swap. Under C zram (no allocator attribute) the codecs run on
# its default zsmalloc.
#
# zbud keeps at most two objects in a pool page, z3fold three: memhog's mix
# (7/8 compressible or random pages) then needs about 0.47 (zbud) or 0.33
# (z3fold) of a page per swapped page, so the multiple is what each
# allocator can hold without the OOM killer.
#
# To keep the run short under TCG, a ramfs file (never swapped) first takes
# the memory above a target, so MemAvailable, and with it memhog's size,
# stays small: the pressure relative to what is left is the same.
. /tests/lib.sh

# The long variant on the debug kernel, where a memhog run takes a quarter
# of an hour, verifies one pass per allocator, alternating the codecs.
DEBUG_KERNEL=0
debug_kernel && DEBUG_KERNEL=1
if [ "$SMOKE" = 1 ]; then
    PASSES=1; TARGET_MB=48
    if is_rzram; then cases="zbud/zstd z3fold/zstd"; else cases="default/zstd"; fi
elif [ $DEBUG_KERNEL = 1 ]; then
    PASSES=1; TARGET_MB=128
    if is_rzram; then cases="zbud/zstd z3fold/lz4 zsmalloc/zstd"; else cases="default/zstd"; fi
else
    PASSES=2; TARGET_MB=128
    if is_rzram; then
        cases="zbud/zstd z3fold/zstd zsmalloc/zstd zbud/lz4 z3fold/lz4"
    else
        cases="default/zstd default/lz4"
    fi
fi

# factor ALLOC: the size of memhog, in tenths of MemAvailable (+ Shmem);
# the short variant only makes sure a good part of memhog goes to swap.
# On the debug kernel (kmemleak present) every kernel object carries KASAN,
# SLUB and kmemleak metadata and the guest has a quarter less memory, so
# the multiples there are smaller: that run is for the detectors, the base
# kernel's for capacity.
factor() {
    [ "$SMOKE" = 1 ] && { echo 12; return; }
    case $DEBUG_KERNEL/$1 in
        0/zbud) echo 15 ;;
        0/z3fold) echo 18 ;;
        0/*) echo 20 ;;
        1/zbud) echo 11 ;;
        1/z3fold) echo 13 ;;
        1/*) echo 15 ;;
    esac
}
note "cases: $cases; memhog passes $PASSES; MemAvailable held near $TARGET_MB MiB; debug kernel $DEBUG_KERNEL"

check "modprobe $DRV" load
drop_caches
mkdir -p /mnt/pin
check "mount a ramfs for the ballast" mount -t ramfs ramfs /mnt/pin
swap_reserve
avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
if [ $avail -gt $TARGET_MB ]; then
    check "ballast of $((avail - TARGET_MB)) MiB in ramfs" dd if=/dev/zero of=/mnt/pin/ballast bs=1M count=$((avail - TARGET_MB))
fi
note "MemAvailable $avail MiB before the ballast; after: $(grep -E 'MemAvailable|Shmem:' /proc/meminfo | tr -s ' \n' ' ')"
t0=$(date +%s)
for c in $cases; do
    alloc=${c%/*}; alg=${c#*/}
    tag=$c
    if [ "$alloc" != default ]; then
        check_sh "$tag: allocator $alloc" "echo $alloc > $SYS/allocator"
    fi
    check_sh "$tag: comp_algorithm $alg" "echo $alg > $SYS/comp_algorithm"
    check_sh "$tag: disksize 1G" "echo 1G > $SYS/disksize"
    check "$tag: mkswap" mkswap $DEV
    check "$tag: swapon" swapon $DEV
    # The memory memhog can get: MemAvailable plus Shmem, since the
    # initramfs (tmpfs, with fio's libraries) and /tmp can go to swap too.
    drop_caches
    avail=$(awk '/MemAvailable|Shmem:/ {n += $2} END {print int(n / 1024)}' /proc/meminfo)
    f=$(factor $alloc)
    size=$((avail * f / 10))
    note "$tag: MemAvailable + Shmem ${avail} MiB, memhog ${size} MiB (x$f/10), $PASSES passes"
    start=$(date +%s)
    oom_mark
    slab_watch_start
    out=$(memhog "$size" --passes $PASSES --prefix 256 --seed $((start % 1000)) 2>&1); rc=$?
    slab_watch_stop
    if [ $rc = 0 ]; then
        if echo "$out" | grep -q '^memhog: PASS'; then
            pass "$tag: memhog verified $size MiB through swap"
        else
            fail "$tag: memhog: no PASS line"
        fi
    else
        echo "$out" | tail -n 5 | sed 's/^/# /'
        fail "$tag: memhog failed: $(echo "$out" | tail -n 1)"
    fi
    note "$tag: memhog took $(($(date +%s) - start)) s"
    no_oom "$tag: no OOM kill"
    swapped=$(echo "$out" | sed -n 's/.*VmSwap: *\([0-9]*\) kB.*/\1/p' | sort -n | tail -n 1)
    if [ "$SMOKE" = 1 ]; then
        # memhog is only 1.2x the available memory here, and that memory
        # includes Shmem, which can go to swap in memhog's place, so only
        # the excess is sure to be swapped: want at least half of it from
        # memhog (a bar near the whole excess depends on how many pages
        # the pool itself takes).
        want=$(((size - avail) * 1024 / 2))
        expect_num "$tag: memhog's VmSwap peak in kB exceeds half of its excess over the available memory" "${swapped:-0}" -gt $want
    else
        # 2/3 of the available memory, or a third of memhog if that is
        # less (the debug kernel's 1.1x and 1.3x, where most of Shmem is the
        # unswappable ballast: there the peak was 49% of memhog in runs with
        # the swap reserve, as the pool itself takes memory memhog had).
        want=$((avail * 2 / 3)); [ $((size / 3)) -lt $want ] && want=$((size / 3))
        expect_num "$tag: memhog's VmSwap peak in kB exceeds $want MiB" "${swapped:-0}" -gt $((want * 1024))
    fi
    expect_num "$tag: mem_used_max" "$(mm_stat_col 5)" -gt 0
    expect_num "$tag: huge pages were stored (huge_pages_since)" "$(mm_stat_col 9)" -gt 0
    expect_num "$tag: slots freed through swap_slot_free_notify (notify_free)" "$(io_stat_col 4)" -gt 1000
    swap_io_ok "$tag"
    if [ "$alloc" != default ]; then
        expect_num "$tag: debugfs classes name $alloc" "$(grep -c "$alloc" $DBG/${DRV}0/classes 2>/dev/null)" -ge 1
    fi
    note "$tag: mm_stat $(cat $SYS/mm_stat)"
    note "$tag: io_stat $(cat $SYS/io_stat)"
    check "$tag: swapoff" swapoff $DEV
    expect_eq "$tag: after swapoff only the swap header is stored" "$(mm_stat_col 1)" 4096
    check_sh "$tag: compact" "echo 1 > $SYS/compact"
    check_sh "$tag: reset" "echo 1 > $SYS/reset"
done
note "all cases took $(($(date +%s) - t0)) s"
rm -f /mnt/pin/ballast
check "umount the ramfs" umount /mnt/pin
check "rmmod $DRV" unload
summary
