# Malformed input to every writable attribute of $DRV: empty, whitespace
# only, negative and overflowing numbers, an 8 KiB string, binary bytes,
# unknown names, trailing garbage. Each write must get its error (zram's
# codes: EINVAL, ERANGE where zram's kstrto* parser gives it, E2BIG, EBUSY)
# and change nothing: every readable attribute, the device list and, on an
# initialised device, the data are compared before and after each write.
# Cases where C zram is more lenient than rzram (its memparse wraps and
# ignores trailing text, it skips unknown algorithm_params keys and does not
# check levels) are rzram-only.
. /tests/lib.sh
. /tests/lib_wb.sh

E_INVAL="Invalid argument"
E_RANGE="out of range"
E_2BIG="Argument list too long"
E_BUSY="Device or resource busy"
E_ACCES="Permission denied"
E_NOENT="No such file or directory"
E_NOTBLK="Block device required"
E_NODEV="No such device"

P=/tmp/payload
mkdir -p $P
# payload NAME PRINTF-FORMAT: the bytes a case writes, in one write(2).
payload() { printf "$2" > $P/$1; }
payload empty '\n'
payload blank '   \t  \n'
payload neg '-1\n'
payload negbig '-99999999999999999999999\n'
payload two64 '18446744073709551616\n'
payload big '99999999999999999999999\n'
payload binary '\001\377\000'
payload binnum '\0014096\n'
payload unknown 'nosuch\n'
payload numjunk '4096junk\n'
payload onejunk '1 junk\n'
payload zerojunk '0junk\n'
payload u16over '65536\n'
payload u32over '4294967296\n'
payload i32over '2147483648\n'
payload zero '0\n'
head -c 8192 /dev/zero | tr '\000' a > $P/huge; echo >> $P/huge
head -c 8192 /dev/zero | tr '\000' 9 > $P/hugenum; echo >> $P/hugenum
head -c 127 /dev/zero | tr '\000' a > $P/name128; echo >> $P/name128
head -c 126 /dev/zero | tr '\000' a > $P/name127; echo >> $P/name127
GARBAGE="empty blank neg negbig binary binnum unknown huge"

# Everything a bad write could change that can be read back.
READABLE="disksize initstate size comp_algorithm allocator max_comp_streams io_stat mm_stat debug_stat
    backing_dev bd_stat writeback_limit writeback_limit_enable writeback_batch_size compressed_writeback
    recomp_algorithm"
# (Few processes: TCG makes each fork cost.)
snap() {
    files=
    for a in $READABLE; do [ -e $SYS/$a ] && files="$files $SYS/$a"; done
    grep -H . $files
    ls /sys/block /dev $CTL | grep "^$DRV\|^hot"
}

# try DESC WANT TARGET PAYLOAD: write payload file PAYLOAD to TARGET with a
# single write(2); WANT is the error text expected, or "ok". One case: the
# answer is right and no readable state changed.
try() {
    desc=$1; want=$2; target=$3; pl=$4
    snap > /tmp/snap.before
    if out=$(dd if=$P/$pl of=$target bs=16k conv=notrunc 2>&1); then got=ok; else got=$(echo "$out" | head -n 1); fi
    snap > /tmp/snap.after
    if [ "$want" = ok ] && [ "$got" != ok ]; then
        fail "$desc: '$got', expected success"
    elif [ "$want" != ok ] && ! echo "$got" | grep -qi "$want"; then
        fail "$desc: '$got', expected '$want'"
    elif ! cmp -s /tmp/snap.before /tmp/snap.after; then
        fail "$desc ($want) changed state: $(diff /tmp/snap.before /tmp/snap.after | grep '^[-+][a-z]' | tr '\n' '|')"
    else
        pass "$desc: $want, nothing changed"
    fi
}

# each ATTR WANT PAYLOAD...: try every payload on ATTR.
each() {
    attr=$1; want=$2; shift 2
    for pl in "$@"; do try "$state $attr $pl" "$want" $SYS/$attr $pl; done
}

# strict_memparse ATTR: sizes past 64 bits and trailing text are refused
# (rzram only: zram's memparse saturates or wraps and ignores trailing
# text).
strict_memparse() {
    if rzram_only "$state $1 two64/big/hugenum/numjunk"; then
        each $1 "$E_INVAL" two64 big hugenum numjunk
    fi
}

# The tiering attributes (zram 7.3 with CONFIG_ZRAM_WRITEBACK and
# CONFIG_ZRAM_MULTI_COMP): every one must exist under rzram; C zram without
# MULTI_COMP (Debian's kernel) has no recomp_algorithm and recompress.
payload bdmissing '/nonexistent\n'
payload bdnull '/dev/null\n'
payload bdfile '/tmp/payload/zero\n'
payload bddir '/tmp\n'
payload bdvda '/dev/vda\n'
payload idle 'idle\n'
payload all 'all\n'
payload agebig '4000000000\n'
payload typefoo 'type=foo\n'
payload typenoval 'type\n'
payload pi0 'page_index=0\n'
payload foobar 'foo=bar\n'
payload yes 'yes\n'
payload one '1\n'
payload u64max '18446744073709551615\n'
payload prio1lvl 'priority=1 level=1\n'
payload prio4lvl 'priority=4 level=1\n'
payload prioneg 'priority=-1 level=1\n'
payload zstdp1 'algo=zstd priority=1 level=1\n'
payload winbitsx 'deflate.winbits=abc\n'
payload winbits32 'deflate.winbits=2147483648\n'
payload dictmissing 'dict=/nonexistent\n'
payload dictempty 'dict=/tmp/payload/emptyfile\n'
: > $P/emptyfile
payload raz 'algo=zstd priority=1\n'
payload raprio 'priority=1\n'
payload raprio0 'algo=zstd priority=0\n'
payload raprio4 'algo=zstd priority=4\n'
payload raprio32 'algo=zstd priority=2147483648\n'
payload rapriox 'algo=zstd priority=x\n'
payload ranosuch 'algo=nosuch priority=1\n'
payload ranoval 'algo priority=1\n'
printf 'algo=%sa priority=1\n' "$(cat $P/name128)" > $P/ra128
payload rctype 'type=idle\n'
payload rctypefoo 'type=foo\n'
payload rcthr 'threshold=4096\n'
payload rcthr32 'threshold=4294967296\n'
payload rcmax64 'max_pages=18446744073709551616\n'
payload rcmaxneg 'max_pages=-1\n'
payload rcprio0 'priority=0\n'
payload rcprio4 'priority=4\n'
payload rcprio32 'priority=2147483648\n'
payload rcnosuch 'algo=nosuch\n'

# need ATTR: the attribute exists; a FAIL under rzram if not (recomp_algorithm
# and recompress: a skip under C zram built without them).
need() {
    [ -e $SYS/$1 ] && return 0
    case $1 in
        recomp*) is_rzram || { skip "$state $1 (C zram without CONFIG_ZRAM_MULTI_COMP)"; return 1; } ;;
    esac
    fail "$state: no $SYS/$1"
    return 1
}

tier_writes() {
    if need backing_dev; then
        if [ $state = uninit ]; then
            try "$state backing_dev missing path" "$E_NOENT" $SYS/backing_dev bdmissing
            # An empty name: 7.3's filp_open("") gives EISDIR.
            try "$state backing_dev empty" "Is a directory" $SYS/backing_dev empty
            try "$state backing_dev a character device" "$E_NOTBLK" $SYS/backing_dev bdnull
            try "$state backing_dev a regular file" "$E_NOTBLK" $SYS/backing_dev bdfile
            try "$state backing_dev a directory" "Is a directory" $SYS/backing_dev bddir
            # A zero-sized block device: a hot-added uninitialised device,
            # and the device itself (7.3: "also prevents self reference").
            id=$(cat $CTL/hot_add)
            payload bdzero "/dev/$DEVNAME$id\n"
            payload bdself "/dev/${DEVNAME}0\n"
            try "$state backing_dev a zero-sized device" "$E_INVAL" $SYS/backing_dev bdzero
            echo $id > $CTL/hot_remove
            try "$state backing_dev itself (zero-sized)" "$E_INVAL" $SYS/backing_dev bdself
        else
            each backing_dev "$E_BUSY" bdvda bdmissing
        fi
    fi
    if need writeback; then
        # 7.3 checks init, then the backing device, then parses.
        if [ $state = uninit ]; then
            each writeback "$E_INVAL" idle pi0 unknown empty
        else
            each writeback "$E_NODEV" idle pi0 unknown empty
        fi
    fi
    if need idle; then
        each idle "$E_INVAL" empty blank neg two64 binary unknown onejunk
        # An age not below the uptime returns at once, before the init check.
        each idle ok agebig
        if [ $state = uninit ]; then each idle "$E_INVAL" all; else each idle ok all; fi
    fi
    # kstrtoull/kstrtouint: any parse error is EINVAL; any time.
    need writeback_limit_enable && each writeback_limit_enable "$E_INVAL" empty blank neg two64 binary unknown numjunk huge
    need writeback_limit && each writeback_limit "$E_INVAL" empty blank neg two64 binary unknown numjunk huge
    need writeback_batch_size && each writeback_batch_size "$E_INVAL" empty blank neg zero u32over binary unknown numjunk huge
    if need compressed_writeback; then
        # kstrtobool: only the first character or two count ("nosuch" is
        # "n", false), so garbage means something else here.
        each compressed_writeback "$E_INVAL" empty blank neg binary binnum
        [ $state = uninit ] || each compressed_writeback "$E_BUSY" one yes
    fi
    if need recomp_algorithm; then
        each recomp_algorithm "$E_INVAL" empty blank raprio raprio0 raprio4 rapriox ranosuch ranoval binary
        each recomp_algorithm "$E_RANGE" raprio32
        each recomp_algorithm "$E_2BIG" ra128
        [ $state = uninit ] || each recomp_algorithm "$E_BUSY" raz
        # algorithm_params for priority > 0.
        each algorithm_params "$E_RANGE" winbits32
        each algorithm_params "$E_INVAL" winbitsx
        if [ $state = uninit ]; then
            each algorithm_params "$E_INVAL" prio4lvl prioneg zstdp1 dictempty
            each algorithm_params "$E_NOENT" dictmissing
        else
            each algorithm_params "$E_BUSY" prio4lvl prioneg zstdp1 dictmissing
        fi
    fi
    if need recompress; then
        # Parsed first (threshold against huge_class_size too), then init,
        # then the priority.
        each recompress "$E_INVAL" rctypefoo typenoval rcthr rcmaxneg binary
        each recompress "$E_RANGE" rcthr32 rcmax64
        each recompress "$E_INVAL" rctype rcprio0 rcprio4 rcnosuch foobar
        each recompress "$E_RANGE" rcprio32
    fi
}

# tier_reads: what the tiering attributes read before anything is set.
tier_reads() {
    need backing_dev && expect_eq "$state backing_dev reads none" "$(cat $SYS/backing_dev)" none
    need bd_stat && expect_eq "$state bd_stat: three %8llu columns, zero" "$(cat $SYS/bd_stat)" "$(printf '%8d %8d %8d' 0 0 0)"
    for a in writeback_limit_enable:0 writeback_limit:0 writeback_batch_size:32 compressed_writeback:0; do
        need ${a%:*} && expect_eq "$state ${a%:*} reads ${a#*:}" "$(cat $SYS/${a%:*})" ${a#*:}
    done
    need recomp_algorithm && expect_eq "$state recomp_algorithm reads empty" "$(cat $SYS/recomp_algorithm)" ""
}

# The whole table, for the current state ($state: uninit or init).
bad_writes() {
    each disksize "$E_INVAL" $GARBAGE
    strict_memparse disksize

    # kstrtou16: overflow is ERANGE, as in zram.
    each reset "$E_INVAL" $GARBAGE onejunk zerojunk zero
    each reset "$E_RANGE" two64 big u16over hugenum

    if [ $state = uninit ]; then
        each compact "$E_INVAL" $GARBAGE two64 zero
    else
        # Any write compacts an initialised device (zram does the same);
        # the data was compacted before, so there is nothing to move.
        each compact ok $GARBAGE
    fi

    each mem_limit "$E_INVAL" $GARBAGE
    strict_memparse mem_limit

    each mem_used_max "$E_INVAL" $GARBAGE two64 big hugenum zerojunk onejunk

    # Name checks come before the init check, as in zram.
    each comp_algorithm "$E_INVAL" empty blank neg negbig binary binnum unknown two64 name127
    each comp_algorithm "$E_2BIG" huge name128
    printf 'lz4 junk\n' > $P/lz4junk
    each comp_algorithm "$E_INVAL" lz4junk

    # algorithm_params: key=value tokens; numbers are kstrtoint (ERANGE).
    printf 'level=18446744073709551616\n' > $P/lvl64
    printf 'level=-99999999999999999999999\n' > $P/lvlneg
    printf 'priority=2147483648 level=1\n' > $P/prio32
    printf 'level=1junk\n' > $P/lvljunk
    printf 'level=\n' > $P/lvlempty
    printf 'level=\001\377\n' > $P/lvlbin
    printf 'algo=nosuch level=1\n' > $P/algonosuch
    each algorithm_params "$E_INVAL" neg negbig binary binnum unknown huge two64 lvljunk lvlempty lvlbin
    each algorithm_params "$E_RANGE" lvl64 lvlneg prio32
    if [ $state = uninit ]; then
        each algorithm_params "$E_INVAL" algonosuch
    else
        each algorithm_params "$E_BUSY" algonosuch empty blank
    fi
    if rzram_only "$state algorithm_params unknown key, bad level"; then
        printf 'nosuch=1\n' > $P/keynosuch
        printf 'level=-2147483648\n' > $P/lvlmin
        each algorithm_params "$E_INVAL" keynosuch
        if [ $state = uninit ]; then each algorithm_params "$E_INVAL" lvlmin; fi
    fi
    tier_writes

    if rzram_only "$state allocator and max_comp_streams"; then
        printf 'zsmalloc junk\n' > $P/zsjunk
        each allocator "$E_INVAL" $GARBAGE two64 zsjunk name128
        each max_comp_streams "$E_INVAL" $GARBAGE numjunk zero zerojunk
        each max_comp_streams "$E_RANGE" two64 big u32over hugenum
    fi

    # hot_remove: kstrtoint, negative is EINVAL, overflow ERANGE.
    for pl in empty blank neg binary binnum unknown huge zerojunk; do
        try "$state hot_remove $pl" "$E_INVAL" $CTL/hot_remove $pl
    done
    for pl in two64 big i32over hugenum; do try "$state hot_remove $pl" "$E_RANGE" $CTL/hot_remove $pl; done
    try "$state hot_remove negbig" "$E_RANGE" $CTL/hot_remove negbig

    # Read-only files refuse any write at open.
    for a in initstate io_stat mm_stat debug_stat; do
        try "$state write to read-only $a" "$E_ACCES" $SYS/$a zero
    done
    try "$state write to hot_add (0400)" "$E_ACCES" $CTL/hot_add zero
}

load
check_sh "mem_limit 48M (a bad write must not clear it)" "echo 48M > $SYS/mem_limit"
def_alg=$(current $SYS/comp_algorithm)
# The snapshot must see what a write could change: a good mem_limit write.
snap > /tmp/snap.before; echo 40M > $SYS/mem_limit; snap > /tmp/snap.after
if cmp -s /tmp/snap.before /tmp/snap.after; then fail "snapshot misses a mem_limit change"; else pass "snapshot sees a mem_limit change"; fi
echo 48M > $SYS/mem_limit

note "--- uninitialised device"
state=uninit
tier_reads
bad_writes
# algorithm_params with nothing in it is accepted before init, as in zram
# (it resets the level to the default); a zero-length write never reaches
# the driver (sysfs returns 0 first).
check_sh "uninit algorithm_params empty line accepted, as zram" "echo > $SYS/algorithm_params"
expect_eq "uninit device still uninitialised" "$(cat $SYS/initstate)" 0
expect_eq "uninit comp_algorithm still the default" "$(current $SYS/comp_algorithm)" "$def_alg"

note "--- initialised device"
state=init
dev_init $SYS 16M
mixed_file /tmp/d "input test line" 132 1024 512 512
check "write 2 MiB of mixed data" dd if=/tmp/d of=$DEV bs=64k oflag=direct
check_sh "compact before the bad writes" "echo 1 > $SYS/compact"
check_sh "mem_used_max 0 (high-water mark = current)" "echo 0 > $SYS/mem_used_max"
sum=$(md5_file /tmp/d 0 512)
tier_reads
bad_writes
expect_eq "data intact after every bad write" "$(md5_dev $DEV 0 512)" "$sum"

note "--- block_state (debugfs)"
# 7.3: "%12lu %12u.%06d %c%c%c%c%c%c\n", index, access time in seconds
# since boot, usec always 0, flags s w h i r n; pages without data left out.
bs=$DBG/${DEVNAME}0/block_state
if [ -r $bs ]; then
    expect_eq "block_state lists every stored page" "$(wc -l < $bs)" 512
    bad=$(awk 'length($0) != 39 || $0 !~ /^ *[0-9]+ +[0-9]+\.000000 [s.][w.][h.][i.][r.][n.]$/' $bs | head -n 2)
    expect_eq "block_state lines are '%12lu %12u.%06d flags'" "$bad" ""
    expect_eq "block_state: the first page" "$(head -n 1 $bs | cut -c1-12,26-39)" "$(printf '%12d' 0).000000 ......"
    expect_eq "block_state: same-filled pages are s" "$(awk '$1 >= 384 && $3 == "s....."' $bs | wc -l)" 128
    expect_num "block_state: random pages are h" "$(awk '$1 >= 256 && $1 < 384 && $3 == "..h..."' $bs | wc -l)" -ge 120
    expect_write "idle all" ok $SYS/idle all
    expect_eq "block_state: idle all marks i on all but the s pages" "$(awk 'index($3, "i")' $bs | wc -l)" 384
else
    fail "no $bs"
fi

note "--- attributes that take a value at any time"
for a in "writeback_limit_enable 5 1" "writeback_limit_enable 0 0" "writeback_limit 18446744073709551615 18446744073709551615" \
    "writeback_limit 0 0" "writeback_batch_size 1 1" "writeback_batch_size 32 32"; do
    set -- $a
    if need $1; then
        expect_write "$1 $2" ok $SYS/$1 $2
        expect_eq "$1 $2 reads $3" "$(cat $SYS/$1)" $3
    fi
done

note "--- a backing device"
check_sh "reset" "echo 1 > $SYS/reset"
state=backing
if need backing_dev; then
    for a in "compressed_writeback yes 1" "compressed_writeback off 0" "compressed_writeback on 1" "compressed_writeback n 0"; do
        set -- $a
        expect_write "$1 $2 (kstrtobool)" ok $SYS/$1 $2
        expect_eq "$1 $2 reads $3" "$(cat $SYS/$1)" $3
    done
    wb_disk
    expect_write "backing_dev /dev/vda" ok $SYS/backing_dev /dev/vda
    [ "$(cat $SYS/backing_dev)" = /dev/vda ] || fatal "backing_dev reads '$(cat $SYS/backing_dev)', not /dev/vda"
    pass "backing_dev reads /dev/vda"
    # 7.3 opens the new file before it closes the old one, exclusively.
    expect_write "backing_dev /dev/vda again before init: held, busy" busy $SYS/backing_dev /dev/vda
    dev_init $SYS 16M
    check "write 2 MiB of mixed data" dd if=/tmp/d of=$DEV bs=64k oflag=direct
    payload big4096 'page_index=4096\n'
    payload pineg 'page_index=-1\n'
    payload pix 'page_index=abc\n'
    payload pi64 'page_index=18446744073709551616\n'
    payload pis5 'page_indexes=5\n'
    payload pis53 'page_indexes=5-3\n'
    payload pisend 'page_indexes=0-4096\n'
    payload pispast 'page_indexes=4096-4097\n'
    payload pisa 'page_indexes=a-3\n'
    payload pisb 'page_indexes=1-b\n'
    payload pilast 'page_index=4095\n'
    payload pislast 'page_indexes=4000-4095\n'
    payload typeidle 'type=idle\n'
    each writeback "$E_INVAL" unknown typefoo typenoval neg binary pineg pix pis5 pisa pisb huge
    each writeback "$E_RANGE" big4096 pi64 pis53 pisend pispast
    # Nothing to write: nothing idle, pages never written, an empty
    # command, an unknown key=value (7.3 skips it).
    each writeback ok idle typeidle pilast pislast empty blank foobar
    each backing_dev "$E_BUSY" bdvda bdmissing
    each compressed_writeback "$E_BUSY" one
    expect_eq "data intact" "$(md5_dev $DEV 0 512)" "$sum"
    check_sh "reset" "echo 1 > $SYS/reset"
    expect_eq "reset releases the backing device" "$(cat $SYS/backing_dev)" none
fi

note "--- algorithm_params dict= and deflate.winbits="
# A raw-content dictionary (the first 64 KiB of busybox) and the same bytes
# as data: with the dictionary each page compresses to a reference into it,
# so compr_data_size must fall to a fraction of what it is without.
head -c 65536 /bin/busybox > /tmp/dict
# dict_round CODEC PARAMS: compr_data_size of the 16 pages with PARAMS; the
# data must read back.
dict_round() {
    local c
    check_sh "$1 $2: comp_algorithm and algorithm_params" "echo $1 > $SYS/comp_algorithm && echo '$2' > $SYS/algorithm_params"
    dev_init $SYS 16M
    check "$1 $2: write 16 pages" dd if=/tmp/dict of=$DEV bs=64k oflag=direct
    drop_caches
    expect_eq "$1 $2: read back matches" "$(md5_dev $DEV 0 16)" "$(md5_file /tmp/dict 0 16)"
    c=$(mm_stat_col 2)
    check_sh "$1 $2: reset" "echo 1 > $SYS/reset"
    DICT_C=$c
}
for codec in zstd lz4; do
    in_list $codec $CODECS || continue
    dict_round $codec "level=3"; plain=$DICT_C
    dict_round $codec "dict=/tmp/dict level=3"; withd=$DICT_C
    expect_num "$codec: the dictionary shrinks compr_data_size below a quarter ($plain without)" "$withd" -lt $((plain / 4))
done
if in_list deflate $CODECS; then
    check_sh "deflate: comp_algorithm" "echo deflate > $SYS/comp_algorithm"
    # zram stores a bad window and refuses it at disksize (zcomp_create);
    # rzram refuses it at once, with the same code (README, "Compressor
    # priorities").
    if is_rzram; then
        expect_write "deflate: algorithm_params deflate.winbits=20 refused" "$E_INVAL" $SYS/algorithm_params deflate.winbits=20
    else
        expect_write "deflate: algorithm_params deflate.winbits=20 is stored" ok $SYS/algorithm_params deflate.winbits=20
        expect_write "deflate: ... and disksize refuses it (zcomp_create)" "$E_INVAL" $SYS/disksize 16M
    fi
    expect_eq "deflate: still uninitialised" "$(cat $SYS/initstate)" 0
    dict_round deflate "deflate.winbits=-9"
    dict_round deflate "deflate.winbits=15"
fi

note "--- hot-added device"
id=$(cat $CTL/hot_add)
SYS=$(dev_sys $id)
state="dev$id-uninit"
for pl in $GARBAGE; do try "$state disksize $pl" "$E_INVAL" $SYS/disksize $pl; done
for pl in $GARBAGE; do try "$state reset $pl" "$E_INVAL" $SYS/reset $pl; done
check_sh "hot_remove $id" "echo $id > $CTL/hot_remove"
SYS=$(dev_sys 0)

note "--- module parameter"
check "rmmod" unload
for v in abc -1 99999999999999999999; do
    if out=$(modprobe $DRV num_devices=$v 2>&1); then
        fail "modprobe num_devices=$v succeeded"
    else
        pass "modprobe num_devices=$v refused: $(echo "$out" | head -n 1)"
    fi
    check "no device left after num_devices=$v" test ! -e $SYS -a ! -e $CTL
done
summary
