# fio stress for every allocator x (lz4, zstd) (under C zram: each codec on
# its default allocator): four concurrent jobs, each on its own region,
# random 4 KiB O_DIRECT writes then verified reads, while a background loop
# writes `compact` the whole time. Each region holds one kind of page: zero,
# same-filled with a non-zero word, compressible (fio's
# buffer_compress_percentage) or random (incompressible, huge). A second pass
# rotates the kinds between the regions and overwrites everything, so objects
# of every size are freed and reallocated under compaction. Then, with
# compaction stopped, fio re-reads and verifies every block (verify_only),
# and mm_stat/io_stat must add up. Last, every other page of the
# compressible region is overwritten with zeros (freeing its objects), one
# more compaction must give pool pages back (zsmalloc), and the region and
# the other regions must still read back.
#
# Random and compressible pages are verified with crc32c; fio puts a header
# with the checksum in each block, which would make a same-filled page not
# same-filled, so the zero and pattern regions use verify=pattern (every
# byte compared with the pattern) instead.
. /tests/lib.sh

if [ "$SMOKE" = 1 ]; then
    REGION_MB=2; variant="short"
elif debug_kernel; then
    # KASAN and the other checks make each combination several times slower.
    REGION_MB=12; variant="long, debug kernel: every combination"
else
    REGION_MB=24; variant="long: every combination"
fi
REGION_PAGES=$((REGION_MB * 256))
DISK_MB=$((REGION_MB * 4))
note "sizes: 4 jobs x $REGION_MB MiB regions (${DISK_MB} MiB device), 2 write+verify passes and a verify_only pass per combination ($variant)"

load
# Every allocator with lz4 and zstd; the short variant each allocator once,
# the codecs in turn (cases in lib_dev.sh).
if [ "$SMOKE" = 1 ]; then cases -r lz4 zstd; else cases lz4 zstd; fi
note "cases:$CASES"

# jobfile PASS [REGIONS]: the fio job file of pass PASS (1 or 2) on stdout,
# with a job for each region in REGIONS (default all four). Region i holds
# kind (i + PASS) % 4; the seed differs per pass so pass 2 writes other data
# than pass 1.
jobfile() {
    cat <<EOF
[global]
filename=$DEV
ioengine=libaio
iodepth=4
direct=1
bs=4k
rw=randwrite
size=${REGION_MB}m
randseed=$((1000 + $1))
verify_fatal=1
verify_dump=0
allow_file_create=0
EOF
    for i in ${2:-0 1 2 3}; do
        echo "[r$i]"
        echo "offset=$((i * REGION_MB))m"
        case $(((i + $1) % 4)) in
            0) echo "verify=pattern"; echo "verify_pattern=0x00" ;;
            1) echo "verify=pattern"; echo "verify_pattern=0x5aa5c33c" ;;
            2) echo "verify=crc32c"; echo "buffer_compress_percentage=60"; echo "refill_buffers=1" ;;
            3) echo "verify=crc32c"; echo "refill_buffers=1" ;;
        esac
    done
}

# The background compaction loop: writes `compact` until /tmp/stop-compact
# exists, counting the writes (failed writes apart) in /tmp/compact-count
# after each one, so the script can wait for its first round.
compact_loop() {
    n=0; bad=0
    while :; do
        if echo 1 > $SYS/compact; then n=$((n + 1)); else bad=$((bad + 1)); fi
        echo "$n $bad" > /tmp/compact-count
        [ ! -e /tmp/stop-compact ] || break
        usleep 2000
    done
}

# holes TAG: fragment the pool and compact it. Region 0 holds compressible
# pages after pass 2; every other page of it is overwritten with zeros
# (same-filled: its object is freed), leaving the pool's pages half used.
# The same holes are punched into a copy of the region, which the region
# must match after compaction; the other regions must still verify.
holes() {
    tag=$1
    dd if=$DEV of=/tmp/region bs=1M count=$REGION_MB iflag=direct 2>/dev/null
    hole_job="--name=holes --rw=write:4k --bs=4k --zero_buffers --size=${REGION_MB}m --ioengine=psync --allow_file_create=0"
    fio $hole_job --filename=/tmp/region > /dev/null 2>&1 || fail "$tag: fio holes in the copy"
    run_fio "$tag: zero every other page of the compressible region" 1 $hole_job --filename=$DEV --direct=1
    expect_eq "$tag: same_pages grew by the holes" "$(mm_stat_col 6)" $((2 * REGION_PAGES + REGION_PAGES / 2))
    before=$(mm_stat_col 7); used=$(mm_stat_col 3)
    echo 1 > $SYS/compact 2>/tmp/err || fail "$tag: compact: $(cat /tmp/err)"
    moved=$(($(mm_stat_col 7) - before))
    if [ "$alloc" = zsmalloc ] || [ "$alloc" = default ]; then
        expect_num "$tag: compact frees pool pages after the holes (pages_compacted delta)" $moved -gt 0
        expect_num "$tag: mem_used_total went down" "$(mm_stat_col 3)" -lt "$used"
    else
        note "$tag: compact after the holes: pages_compacted +$moved, mem_used_total $used -> $(mm_stat_col 3)"
    fi
    drop_caches
    expect_eq "$tag: the punched region reads back after compaction" "$(md5_dev $DEV 0 $REGION_PAGES)" "$(md5_file /tmp/region 0 $REGION_PAGES)"
    jobfile 2 "1 2 3" > /tmp/stress3.fio
    run_fio "$tag: the other regions verify after compaction (verify_only)" 3 --verify_only /tmp/stress3.fio
    expect_eq "$tag: no failed reads or writes after compaction" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
    rm -f /tmp/region
}

# combo CASE: one fresh device.
combo() {
    tag=$1; alloc=${1%/*}
    start=$(date +%s)
    dev_init $SYS ${DISK_MB}M "$tag"
    rm -f /tmp/stop-compact /tmp/compact-count
    compact_loop &
    cpid=$!
    # fio starts once the loop has compacted (a generous bound: the loop
    # waits only for the CPU), and the loop stops only after fio: it runs
    # from before the first write to after the last. How many compactions
    # fall inside fio's run is up to the scheduler: noted, not checked.
    wait_until 300 '[ -s /tmp/compact-count ]' || fail "$tag: the compaction loop did not complete a round in 300 s"
    c0=$(cat /tmp/compact-count 2>/dev/null)
    for p in 1 2; do
        jobfile $p > /tmp/stress$p.fio
        run_fio "$tag: pass $p: 4 jobs of random 4 KiB writes, verified, under compaction" 4 /tmp/stress$p.fio
    done
    c1=$(cat /tmp/compact-count 2>/dev/null)
    touch /tmp/stop-compact
    wait $cpid
    note "$tag: compactions done when fio started / ended: ${c0%% *} / ${c1%% *}"
    counts_ok "$tag: compaction ran from before fio started until it ended" /tmp/compact-count
    echo 1 > $SYS/compact
    drop_caches
    run_fio "$tag: every block verifies again after compaction (verify_only)" 4 --verify_only /tmp/stress2.fio
    expect_eq "$tag: orig_data_size counts every page" "$(mm_stat_col 1)" $((DISK_MB * 1048576))
    expect_eq "$tag: same_pages counts the zero and pattern regions" "$(mm_stat_col 6)" $((2 * REGION_PAGES))
    huge=$(mm_stat_col 8)
    # zstd finds the odd random page compressible.
    lo=$((REGION_PAGES - REGION_PAGES / 64)); hi=$((REGION_PAGES * 5 / 4))
    if [ "$huge" -ge $lo ] && [ "$huge" -le $hi ]; then
        pass "$tag: huge_pages $huge (the random region)"
    else
        fail "$tag: huge_pages $huge, expected $lo..$hi"
    fi
    # The random region stores whole pages, the compressible one less than
    # half of its bytes.
    compr=$(mm_stat_col 2)
    expect_num "$tag: compr_data_size near the random region or more" "$compr" -ge $((REGION_MB * 1048576 * 63 / 64))
    expect_num "$tag: compr_data_size below 1.6 regions" "$compr" -lt $((REGION_MB * 1048576 * 8 / 5))
    expect_num "$tag: mem_used_total covers the compressed data" "$(mm_stat_col 3)" -ge "$(mm_stat_col 2)"
    expect_eq "$tag: no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
    note "$tag: after the passes: mm_stat $(cat $SYS/mm_stat)"
    holes "$tag"
    note "$tag: mm_stat $(cat $SYS/mm_stat); $(($(date +%s) - start)) s"
    echo 1 > $SYS/reset 2>/tmp/err || fail "$tag: reset: $(cat /tmp/err)"
}

t0=$(date +%s)
for c in $CASES; do combo "$c"; done
note "all combinations took $(($(date +%s) - t0)) s"
no_oom "no OOM kill"
check "rmmod $DRV" unload
summary
