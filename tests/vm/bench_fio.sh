# Benchmark (not a test): C zram against rzram with each allocator, in one
# boot, alternating devices so that a noisy host spreads over all of them.
# Prints raw result lines for scripts/bench.sh:
#   BENCH <dev> <kind> <job> <round> <read KiB/s> <read IOPS> <write KiB/s> <write IOPS>
#   BENCHMM <dev> <kind> <round> <orig_data_size> <compr_data_size> <mem_used_total>
#   BENCHSWAP <dev> <round> <seconds>
# <dev> is rzram-<allocator>, zram/<allocator> (the zram device measured
# alongside it) or, for swap, zram. Every device gets lz4 and 256 MiB.
# SMOKE=1 (rzsmoke=1): one round, 1 s jobs, a small memhog; for checking
# the harness, not for figures.
. /tests/lib.sh

DEVS="zram rzram-zsmalloc rzram-zbud rzram-z3fold"
# RAMP: seconds each job runs before fio starts counting, so that its
# start (threads, first I/Os, code the emulator has not translated yet)
# stays out of a figure that covers only 2 s.
if [ "$SMOKE" = 1 ]; then ROUNDS=1; RUNTIME=1; RAMP=0; else ROUNDS=5; RUNTIME=2; RAMP=1; fi
SIZE_MIB=256

check "modprobe zram" modprobe zram
check "modprobe rzram" modprobe rzram

make_corpus

# job KIND NODE JOB: one timed fio job; prints its BENCH fields after
# "<job>": read KiB/s, read IOPS, write KiB/s, write IOPS.
job() {
    data=$(bench_data $1)
    case $3 in
        randwrite) args="--rw=randwrite --bs=4k" ;;
        randread) args="--rw=randread --bs=4k" ;;
        seqwrite) args="--rw=write --bs=128k" ;;
        seqread) args="--rw=read --bs=128k" ;;
        mixed) args="--rw=randrw --rwmixread=70 --bs=4k --numjobs=4" ;;
    esac
    # shellcheck disable=SC2086 # word splitting of the option lists is meant
    out=$($FIO --name=$3 --filename="$2" --size=${SIZE_MIB}M --time_based --runtime=$RUNTIME --ramp_time=$RAMP \
        $args $data 2>&1 | tail -n 1)
    echo "$out" | awk -F';' 'NF > 100 {print $7, $8, $48, $49; ok = 1} END {if (!ok) print "ERR"}'
}

JOBS="seqread randread randwrite seqwrite mixed"
# run_job KIND JOB DEVNAME NODE ROUND: one job, one BENCH line.
run_job() {
    r=$(job $1 $4 $2)
    case $r in ERR*) fail "fio $2 on $3 ($1)" ;; *) echo "BENCH $3 $1 $2 $5 $r" ;; esac
}
# Each rzram allocator is measured next to a zram device set up at the
# same time: the two run every job back to back (the order flipping from
# job to job), so that each rzram figure has a zram figure taken seconds
# apart; the host's load changes over minutes. zram's lines are named
# zram/<allocator> after the rzram device they pair with.
# Within a round the order flips from job to job across devices and data
# kinds (5 jobs: each block starts the other way round from the last), and
# each round starts the other way round from the round before, so no job
# runs on the same side of its pair in every round.
round=1
eflip=0
while [ $round -le $ROUNDS ]; do
    flip=$((round % 2))
    for kind in c50 real; do
        for a in zsmalloc zbud z3fold; do
            set -- $(dev_up zram) $(dev_up rzram-$a)
            zn=$1; zs=$2; rn=$3; rs=$4
            if [ $kind = c50 ]; then
                # Reads of never-written pages: the per-bio path alone (no
                # pool, no decompression) on each driver.
                if [ $eflip = 0 ]; then
                    run_job empty randread zram/$a $zn $round
                    run_job empty randread rzram-$a $rn $round
                    eflip=1
                else
                    run_job empty randread rzram-$a $rn $round
                    run_job empty randread zram/$a $zn $round
                    eflip=0
                fi
            fi
            bench_fill $kind $zn $SIZE_MIB
            echo "BENCHMM zram/$a $kind $round $(awk '{print $1, $2, $3}' $zs/mm_stat)"
            bench_fill $kind $rn $SIZE_MIB
            echo "BENCHMM rzram-$a $kind $round $(awk '{print $1, $2, $3}' $rs/mm_stat)"
            for j in $JOBS; do
                if [ $flip = 0 ]; then
                    run_job $kind $j zram/$a $zn $round
                    run_job $kind $j rzram-$a $rn $round
                    flip=1
                else
                    run_job $kind $j rzram-$a $rn $round
                    run_job $kind $j zram/$a $zn $round
                    flip=0
                fi
            done
            dev_down $zn $zs
            dev_down $rn $rs
        done
    done
    round=$((round + 1))
done
pass "fio jobs"

# Swap: memhog pushes a fixed amount past the guest's memory through each
# device: one pass verifies every page on its way back and rewrites it. Round
# 0 is an untimed warm-up (the first run under memory pressure in a boot was
# several times slower than the rest, whatever the device). As with the fio
# jobs, each rzram allocator runs next to a zram run (zram/<allocator>), the
# order flipping from pair to pair: successive runs in a boot drift (each
# a little faster than the one before), and a fixed order would hand the
# drift to one side.
rm -f /tmp/corpus /tmp/pattern
swap_reserve
avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
hog=$((avail + 128))
warm=", after one untimed warm-up run on zram"
[ "$SMOKE" = 1 ] && warm=", no warm-up (smoke run)"
if [ "$SMOKE" = 1 ]; then SWAP_ROUNDS=1; else SWAP_ROUNDS=5; fi
note "swap: MemAvailable ${avail} MiB, memhog ${hog} MiB, 1 pass (verify + rewrite), $SWAP_ROUNDS rounds$warm"
uptime_cs() { awk '{split($1, a, "."); print a[1] * 100 + a[2]}' /proc/uptime; }
# swap_run NAME ROUND: one memhog run on a fresh 1 GiB swap device; prints
# its BENCHSWAP line unless ROUND is 0 (the warm-up).
swap_run() {
    case $1 in zram*) dev=zram ;; *) dev=$1 ;; esac
    set -- "$1" "$2" $(dev_up $dev 1G)
    mkswap "$3" >/dev/null && swapon "$3"
    t0=$(uptime_cs)
    if out=$(memhog $hog --passes 1 --prefix 256 2>&1) && echo "$out" | grep -q '^memhog: PASS'; then
        t1=$(uptime_cs)
        [ "$2" = 0 ] || echo "BENCHSWAP $1 $2 $(((t1 - t0) / 100)).$(printf %02d $(((t1 - t0) % 100)))"
    else
        fail "memhog on $1: $(echo "$out" | tail -n 1)"
    fi
    swapoff "$3"
    dev_down "$3" "$4"
}
[ "$SMOKE" = 1 ] || swap_run zram 0
flip=0
for round in $(seq $SWAP_ROUNDS); do
    for a in zsmalloc zbud z3fold; do
        if [ $flip = 0 ]; then
            swap_run zram/$a $round; swap_run rzram-$a $round; flip=1
        else
            swap_run rzram-$a $round; swap_run zram/$a $round; flip=0
        fi
    done
done
no_oom "no OOM kill during the swap runs"
pass "swap runs"
summary
