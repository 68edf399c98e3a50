# Profiling aid for bench_fio's mixed row (not part of `make bench`): 4 KiB
# random jobs with 1 and 4 jobs, mixed 70/30 and reads and writes apart, on
# zram and rzram (zsmalloc), alternating, on fio-50%-compressible data and
# on real-file content (the corpus and buffer pattern of bench_fio.sh).
# Prints "BENCH <dev> <kind> <job>-<numjobs> <round> <fields>" lines like
# bench_fio.sh. Run: RZ_VM_MEM=1024 scripts/run-vm.sh bench_mixed
# (BENCH_ROUNDS, BENCH_SECS and BENCH_DEVS from the host environment are not
# passed in; edit the defaults below for other settings).
. /tests/lib.sh

DEVS="zram rzram-zsmalloc"
ROUNDS=3
SECS=3
check "modprobe zram" modprobe zram
check "modprobe rzram" modprobe rzram
make_corpus
for round in $(seq $ROUNDS); do
    for kind in c50 real; do
        data=$(bench_data $kind)
        for d in $DEVS; do
            set -- $(dev_up $d)
            n=$1; s=$2
            bench_fill $kind $n 256
            for spec in randrw:1 randrw:4 randread:4 randwrite:4; do
                rw=${spec%:*}; nj=${spec#*:}
                # shellcheck disable=SC2086 # the option list is meant to split
                out=$($FIO --name=j --filename=$n --size=256M --time_based --runtime=$SECS --rw=$rw \
                    --rwmixread=70 --bs=4k --numjobs=$nj $data | tail -n 1)
                echo "BENCH $d $kind $rw-$nj $round $(echo "$out" | awk -F';' '{print $7, $8, $48, $49}')"
            done
            echo "BENCHMM $d $kind $round $(awk '{print $1, $2, $3}' $s/mm_stat)"
            echo 1 > $s/reset
        done
    done
done
pass "mixed runs"
summary
