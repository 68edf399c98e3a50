# Every compression backend (and a few levels): 8 MiB of mixed data written
# O_DIRECT, read back after dropping caches, compared by md5; mm_stat must
# show the compressible part shrank. Bad levels must be refused. The codec
# and level are chosen through comp_algorithm and algorithm_params. Then
# recomp_algorithm (priorities 1-3, its listing, errors, reset) and the rest
# of algorithm_params: priority=/algo= selection, dict= (lz4, lz4hc, zstd
# with the dictionary the initramfs packs, trained on the guest's binaries;
# compr_data_size with and without it) and deflate.winbits=.
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
# (Not "want": expect_err sets that.)
MIX_MD5=$(md5_file /tmp/mix 0 2048)
note "test data: $size bytes ($(find /lib/modules -name '*.ko' | wc -l) modules, kallsyms $(wc -c < /proc/kallsyms) bytes)"
[ "$size" = $((8 * MiB)) ] || fail "test data is $size bytes, not 8 MiB"

load

# run NAME [LEVEL]: the round trip and the size checks for one codec, on a
# fresh 16 MiB device.
run() { run_params "$1" "$1${2:+ level $2}" "${2:+algo=$1 level=$2}"; }

# run_params NAME DESC PARAMS: the same with algorithm_params PARAMS; sets
# COMPR to the device's compr_data_size.
run_params() {
    desc=$2
    COMPR=
    if ! in_list "$1" $CODECS; then
        fail "$desc: $DRV does not offer $1 ($CODECS)"
        return
    fi
    dev_init $SYS 16M "default/$1" "$3"
    expect_eq "$desc: comp_algorithm shows it" "$(current $SYS/comp_algorithm)" "$1"
    if ! out=$(dd if=/tmp/mix of=$DEV bs=64k oflag=direct conv=fsync 2>&1); then
        fail "$desc: write: $(echo "$out" | tail -n 1)"
        echo 1 > $SYS/reset
        return
    fi
    drop_caches
    expect_eq "$desc: read back matches" "$(md5_dev $DEV 0 2048)" "$MIX_MD5"
    orig=$(mm_stat_col 1)
    compr=$(mm_stat_col 2)
    COMPR=$compr
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
    expect_eq "$desc: first 8 MiB unchanged" "$(md5_dev $DEV 0 2048)" "$MIX_MD5"
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
# Only where the kernel has lib/842 (Debian's has not).
kernel_has 842_compress && run 842
# C zram does not check levels (see test_input).
if rzram_only "invalid levels refused"; then
    refuse lz4 0
    refuse lz4hc 17
    refuse lzo 1
    refuse zstd 23
    refuse zstd -200000
    refuse deflate 10
    kernel_has 842_compress && refuse 842 1
fi

# --- recomp_algorithm: priorities 1-3, one line per configured priority.

# choices NAME: the comp_algorithm list with NAME in brackets, as zram
# prints it ("a [b] c \n" without the newline).
choices() {
    for n in $CODECS; do
        if [ "$n" = "$1" ]; then printf '[%s] ' "$n"; else printf '%s ' "$n"; fi
    done
}
# pick N: the N-th offered codec of lz4hc zstd deflate lzo (from 0).
pick() { nth "$1" $(for c in lz4hc zstd deflate lzo; do in_list $c $CODECS && echo $c; done); }
R1=$(pick 0); R2=$(pick 1); R3=$(pick 2)
RA=$SYS/recomp_algorithm
# Debian's C zram is built without CONFIG_ZRAM_MULTI_COMP: no such file.
if [ -e $RA ]; then
echo 1 > $SYS/reset
expect_eq "recomp_algorithm empty by default" "$(cat $RA)" ""
check_sh "recomp_algorithm algo=$R1 (priority 1 by default)" "echo algo=$R1 > $RA"
expect_eq "recomp_algorithm lists #1" "$(cat $RA)" "#1: $(choices $R1)"
check_sh "recomp_algorithm algo=$R3 priority=3" "echo 'algo=$R3 priority=3' > $RA"
check_sh "recomp_algorithm priority=1 algo=$R2 (replaces #1)" "echo 'priority=1 algo=$R2' > $RA"
expect_eq "recomp_algorithm lists #1 and #3" "$(cat $RA)" "#1: $(choices $R2)
#3: $(choices $R3)"
expect_eq "comp_algorithm unchanged by recomp_algorithm" "$(current $SYS/comp_algorithm)" "$DEF_CODEC"
expect_err "recomp_algorithm unknown algorithm" "invalid" "echo algo=nosuch > $RA"
expect_err "recomp_algorithm priority=0" "invalid" "echo 'algo=$R1 priority=0' > $RA"
expect_err "recomp_algorithm priority=4" "invalid" "echo 'algo=$R1 priority=4' > $RA"
expect_err "recomp_algorithm without algo=" "invalid" "echo priority=2 > $RA"
expect_err "recomp_algorithm priority overflow" "out of range" "echo 'algo=$R1 priority=2147483648' > $RA"
# algorithm_params selects a priority by number or by its algorithm.
check_sh "algorithm_params priority=1 on #1" "echo 'priority=1 level=1' > $SYS/algorithm_params"
check_sh "algorithm_params algo=$R3 finds #3" "echo 'algo=$R3 level=1' > $SYS/algorithm_params"
check_sh "algorithm_params priority=2, no algorithm there (accepted, as zram)" \
    "echo 'priority=2 level=1' > $SYS/algorithm_params"
expect_err "algorithm_params algo= and priority= disagree" "invalid" \
    "echo 'algo=$R3 priority=1 level=1' > $SYS/algorithm_params"
expect_err "algorithm_params algo= at no priority" "invalid" "echo 'algo=$R1 level=1' > $SYS/algorithm_params"
expect_err "algorithm_params priority=4" "invalid" "echo 'priority=4 level=1' > $SYS/algorithm_params"
expect_err "algorithm_params priority=-1" "invalid" "echo 'priority=-1 level=1' > $SYS/algorithm_params"
# disksize builds every priority's compressor; the listing stays.
dev_init $SYS 16M
expect_eq "recomp_algorithm after init" "$(cat $RA)" "#1: $(choices $R2)
#3: $(choices $R3)"
check_sh "device with recompression priorities writes and reads" \
    "dd if=/tmp/mix of=$DEV bs=64k count=16 oflag=direct 2>/dev/null && cmp -n 1048576 /tmp/mix $DEV"
expect_err "recomp_algorithm after init" "busy" "echo algo=$R1 > $RA"
expect_err "algorithm_params priority=1 after init" "busy" "echo 'priority=1 level=1' > $SYS/algorithm_params"
check_sh "reset" "echo 1 > $SYS/reset"
expect_eq "reset clears recomp_algorithm" "$(cat $RA)" ""
expect_err "after reset, algo=$R2 is at no priority" "invalid" "echo 'algo=$R2 level=1' > $SYS/algorithm_params"
else
    skip "recomp_algorithm: $DRV has none (CONFIG_ZRAM_MULTI_COMP off)"
fi

# --- dict= and deflate.winbits=.
DICT=/usr/share/rzram/binaries.dict
[ -s $DICT ] || fatal "no dictionary $DICT in the initramfs"
note "dictionary: $DICT, $(stat -c %s $DICT) bytes"
: > /tmp/empty.dict
head -c 70000 /bin/busybox > /tmp/big.dict

# refuse_params NAME PARAMS WANT: NAME with PARAMS must not give a usable
# device, with error WANT, whether the driver refuses at algorithm_params
# (rzram) or at disksize (zram).
refuse_params() {
    expect_err "$1 $2 refused" "$3" "echo 1 > $SYS/reset && echo $1 > $SYS/comp_algorithm &&
        echo '$2' > $SYS/algorithm_params && echo 16M > $SYS/disksize"
    echo 1 > $SYS/reset
}
expect_err "dict= empty file" "invalid" "echo 'dict=/tmp/empty.dict' > $SYS/algorithm_params"
expect_err "dict= a directory" "invalid" "echo 'dict=/tmp' > $SYS/algorithm_params"
refuse_params lzo "dict=$DICT" "not supported"
refuse_params deflate "dict=$DICT" "not supported"
refuse_params lz4 "dict=/tmp/big.dict" "invalid"
refuse_params deflate "deflate.winbits=8" "invalid"
refuse_params deflate "deflate.winbits=16" "invalid"
refuse_params deflate "deflate.winbits=-16" "invalid"
refuse_params deflate "deflate.winbits=0" "invalid"

run_params deflate "deflate winbits 15 (zlib header)" "deflate.winbits=15"
run_params deflate "deflate winbits -15 level 9" "level=9 deflate.winbits=-15"
run_params deflate "deflate winbits 9" "deflate.winbits=9"
run_params lz4 "lz4 deflate.winbits ignored" "deflate.winbits=12"
run_params lz4 "lz4 with dict" "dict=$DICT"
run_params lz4hc "lz4hc with dict" "dict=$DICT"
run zstd
nodict=$COMPR
run_params zstd "zstd with dict" "dict=$DICT"
withdict=$COMPR
run_params zstd "zstd level 19 with dict" "algo=zstd level=19 dict=$DICT"
note "measure: $DRV zstd, the whole 8 MiB mix: compr_data_size $nodict without dict, $withdict with"

# part_compr MIB PARAMS: compr_data_size of the mix's 2 MiB from MIB on a
# fresh zstd device with algorithm_params PARAMS, then "ok" if those 2 MiB
# read back after drop_caches (else "bad").
part_compr() {
    local want
    echo 1 > $SYS/reset
    dev_init $SYS 16M default/zstd "$2"
    dd if=/tmp/mix of=$DEV bs=1M skip=$1 count=2 oflag=direct 2>/dev/null
    drop_caches
    want=$(dd if=/tmp/mix bs=1M skip=$1 count=2 2>/dev/null | md5sum | cut -d' ' -f1)
    if [ "$(md5_dev $DEV 0 512)" = "$want" ]; then echo "$(mm_stat_col 2) ok"; else echo "$(mm_stat_col 2) bad"; fi
}
# The mix's binaries (busybox and modules: in the dictionary's training
# set) and its text (not), apart. Whether a dictionary helps depends on the
# data (on Debian's kernel the binaries grew by 3 %): a measurement for the
# README, not a verdict; the data must read back either way.
set -- $(part_compr 2 ""); bin_nodict=$1
set -- $(part_compr 2 "dict=$DICT"); bin_dict=$1
expect_eq "zstd with the trained dictionary: the binaries read back" "$2" ok
set -- $(part_compr 4 ""); text_nodict=$1
set -- $(part_compr 4 "dict=$DICT"); text_dict=$1
expect_eq "zstd with the trained dictionary: the text reads back" "$2" ok
echo 1 > $SYS/reset
note "measure: $DRV zstd, 2 MiB binaries: compr_data_size $bin_nodict without dict, $bin_dict with"
note "measure: $DRV zstd, 2 MiB text: compr_data_size $text_nodict without dict, $text_dict with"

check "rmmod $DRV" unload
check "$DRV unloaded" test ! -e $SYS
summary
