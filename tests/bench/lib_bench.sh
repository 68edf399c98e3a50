# Helpers for the benchmark scripts (guest side, sourced after lib.sh): C
# zram against the driver under test ($DRV, rzram), the real-file corpus,
# fio's quiet mode, devices set up in pairs and runs taken in turn.

# The benchmarks' fio: O_DIRECT, in its own quiet mode (one ';'-separated
# line per job group). It never creates a file: where a device node is
# missing, fio would otherwise make a regular file of that name in /dev and
# report figures about nothing.
FIO="fio --minimal --terse-version=3 --direct=1 --ioengine=psync --group_reporting --allow_file_create=0"
# Each fio device's size in MiB, which every job covers: large enough that
# a 4 KiB random job does not run inside a few cached pages, small enough
# that two devices filled with incompressible data fit in the 1 GiB guest.
BENCH_MIB=256

# bench_load: loads C zram and $DRV; either one, or its device 0, missing
# is fatal (load_module). The allocators measured are $DRV's (ALLOCATORS,
# from load).
bench_load() {
    [ "$DRV" != zram ] || fatal "a benchmark measures another driver against C zram, not zram against itself"
    load_module zram
    load
}

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

# bench_data KIND: fio's data options for c50 (50% compressible buffers) or
# real (the corpus' pattern; make_corpus first); none for empty.
bench_data() {
    case $1 in
        c50) echo "--buffer_compress_percentage=50 --refill_buffers" ;;
        real) echo "--buffer_pattern='/tmp/pattern'" ;;
    esac
}

# bench_fill KIND NODE MIB: write every page of the first MIB MiB of NODE
# once, with fio's 50%-compressible buffers (c50) or the corpus written
# over and over (real; make_corpus first).
bench_fill() {
    case $1 in
        c50) $FIO --name=fill --filename="$2" --rw=write --bs=128k --size=${3}M $(bench_data c50) >/dev/null ;;
        real) off=0
            while [ $off -lt $(($3 * 1024)) ]; do
                dd if=/tmp/corpus of="$2" bs=128k seek=$((off / 128)) oflag=direct conv=sync 2>/dev/null
                off=$((off + corpus_kib / 128 * 128 + 128))
            done ;;
    esac
}

# fio_job KIND NODE JOB SECS [RAMP]: one timed fio job over BENCH_MIB MiB
# of NODE with KIND's data, counting SECS seconds after RAMP; prints read
# KiB/s, read IOPS, write KiB/s, write IOPS, or ERR.
fio_job() {
    local args
    case $3 in
        randwrite) args="--rw=randwrite --bs=4k" ;;
        randread) args="--rw=randread --bs=4k" ;;
        seqwrite) args="--rw=write --bs=128k" ;;
        seqread) args="--rw=read --bs=128k" ;;
        mixed) args="--rw=randrw --rwmixread=70 --bs=4k --numjobs=4" ;;
    esac
    # shellcheck disable=SC2086 # the option lists are meant to split
    $FIO --name=$3 --filename="$2" --size=${BENCH_MIB}M --time_based --runtime=$4 --ramp_time=${5:-0} \
        $args $(bench_data $1) 2>&1 | tail -n 1 |
        awk -F';' 'NF > 100 {print $7, $8, $48, $49; ok = 1} END {if (!ok) print "ERR"}'
}

# dev_up NAME [SIZE]: initialises the device for NAME (zram, or
# rzram-<allocator> on $DRV) with lz4 and SIZE (default BENCH_MIB MiB);
# sets NODE and SYSD. Fatal if it does not come up (dev_init).
dev_up() {
    case $1 in
        zram) SYSD=/sys/block/zram0; dev_init $SYSD ${2:-${BENCH_MIB}M} default/lz4 ;;
        *) SYSD=$SYS; dev_init $SYSD ${2:-${BENCH_MIB}M} "${1#*-}/lz4" ;;
    esac
    NODE=/dev/${SYSD##*/}
}
# dev_down SYSD: resets the device dev_up set up (fatal if refused: the
# next set-up needs it).
dev_down() {
    local e
    e=$(set_attr "$1/reset" 1) || fatal "${1##*/}: $e"
}

# pair_up ALLOC: a zram device (ZN, ZS: node and sysfs directory) and the
# rzram device with ALLOC (RN, RS), set up together so that each rzram
# figure has a zram figure taken next to it. pair_down resets both.
pair_up() {
    dev_up zram; ZN=$NODE; ZS=$SYSD
    dev_up rzram-$1; RN=$NODE; RS=$SYSD
}
pair_down() { dev_down $ZS; dev_down $RS; }

# in_turn VAR A B: runs the shell commands A and B, A first when $VAR is 0
# and B first otherwise, and flips VAR: the side of a pair that runs first
# changes from one pair to the next, as runs in a boot drift (each a
# little faster than the one before) and a fixed order would hand the
# drift to one side.
in_turn() {
    if eval "[ \"\$$1\" = 0 ]"; then
        eval "$2"; eval "$3"; eval "$1=1"
    else
        eval "$3"; eval "$2"; eval "$1=0"
    fi
}
