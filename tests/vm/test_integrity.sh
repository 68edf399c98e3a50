# Data integrity for every allocator x codec (under C zram: every codec):
# a mix of text, random, zero, same-filled and binary pages written with
# O_DIRECT and read back after dropping caches; a buffered 512-byte rewrite;
# page-misaligned O_DIRECT (sub-page segments) with dio-check; the mm_stat
# accounting of the mix; reset between combinations. Then four concurrent
# writers and an overwrite on the default setup.
. /tests/lib.sh

load

# The mix, 2.5 MiB = 640 pages, each part page-aligned:
#   0..191   text (compresses well)
#   192..319 random (incompressible: huge pages)
#   320..383 zero pages, 384..447 pages of one repeated byte (same-filled)
#   448..639 the start of busybox (binary, compresses about 2:1)
yes "rzram integrity line of compressible text 0123456789" | head -c 786432 > /tmp/mix
dd if=/dev/urandom bs=4096 count=128 2>/dev/null >> /tmp/mix
head -c 262144 /dev/zero >> /tmp/mix
head -c 262144 /dev/zero | tr '\000' '\132' >> /tmp/mix
head -c 786432 /bin/busybox >> /tmp/mix
PAGES=640
SAME=128
RANDOM_PAGES=128
size=$((PAGES * 4096))
expect_eq "test mix is $size bytes" "$(stat -c %s /tmp/mix)" $size
# 512 bytes of random data for the buffered sub-page rewrite.
dd if=/dev/urandom of=/tmp/p512 bs=512 count=1 2>/dev/null

# combo CASE [PARAMS]: one full round on a fresh device.
combo() {
    alloc=${1%/*}
    tag="$1${2:+ ($2)}"
    cp /tmp/mix /tmp/want
    dev_init $SYS 8M "$1" "$2"
    if out=$(dd if=/tmp/mix of=$DEV bs=64k oflag=direct 2>&1); then
        pass "$tag: write the mix with O_DIRECT"
    else
        fail "$tag: write: $(echo "$out" | tail -n 1)"
    fi
    drop_caches
    expect_eq "$tag: O_DIRECT read back matches" "$(md5_dev $DEV 0 $PAGES)" "$(md5_file /tmp/want 0 $PAGES)"
    expect_eq "$tag: orig_data_size counts every page" "$(mm_stat_col 1)" $size
    expect_eq "$tag: same_pages counts zero and same-filled pages" "$(mm_stat_col 6)" $SAME
    huge=$(mm_stat_col 8)
    if [ "$huge" -ge $RANDOM_PAGES ] && [ "$huge" -le $((RANDOM_PAGES + 192)) ]; then
        pass "$tag: huge_pages $huge (random pages, maybe some binary)"
    else
        fail "$tag: huge_pages $huge, expected $RANDOM_PAGES..$((RANDOM_PAGES + 192))"
    fi
    compr=$(mm_stat_col 2)
    expect_num "$tag: compressed below 3/4 of the data" "$compr" -lt $((size * 3 / 4))
    # Buffered 512-byte writes inside a text page and inside a random page:
    # the page cache reads the page, patches it, writes it back.
    for sector in $((8 * 100 + 3)) $((8 * 250 + 7)); do
        dd if=/tmp/p512 of=$DEV bs=512 seek=$sector conv=notrunc,fsync 2>/dev/null
        dd if=/tmp/p512 of=/tmp/want bs=512 seek=$sector conv=notrunc 2>/dev/null
    done
    drop_caches
    expect_eq "$tag: 512-byte buffered rewrites read back" "$(md5_dev $DEV 0 $PAGES)" "$(md5_file /tmp/want 0 $PAGES)"
    # O_DIRECT from buffers 512 bytes past a page boundary: each block
    # reaches the driver as sub-page segments.
    out=$(dio-check $DEV --blocks 96 --seed 5 --range 700:1000 2>&1)
    dio_result "$tag: sub-page O_DIRECT" "$out"
    expect_eq "$tag: the mix is untouched by dio-check" "$(md5_dev $DEV 0 $PAGES)" "$(md5_file /tmp/want 0 $PAGES)"
    expect_eq "$tag: no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
    if [ "$alloc" != default ]; then
        expect_num "$tag: debugfs classes names $alloc" "$(grep -c "$alloc" $DBG/${DRV}0/classes 2>/dev/null)" -ge 1
    fi
    echo 1 > $SYS/reset 2>/tmp/err || fail "$tag: reset: $(cat /tmp/err)"
}

cases $CODECS
note "cases:$CASES"
start=$(date +%s)
for c in $CASES; do combo "$c"; done
# Compression levels through algorithm_params.
in_list zstd $CODECS && combo "$DEF_ALLOC/zstd" "level=9"
in_list deflate $CODECS && combo "$DEF_ALLOC/deflate" "level=1"
in_list lz4hc $CODECS && combo "$DEF_ALLOC/lz4hc" "level=12"
note "combinations took $(($(date +%s) - start)) s"

note "--- default setup: overwrite and concurrent writers"
dev_init $SYS 32M
check "write the mix" dd if=/tmp/mix of=$DEV bs=64k oflag=direct
cp /tmp/mix /tmp/want
# Overwrite 100 pages across the text/random boundary with new random data:
# the old objects must be replaced, not leaked.
dd if=/dev/urandom of=/tmp/patch bs=4096 count=100 2>/dev/null
check "overwrite 100 pages at page 150" dd if=/tmp/patch of=$DEV bs=4096 seek=150 oflag=direct conv=notrunc
dd if=/tmp/patch of=/tmp/want bs=4096 seek=150 conv=notrunc 2>/dev/null
expect_eq "read back after overwrite matches" "$(md5_dev $DEV 0 $PAGES)" "$(md5_file /tmp/want 0 $PAGES)"
expect_eq "orig_data_size unchanged by overwrite" "$(mm_stat_col 1)" $size
expect_num "huge_pages grew by the new random pages" "$(mm_stat_col 8)" -ge $((RANDOM_PAGES + 42))
# Four writers at once on disjoint ranges: slot locks, streams, the pool.
for i in 0 1 2 3; do
    dio-check $DEV --blocks 1024 --seed $((10 + i)) --range $((1024 + i * 1536)):1536 > /tmp/dio.$i 2>&1 &
done
wait
for i in 0 1 2 3; do
    dio_result "concurrent writer $i" "$(cat /tmp/dio.$i)"
done
# Four page-aligned O_DIRECT writers at once (dd, 16 KiB requests), then
# each range read back.
for i in 0 1 2 3; do
    { dd if=/dev/urandom bs=4096 count=384 2>/dev/null; cat /tmp/mix; } > /tmp/cw.$i
done
for i in 0 1 2 3; do
    dd if=/tmp/cw.$i of=$DEV bs=16k seek=$(((1024 + i * 1536) / 4)) oflag=direct conv=notrunc 2>/tmp/cw.$i.err &
done
wait
for i in 0 1 2 3; do
    expect_eq "aligned concurrent writer $i reads back" "$(md5_dev $DEV $((1024 + i * 1536)) 1024)" "$(md5_file /tmp/cw.$i 0 1024)"
done
rm -f /tmp/cw.*
expect_eq "the mix survives the concurrent writers" "$(md5_dev $DEV 0 $PAGES)" "$(md5_file /tmp/want 0 $PAGES)"
drop_caches
expect_eq "buffered read of the mix matches" "$(head -c $size $DEV | md5sum | cut -d' ' -f1)" "$(md5_file /tmp/want 0 $PAGES)"
note "mm_stat: $(cat $SYS/mm_stat)"
check_sh "reset" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
