# Benchmark (not a test): C zram against rzram with each allocator it
# offers, in one boot, alternating devices so that a noisy host spreads
# over all of them. Prints raw result lines for scripts/bench.sh:
#   BENCH <dev> <kind> <job> <round> <read KiB/s> <read IOPS> <write KiB/s> <write IOPS>
#   BENCHMM <dev> <kind> <round> <orig_data_size> <compr_data_size> <mem_used_total>
#   BENCHSWAP <dev> <round> <seconds>
# <dev> is rzram-<allocator> or zram/<allocator> (the zram device measured
# alongside it). Every device gets lz4; the fio ones BENCH_MIB MiB.
# SMOKE=1 (rzsmoke=1): one round, 1 s jobs, a small memhog; for checking
# the harness, not for figures.
. /tests/lib.sh
. /tests/lib_bench.sh

# RAMP: seconds each job runs before fio starts counting, so that its
# start (threads, first I/Os, code the emulator has not translated yet)
# stays out of a figure that covers only 2 s.
if [ "$SMOKE" = 1 ]; then ROUNDS=1; RUNTIME=1; RAMP=0; else ROUNDS=5; RUNTIME=2; RAMP=1; fi

bench_load
make_corpus

JOBS="seqread randread randwrite seqwrite mixed"
RUN=0; MEASURED=0
# run_job KIND JOB DEVNAME NODE ROUND: one job, one BENCH line.
run_job() {
    RUN=$((RUN + 1))
    r=$(fio_job $1 $4 $2 $RUNTIME $RAMP)
    case $r in
        ERR*) fail "fio $2 on $3 ($1)" ;;
        *) echo "BENCH $3 $1 $2 $5 $r"; MEASURED=$((MEASURED + 1)) ;;
    esac
}
# Each rzram allocator is measured next to a zram device set up at the
# same time (pair_up): the two run every job back to back, in_turn, so
# that each rzram figure has a zram figure taken seconds apart; the host's
# load changes over minutes. zram's lines are named zram/<allocator> after
# the rzram device they pair with. The order flips from job to job across
# devices and data kinds (5 jobs: each block starts the other way round
# from the last), and each round starts the other way round from the round
# before, so no job runs on the same side of its pair in every round.
round=1
eflip=0
while [ $round -le $ROUNDS ]; do
    flip=$((round % 2))
    for kind in c50 real; do
        for a in $ALLOCATORS; do
            pair_up $a
            if [ $kind = c50 ]; then
                # Reads of never-written pages: the per-bio path alone (no
                # pool, no decompression) on each driver.
                in_turn eflip "run_job empty randread zram/$a $ZN $round" "run_job empty randread rzram-$a $RN $round"
            fi
            bench_fill $kind $ZN $BENCH_MIB
            echo "BENCHMM zram/$a $kind $round $(awk '{print $1, $2, $3}' $ZS/mm_stat)"
            bench_fill $kind $RN $BENCH_MIB
            echo "BENCHMM rzram-$a $kind $round $(awk '{print $1, $2, $3}' $RS/mm_stat)"
            for j in $JOBS; do
                in_turn flip "run_job $kind $j zram/$a $ZN $round" "run_job $kind $j rzram-$a $RN $round"
            done
            pair_down
        done
    done
    round=$((round + 1))
done
expect_num "fio jobs run" $RUN -gt 0
expect_eq "every fio job gave figures" "$MEASURED of $RUN" "$RUN of $RUN"

# Swap: memhog pushes a fixed amount past the guest's memory through each
# device: one pass verifies every page on its way back and rewrites it. Round
# 0 is an untimed warm-up (the first run under memory pressure in a boot was
# several times slower than the rest, whatever the device). As with the fio
# jobs, each rzram allocator runs next to a zram run (zram/<allocator>), in
# turn.
rm -f /tmp/corpus /tmp/pattern
swap_reserve
avail=$(avail_mib)
hog=$((avail + 128))
warm=", after one untimed warm-up run on zram"
[ "$SMOKE" = 1 ] && warm=", no warm-up (smoke run)"
if [ "$SMOKE" = 1 ]; then SWAP_ROUNDS=1; else SWAP_ROUNDS=5; fi
note "swap: MemAvailable ${avail} MiB, memhog ${hog} MiB, 1 pass (verify + rewrite), $SWAP_ROUNDS rounds$warm"
# swap_run NAME ROUND: one memhog run on a fresh 1 GiB swap device; prints
# its BENCHSWAP line unless ROUND is 0 (the warm-up).
swap_run() {
    case $1 in zram*) dev_up zram 1G ;; *) dev_up $1 1G ;; esac
    swap_on $NODE
    if memhog_run "$1 round $2" $hog --passes 1 --prefix 256 && [ "$2" != 0 ]; then
        echo "BENCHSWAP $1 $2 $MEMHOG_SECS"
    fi
    swapoff $NODE
    dev_down $SYSD
}
oom_mark
[ "$SMOKE" = 1 ] || swap_run zram 0
sflip=0
for round in $(seq $SWAP_ROUNDS); do
    for a in $ALLOCATORS; do
        in_turn sflip "swap_run zram/$a $round" "swap_run rzram-$a $round"
    done
done
no_oom "no OOM kill during the swap runs"
summary
