# Device helpers for the VM scripts: the driver under test and its paths,
# loading it, the allocator x codec cases, setting a device up. Sourced by
# lib.sh.
#
# The driver under test is $DRV (set by /init from rzdrv= on the kernel
# command line): rzram, or zram to prove the tests against C zram. Every
# path below derives from it; rzram-only cases are skipped under another
# driver with a "# skip" line that is not counted.
# DEVNAME is the name the devices carry: the driver's own, or zram's for
# rzram under zram's names (a script sets DEVNAME=zram before sourcing
# lib.sh; load then passes zram_names=1), as zram's own tools need.
DRV=${DRV:-rzram}
DEVNAME=${DEVNAME:-$DRV}
DEV=/dev/${DEVNAME}0
SYS=/sys/block/${DEVNAME}0
CTL=/sys/class/${DEVNAME}-control
DBG=/sys/kernel/debug/${DEVNAME}

# dev_sys N / dev_node N: sysfs directory and device node of device N.
dev_sys() { echo "/sys/block/$DEVNAME$1"; }
dev_node() { echo "/dev/$DEVNAME$1"; }

is_rzram() { [ "$DRV" = rzram ]; }
# zram_named: rzram registered under zram's names.
zram_named() { is_rzram && [ "$DEVNAME" = zram ]; }
# The debug kernel flavour (KASAN, lockdep, kmemleak): everything runs
# several times slower there, so long variants size their work down.
debug_kernel() { [ -e /sys/kernel/debug/kmemleak ]; }
# kernel_has MODULE: the running kernel has MODULE, built in or loadable
# (Debian's kernel, for one, has no lib/842: no 842_compress).
kernel_has() {
    grep -qE "(^|/)$1\.ko(\.xz)?(:|\$)" "/lib/modules/$(uname -r)/modules.dep" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null
}
# rzram_only DESC: true under rzram; otherwise prints the skip note.
rzram_only() {
    is_rzram && return 0
    skip "$1 (rzram only, driver is $DRV)"
    return 1
}

# mm_stat_col N [SYSDIR] / io_stat_col N [SYSDIR]: column N (1-based).
mm_stat_col() { awk -v c="$1" '{print $c}' "${2:-$SYS}/mm_stat"; }
io_stat_col() { awk -v c="$1" '{print $c}' "${2:-$SYS}/io_stat"; }

# nth N WORD...: the (N mod count)-th word, from 0.
nth() { local k=$1; shift; shift $((k % $#)); echo "$1"; }

# load_module NAME [PARAM...]: modprobe NAME; it must load and its device 0
# must exist, or the script stops (fatal): a module the kernel refuses (a
# stale initramfs gives "invalid module format") leaves nothing to test.
# Device 0 is ${DEVNAME}0 for the driver under test, NAME0 for another.
load_module() {
    local m=$1 d=$1 out
    shift
    [ "$m" != "$DRV" ] || d=$DEVNAME
    out=$(modprobe "$m" "$@" 2>&1) || fatal "modprobe $m $*: $(echo "$out" | tail -n 1)"
    [ -d "/sys/block/${d}0" ] && [ -b "/dev/${d}0" ] || fatal "modprobe $m $*: no /dev/${d}0 after loading"
}

# load [PARAM...]: load $DRV (load_module: fatal if it or its device 0
# does not come up; zram_names=1 first when zram_named) and read what it offers from device 0: CODECS and
# DEF_CODEC (comp_algorithm's list and current entry), ALLOCATORS and
# DEF_ALLOC (the allocator attribute's: rzram's backends, zsmalloc first,
# and any the driver adds later). C zram has no allocator attribute: its
# one allocator, zsmalloc, is called "default" here, which every set-up
# leaves alone.
load() {
    if zram_named; then load_module "$DRV" zram_names=1 "$@"; else load_module "$DRV" "$@"; fi
    CODECS=$(listed $SYS/comp_algorithm)
    DEF_CODEC=$(current $SYS/comp_algorithm)
    if [ -e $SYS/allocator ]; then
        ALLOCATORS=$(listed $SYS/allocator)
        DEF_ALLOC=$(current $SYS/allocator)
    elif is_rzram; then
        fatal "$SYS has no allocator attribute"
    else
        ALLOCATORS=default
        DEF_ALLOC=default
    fi
}
unload() { rmmod "$DRV"; }

# cases [-r] [-x ALLOC] CODEC...: sets CASES to the allocator x codec cases
# a script runs, as ALLOC/CODEC words; every script picks them this way.
# The allocators are the driver's own (ALLOCATORS, from load), so one the
# driver adds joins every loop; codecs the driver does not offer are left
# out. Without -r: every allocator with every CODEC, allocator by
# allocator. With -r (short variants): each allocator once, taking the
# codecs in turn, as many cases as needed for every codec to appear.
# -x ALLOC leaves that allocator out (another script covers it). No case
# at all is fatal: the loop would test nothing.
cases() {
    local rot=0 ex= as= cs= a c i n
    while :; do
        case $1 in
            -r) rot=1; shift ;;
            -x) ex=$2; shift 2 ;;
            *) break ;;
        esac
    done
    for c in "$@"; do in_list "$c" $CODECS && cs="$cs $c"; done
    for a in $ALLOCATORS; do [ "$a" = "$ex" ] || as="$as $a"; done
    [ -n "$as" ] && [ -n "$cs" ] || fatal "no allocator x codec case: allocators '$as', codecs '$cs' of '$*'"
    CASES=
    if [ $rot = 0 ]; then
        for a in $as; do for c in $cs; do CASES="$CASES $a/$c"; done; done
    else
        set -- $as; n=$#
        set -- $cs; [ $# -gt $n ] && n=$#
        i=0
        while [ $i -lt $n ]; do
            CASES="$CASES $(nth $i $as)/$(nth $i $cs)"
            i=$((i + 1))
        done
    fi
}

# set_attr FILE VALUE: writes VALUE to FILE; if refused, prints what the
# write said and returns non-zero.
set_attr() {
    local err
    err=$( { echo "$2" > "$1"; } 2>&1) || { echo "${1##*/} $2: ${err##*: }"; return 1; }
}

# dev_init SYSDIR SIZE [CASE [PARAMS]]: sets device SYSDIR up: for CASE
# (ALLOC/CODEC as cases gives them; "default" leaves that setting alone)
# its allocator and codec, algorithm_params PARAMS if given, then disksize
# SIZE. The device must exist and end initialised; a missing device or a
# refused write is fatal, as every case after it needs the device.
dev_init() {
    local s=$1 size=$2 alloc=${3%/*} codec=${3#*/} params=$4 node=/dev/${1##*/} e
    [ -d "$s" ] && [ -b "$node" ] || fatal "${3:-set-up}: no device $node"
    [ -z "$alloc" ] || [ "$alloc" = default ] || e=$(set_attr $s/allocator "$alloc") || fatal "$3: set-up: $e"
    [ -z "$codec" ] || [ "$codec" = default ] || e=$(set_attr $s/comp_algorithm "$codec") || fatal "$3: set-up: $e"
    [ -z "$params" ] || e=$(set_attr $s/algorithm_params "$params") || fatal "$3: set-up: $e"
    e=$(set_attr $s/disksize "$size") || fatal "${3:-$node}: set-up: $e"
    [ "$(cat $s/initstate)" = 1 ] || fatal "${3:-$node}: initstate is not 1 after disksize $size"
}

# dio_result DESC OUTPUT: the verdict of a dio-check run. C zram on 4 KiB
# pages writes a segment's whole bv_page, ignoring bv_offset, so O_DIRECT
# from a buffer 512 bytes past a page boundary corrupts data there
# (zram_bvec_write: is_partial_io() is constant false when PAGE_SIZE is
# 4096); under zram that failure is an expected one, printed, not counted.
dio_result() {
    if echo "$2" | grep -q '^dio-check: PASS'; then
        pass "$1 ($2)"
    elif ! is_rzram; then
        note "xfail $1: $2 (C zram ignores bv_offset of sub-page segments)"
    else
        fail "$1: $2"
    fi
}
