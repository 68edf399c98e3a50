# Helpers for the VM test scripts (busybox sh): one PASS/FAIL line per case,
# then "NAME: N passed, N failed" from summary. Sourced, not run.
#
# The driver under test is $DRV (set by /init from rzdrv= on the kernel
# command line): rzram, or zram to prove the tests against C zram. Every
# path below derives from it; rzram-only cases are skipped under another
# driver with a "# skip" line that is not counted.
PASSED=0
FAILED=0
DRV=${DRV:-rzram}
DEV=/dev/${DRV}0
SYS=/sys/block/${DRV}0
CTL=/sys/class/${DRV}-control
DBG=/sys/kernel/debug/${DRV}

pass() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }
note() { echo "# $*"; }
skip() { echo "# skip $*"; }

# dev_sys N / dev_node N: sysfs directory and device node of device N.
dev_sys() { echo "/sys/block/$DRV$1"; }
dev_node() { echo "/dev/$DRV$1"; }

is_rzram() { [ "$DRV" = rzram ]; }
# kernel_has MODULE: the running kernel has MODULE, built in or loadable
# (Debian's kernel, for one, has no lib/842: no 842_compress).
kernel_has() {
    grep -qE "(^|/)$1\.ko(\.xz)?(:|\$)" "/lib/modules/$(uname -r)/modules.dep" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null
}
# The debug kernel flavour (KASAN, lockdep, kmemleak): everything runs
# several times slower there, so long variants size their work down.
debug_kernel() { [ -e /sys/kernel/debug/kmemleak ]; }
# rzram_only DESC: true under rzram; otherwise prints the skip note.
rzram_only() {
    is_rzram && return 0
    skip "$1 (rzram only, driver is $DRV)"
    return 1
}

load() { modprobe "$DRV" "$@"; }
unload() { rmmod "$DRV"; }

# check DESC CMD...: the command must succeed.
check() {
    desc=$1; shift
    if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc: $(echo "$out" | tail -n 3)"; fi
}

# check_sh DESC SHELL-COMMAND: the shell command must succeed.
check_sh() {
    desc=$1; shift
    if out=$(sh -c "$*" 2>&1); then pass "$desc"; else fail "$desc: $(echo "$out" | tail -n 3)"; fi
}

# expect_eq DESC ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}

# expect_num DESC A OP B: numeric comparison (OP: -lt -le -eq -ne -ge -gt).
expect_num() {
    if [ -n "$2" ] && [ "$2" "$3" "$4" ] 2>/dev/null; then
        pass "$1 ($2 $3 $4)"
    else
        fail "$1: '$2' $3 '$4' does not hold"
    fi
}

# expect_err DESC ERRTEXT SHELL-COMMAND: the command must fail and its error
# message must contain ERRTEXT (how busybox shows the errno, e.g. "Invalid
# argument", "Device or resource busy", "Argument list too long",
# "No such device").
expect_err() {
    desc=$1; want=$2; shift 2
    if out=$(sh -c "$*" 2>&1); then
        fail "$desc: succeeded, expected '$want'"
    elif echo "$out" | grep -qi "$want"; then
        pass "$desc"
    else
        fail "$desc: '$out' does not say '$want'"
    fi
}


# mm_stat_col N [SYSDIR] / io_stat_col N [SYSDIR]: column N (1-based).
mm_stat_col() { awk -v c="$1" '{print $c}' "${2:-$SYS}/mm_stat"; }
io_stat_col() { awk -v c="$1" '{print $c}' "${2:-$SYS}/io_stat"; }

# listed FILE: the names in a "[current] other other" attribute, unbracketed.
listed() { sed 's/[][]//g' "$1"; }
# current FILE: the bracketed name.
current() { sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1"; }
# in_list WORD LIST...
in_list() { w=$1; shift; for x in "$@"; do [ "$x" = "$w" ] && return 0; done; return 1; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# md5_dev DEV SKIP_PAGES PAGES: md5 of PAGES pages from page SKIP_PAGES,
# read with O_DIRECT (4 KiB blocks: the device's logical block size).
md5_dev() { dd if="$1" bs=4096 skip="$2" count="$3" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
# md5_file FILE SKIP_PAGES PAGES: the same over a regular file.
md5_file() { dd if="$1" bs=4096 skip="$2" count="$3" 2>/dev/null | md5sum | cut -d' ' -f1; }

# oom_mark; no_oom DESC: no OOM kill in the kernel log since the last
# oom_mark (since boot without one), so one case's kill is not blamed on
# the next.
oom_count() { dmesg | grep -ciE 'invoked oom-killer'; }
OOM_BASE=0
oom_mark() { OOM_BASE=$(oom_count); }
no_oom() {
    if [ "$(oom_count)" -gt "$OOM_BASE" ]; then
        fail "$1: $(dmesg | grep -iE 'invoked oom-killer' | tail -n 1)"
    else
        pass "$1"
    fi
}

# swap_reserve: raise vm.min_free_kbytes to 16 MiB before swapping more
# than the guest's memory. With two CPUs the default for 512 MiB (about
# 2.8 MiB) is not enough: reclaim writes pages to the compressed device
# from PF_MEMALLOC context, where the pool's own page allocations may use
# the reserve, so free memory reached zero and kswapd's swap-table
# allocation failed (a warning with a call trace), with C zram exactly as
# with rzram. A larger reserve is the usual setting for compressed swap;
# every driver and every swap test gets the same one.
# The watermark boost goes to 0: after a fragmentation event it adds up to
# 16 MiB more on top of that reserve, which in test_swapalloc's 128 MiB
# guest stalled user-space page faults for 10-20 s on the debug kernel.
swap_reserve() {
    old=$(cat /proc/sys/vm/min_free_kbytes)
    [ "$old" -ge 16384 ] || echo 16384 > /proc/sys/vm/min_free_kbytes
    boost=$(cat /proc/sys/vm/watermark_boost_factor)
    echo 0 > /proc/sys/vm/watermark_boost_factor
    note "vm.min_free_kbytes $old -> $(cat /proc/sys/vm/min_free_kbytes), watermark_boost_factor $boost -> $(cat /proc/sys/vm/watermark_boost_factor)"
}

# swap_io_ok TAG: after memhog through swap on $DEV, no read failed, and
# writes failed for at most 1% of the pages swapped (notify_free). As in
# zram, a write that gets no page under GFP_NOIO fails with EIO when memory
# runs out, and swap keeps that page in memory: nothing is lost (memhog
# verifies every page), but each such write is noted.
swap_io_ok() {
    expect_eq "$1: no failed reads" "$(io_stat_col 1)" 0
    fw=$(io_stat_col 2)
    [ "$fw" = 0 ] || note "$1: $fw swap writes failed (no page under GFP_NOIO); the kernel kept those pages"
    expect_num "$1: failed writes at most 1% of the pages swapped" "$fw" -le $(($(io_stat_col 4) / 100))
}

# slab_watch_start / slab_watch_stop: on a kernel with SLUB debugfs (the
# debug flavour), a background loop notes the largest slab cache and its
# top allocation call sites each time unreclaimable slab has grown by
# another 32 MiB, so memory pressure that ends in the OOM killer leaves the
# reason in the log.
SLAB_WATCH=
slab_watch_start() {
    [ -r /proc/slabinfo ] && [ -d /sys/kernel/debug/slab ] || return 0
    (
        next=$(($(awk '/SUnreclaim/ {print $2}' /proc/meminfo) + 32768))
        while sleep 2; do
            su=$(awk '/SUnreclaim/ {print $2}' /proc/meminfo)
            [ "$su" -gt "$next" ] || continue
            next=$((su + 32768))
            top=$(awk 'NR > 2 {print $3 * $4, $1}' /proc/slabinfo | sort -n | tail -n 1)
            note "slab watch: SUnreclaim $su kB; largest cache ${top#* } ($((${top% *} / 1024)) kB)"
            head -c 4000 "/sys/kernel/debug/slab/${top#* }/alloc_traces" 2>/dev/null | sed 's/^/# slab watch: /'
        done
    ) &
    SLAB_WATCH=$!
}
slab_watch_stop() { [ -z "$SLAB_WATCH" ] || kill "$SLAB_WATCH" 2>/dev/null; SLAB_WATCH=; }

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

summary() { echo "$TEST_NAME: $PASSED passed, $FAILED failed"; }

# make_corpus: the benchmarks' real-content data. Every binary, library and
# kernel module the guest has (ELF code and data, the kind of pages a system
# swaps), concatenated into /tmp/corpus; its size in KiB goes to corpus_kib.
# fio's writes of this kind use a 128 KiB slice of it, /tmp/pattern, as
# their buffer pattern (4 KiB jobs: its first page).
make_corpus() {
    find /bin/busybox /bin/memhog /bin/dio-check /usr /lib -type f 2>/dev/null | sort | xargs cat > /tmp/corpus
    corpus_kib=$(($(wc -c < /tmp/corpus) / 1024))
    dd if=/tmp/corpus of=/tmp/pattern bs=128k skip=8 count=1 2>/dev/null
    note "corpus ${corpus_kib} KiB: $(find /bin/busybox /bin/memhog /bin/dio-check /usr /lib -type f 2>/dev/null | wc -l) files"
}

# The benchmarks' fio: O_DIRECT, in its own quiet mode (one ';'-separated
# line per job group).
FIO="fio --minimal --terse-version=3 --direct=1 --ioengine=psync --group_reporting"

# bench_fill KIND NODE MIB: write every page of the first MIB MiB of NODE
# once, with fio's 50%-compressible buffers (c50) or the corpus written
# over and over (real; make_corpus first).
bench_fill() {
    case $1 in
        c50) $FIO --name=fill --filename="$2" --rw=write --bs=128k --size=${3}M \
                 --buffer_compress_percentage=50 --refill_buffers >/dev/null ;;
        real) off=0
            while [ $off -lt $(($3 * 1024)) ]; do
                dd if=/tmp/corpus of="$2" bs=128k seek=$((off / 128)) oflag=direct conv=sync 2>/dev/null
                off=$((off + corpus_kib / 128 * 128 + 128))
            done ;;
    esac
}

# dev_up NAME [SIZE]: initialise the benchmarks' device for NAME (zram, or
# rzram-<allocator>): lz4, SIZE (default 256M); prints "NODE SYS".
dev_up() {
    case $1 in
        zram) n=/dev/zram0; s=/sys/block/zram0 ;;
        rzram-*) n=/dev/rzram0; s=/sys/block/rzram0; echo "${1#rzram-}" > $s/allocator ;;
    esac
    echo lz4 > $s/comp_algorithm
    echo ${2:-256M} > $s/disksize
    echo "$n $s"
}
# dev_down NODE SYS: reset the device dev_up set up.
dev_down() { echo 1 > "$2/reset"; }

# bench_data KIND: fio's data options for c50 or real (make_corpus first).
bench_data() {
    case $1 in
        c50) echo "--buffer_compress_percentage=50 --refill_buffers" ;;
        real) echo "--buffer_pattern='/tmp/pattern'" ;;
    esac
}
