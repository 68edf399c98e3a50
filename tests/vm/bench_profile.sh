# Profiling aid (scripts/bench.sh --profile, not part of `make bench`): the
# host samples the guest's program counters through QEMU's gdb stub while
# this script runs each phase; the phases are marked on the console.
# Phases: 4 KiB 70/30 randrw with 4 jobs and 128 KiB sequential write, on
# fio-50%-compressible data, on zram and on rzram (zsmalloc), after a fill.
# The kernel's symbol table is printed last (KSYM lines) so that the host
# can name the sampled addresses, modules included.
. /tests/lib.sh

FIO="fio --minimal --terse-version=3 --direct=1 --ioengine=psync --group_reporting"
DATA="--buffer_compress_percentage=50 --refill_buffers"
SECS=${PROFILE_SECS:-40}
check "modprobe zram" modprobe zram
check "modprobe rzram" modprobe rzram
for d in zram rzram-zsmalloc; do
    case $d in
        zram) n=/dev/zram0; s=/sys/block/zram0 ;;
        rzram-*) n=/dev/rzram0; s=/sys/block/rzram0; echo "${d#rzram-}" > $s/allocator ;;
    esac
    echo lz4 > $s/comp_algorithm
    echo 256M > $s/disksize
    $FIO --name=fill --filename=$n --rw=write --bs=128k --size=256M $DATA >/dev/null
    for spec in "mixed --rw=randrw --rwmixread=70 --bs=4k --numjobs=4" "seqwrite --rw=write --bs=128k"; do
        set -- $spec
        ph=$1; shift
        echo "PROFILE-START $d-$ph"
        out=$($FIO --name=$ph --filename=$n --size=256M --time_based --runtime=$SECS "$@" $DATA | tail -n 1)
        echo "PROFILE-END $d-$ph $(echo "$out" | awk -F';' '{print $7, $8, $48, $49}')"
    done
    echo 1 > $s/reset
done
pass "profiled phases"
awk '$2 ~ /^[tT]$/ {print "KSYM", $1, $3, $4}' /proc/kallsyms
summary
