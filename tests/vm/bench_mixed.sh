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

KINDS=real
JOBS="randwrite mixed"
if [ "$SMOKE" = 1 ]; then ROUNDS=1; SECS=1; else ROUNDS=6; SECS=10; fi
check "modprobe zram" modprobe zram
check "modprobe rzram" modprobe rzram
make_corpus

# iops JOB NODE KIND: one timed fio job; prints read + write IOPS or ERR.
iops() {
    case $1 in
        mixed) args="--rw=randrw --rwmixread=70 --numjobs=4" ;;
        randwrite) args="--rw=randwrite" ;;
    esac
    # shellcheck disable=SC2086 # the option lists are meant to split
    $FIO --name=$1 --filename=$2 --size=256M --time_based --runtime=$SECS --bs=4k $args \
        $(bench_data $3) 2>&1 | tail -n 1 |
        awk -F';' 'NF > 100 {print $8 + $49; ok = 1} END {if (!ok) print "ERR"}'
}

: > /tmp/pairs
for round in $(seq $ROUNDS); do
    flip=$((round % 2))
    for kind in $KINDS; do
        set -- $(dev_up zram) $(dev_up rzram-zsmalloc)
        zn=$1; zs=$2; rn=$3; rs=$4
        bench_fill $kind $zn 256
        bench_fill $kind $rn 256
        for j in $JOBS; do
            if [ $flip = 0 ]; then
                z=$(iops $j $zn $kind); r=$(iops $j $rn $kind); flip=1
            else
                r=$(iops $j $rn $kind); z=$(iops $j $zn $kind); flip=0
            fi
            case "$z $r" in
                *ERR*) fail "fio $j ($kind) in round $round" ;;
                *) echo "PAIR $kind $j $round $z $r" | tee -a /tmp/pairs ;;
            esac
        done
        dev_down $zn $zs
        dev_down $rn $rs
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
pass "long pairs"
summary
