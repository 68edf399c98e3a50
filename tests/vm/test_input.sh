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

E_INVAL="Invalid argument"
E_RANGE="out of range"
E_2BIG="Argument list too long"
E_BUSY="Device or resource busy"
E_ACCES="Permission denied"

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
READABLE="disksize initstate size comp_algorithm allocator max_comp_streams io_stat mm_stat debug_stat"
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
    # dict= reads the file at once, as zram: a missing one is ENOENT.
    printf 'dict=/nonexistent\n' > $P/dict
    if [ $state = uninit ]; then each algorithm_params "No such file" dict; fi

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
bad_writes
expect_eq "data intact after every bad write" "$(md5_dev $DEV 0 512)" "$sum"

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
