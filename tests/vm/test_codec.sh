# Every compression backend (and a few levels): 8 MiB of mixed data written
# O_DIRECT, read back after dropping caches, compared by md5; mm_stat must
# show the compressible part shrank. Bad levels must be refused. The codec
# and level are chosen through comp_algorithm and algorithm_params.
. /tests/lib.sh

# 8 MiB: 2 MiB random (incompressible: huge pages), 2 MiB binary (busybox and
# kernel modules), 2 MiB text (kernel symbols, file lists, scripts), 1 MiB of
# zeroes and 1 MiB of a repeated byte (same-filled pages).
MiB=1048576
dd if=/dev/urandom of=/tmp/rand bs=1M count=2 2>/dev/null
# Sources repeat (a fixed number of times) in case one is short.
for i in 1 2 3 4; do cat /bin/busybox; find /lib/modules -name '*.ko' | head -n 100 | xargs cat; done 2>/dev/null |
    head -c $((2 * MiB)) > /tmp/bin
for i in 1 2 3 4; do find / -xdev; cat /tests/*.sh /proc/kallsyms; done 2>/dev/null | head -c $((2 * MiB)) > /tmp/text
dd if=/dev/zero of=/tmp/zero bs=1M count=1 2>/dev/null
tr '\000' '\132' < /tmp/zero > /tmp/fill
cat /tmp/rand /tmp/bin /tmp/text /tmp/zero /tmp/fill > /tmp/mix
rm -f /tmp/rand /tmp/bin /tmp/text /tmp/zero /tmp/fill
size=$(stat -c %s /tmp/mix)
want=$(md5_file /tmp/mix 0 2048)
note "test data: $size bytes ($(find /lib/modules -name '*.ko' | wc -l) modules, kallsyms $(wc -c < /proc/kallsyms) bytes)"
[ "$size" = $((8 * MiB)) ] || fail "test data is $size bytes, not 8 MiB"

load

# run NAME [LEVEL]: the round trip and the size checks for one codec, on a
# fresh 16 MiB device.
run() {
    desc="$1${2:+ level $2}"
    if ! in_list "$1" $CODECS; then
        fail "$desc: $DRV does not offer $1 ($CODECS)"
        return
    fi
    dev_init $SYS 16M "default/$1" "${2:+algo=$1 level=$2}"
    expect_eq "$desc: comp_algorithm shows it" "$(current $SYS/comp_algorithm)" "$1"
    if ! out=$(dd if=/tmp/mix of=$DEV bs=64k oflag=direct conv=fsync 2>&1); then
        fail "$desc: write: $(echo "$out" | tail -n 1)"
        echo 1 > $SYS/reset
        return
    fi
    drop_caches
    expect_eq "$desc: read back matches" "$(md5_dev $DEV 0 2048)" "$want"
    orig=$(mm_stat_col 1)
    compr=$(mm_stat_col 2)
    huge=$(mm_stat_col 8)
    note "$desc: mm_stat $(cat $SYS/mm_stat)"
    expect_eq "$desc: orig_data_size" "$orig" "$size"
    # The 6 MiB that are not same-filled: 2 MiB random cannot shrink (stored
    # as huge pages), the 4 MiB of binary and text must.
    if [ "$compr" -ge $((2 * MiB)) ] && [ "$compr" -lt $((5 * MiB)) ]; then
        pass "$desc: compr_data_size $compr (binary+text at ~$(((compr - 2 * MiB) * 100 / (4 * MiB)))%, $huge huge pages)"
    else
        fail "$desc: compr_data_size $compr, expected 2..5 MiB"
    fi
    # Two writers at once on the free second half: both CPUs' streams, and
    # sub-page segments (dio-check's blocks compress, so reads decompress).
    for i in 0 1; do
        dio-check $DEV --blocks 256 --seed $((20 + i)) --range $((2048 + i * 1024)):1024 > /tmp/dio.$i 2>&1 &
    done
    wait
    for i in 0 1; do dio_result "$desc: writer $i" "$(cat /tmp/dio.$i)"; done
    drop_caches
    expect_eq "$desc: first 8 MiB unchanged" "$(md5_dev $DEV 0 2048)" "$want"
    echo 1 > $SYS/reset || fail "$desc: reset"
}

# refuse NAME LEVEL: an invalid level must not give a usable device.
refuse() {
    if out=$(sh -c "echo 1 > $SYS/reset && echo $1 > $SYS/comp_algorithm &&
            echo 'algo=$1 level=$2' > $SYS/algorithm_params && echo 16M > $SYS/disksize" 2>&1); then
        fail "$1 level $2 accepted"
    elif echo "$out" | grep -qi "invalid"; then
        pass "$1 level $2 refused"
    else
        fail "$1 level $2: '$out' does not say invalid"
    fi
}

run lz4
run lz4 8
run lz4hc
run lz4hc 1
run lz4hc 16
run lzo
run lzo-rle
run zstd
run zstd -5
run zstd 1
run zstd 19
run deflate
run deflate 1
run deflate 9
run 842
# C zram does not check levels (see test_input).
if rzram_only "invalid levels refused"; then
    refuse lz4 0
    refuse lz4hc 17
    refuse lzo 1
    refuse zstd 23
    refuse zstd -200000
    refuse deflate 10
    refuse 842 1
fi

check "rmmod $DRV" unload
check "$DRV unloaded" test ! -e $SYS
summary
