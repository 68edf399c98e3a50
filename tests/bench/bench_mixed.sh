# Long pairs for the bench cells that 2 s jobs leave unsettled (not part of
# `make bench`): 4 KiB randwrite (one job) and 4 KiB 70/30 randrw with 4
# jobs on real-file content, SECS per job, on zram and rzram (zsmalloc) set
# up side by side and filled alike. The order flips from job to job, and
# each round starts the other way round from the last, as in bench_fio.sh.
# Prints "PAIR <kind> <job> <round> <zram IOPS> <rzram IOPS>" per job and
# round, then per job the median, lowest and highest of rzram / zram and
# the ratio of the summed IOPS.
# Run: RZ_VM_MEM=1024 scripts/run-vm.sh bench_mixed (RZ_SMOKE=1: 1 round
# of 1 s jobs, to check the script only).
. /tests/lib.sh
. /tests/lib_bench.sh

KINDS=real
JOBS="randwrite mixed"
if [ "$SMOKE" = 1 ]; then ROUNDS=1; SECS=1; else ROUNDS=6; SECS=10; fi
bench_load
make_corpus

# pair KIND JOB ROUND: the job on both devices, in turn; one PAIR line
# with the read + write IOPS of each.
pair() {
    in_turn flip "z=\$(fio_job $1 $ZN $2 $SECS)" "r=\$(fio_job $1 $RN $2 $SECS)"
    case "$z $r" in
        *ERR*) fail "fio $2 ($1) in round $3" ;;
        *) echo "PAIR $1 $2 $3 $z $r" | awk '{print $1, $2, $3, $4, $6 + $8, $10 + $12}' | tee -a /tmp/pairs ;;
    esac
}

: > /tmp/pairs
for round in $(seq $ROUNDS); do
    flip=$((round % 2))
    for kind in $KINDS; do
        pair_up $DEF_ALLOC
        bench_fill $kind $ZN $BENCH_MIB
        bench_fill $kind $RN $BENCH_MIB
        for j in $JOBS; do pair $kind $j $round; done
        pair_down
    done
done
for kind in $KINDS; do
    for j in $JOBS; do
        awk -v k=$kind -v j=$j '$2 == k && $3 == j { n++; q[n] = $6 / $5; zs += $5; rs += $6 }
            END {
                if (!n) exit
                for (a = 2; a <= n; a++) { t = q[a]; for (b = a - 1; b >= 1 && q[b] > t; b--) q[b + 1] = q[b]; q[b + 1] = t }
                m = (n % 2) ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
                printf "# %s %s: rzram/zram median %.2f (%.2f-%.2f) over %d pairs; summed IOPS %.2f\n", k, j, m, q[1], q[n], n, rs / zs
            }' /tmp/pairs
    done
done
set -- $KINDS; nk=$#
set -- $JOBS
expect_eq "long pairs measured" "$(wc -l < /tmp/pairs)" $((ROUNDS * nk * $#))
summary
