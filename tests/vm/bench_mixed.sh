# Profiling aid for bench_fio's mixed row (not part of `make bench`): on
# fio-50%-compressible data, 4 KiB random jobs with 1, 2 and 4 jobs, reads
# and writes apart, on zram and rzram (zsmalloc, zbud), alternating, 3
# rounds. Prints "BENCH <dev> c50 <job>-<numjobs> <round> <fields>" lines
# like bench_fio.sh. Run: scripts/run-vm.sh bench_mixed (RZ_VM_MEM=1024).
. /tests/lib.sh

DEVS="zram rzram-zsmalloc rzram-zbud"
FIO="fio --minimal --terse-version=3 --direct=1 --ioengine=psync --group_reporting"
check "modprobe zram" modprobe zram
check "modprobe rzram" modprobe rzram
for round in 1 2 3; do
    for d in $DEVS; do
        case $d in
            zram) n=/dev/zram0; s=/sys/block/zram0 ;;
            rzram-*) n=/dev/rzram0; s=/sys/block/rzram0; echo "${d#rzram-}" > $s/allocator ;;
        esac
        echo lz4 > $s/comp_algorithm
        echo 256M > $s/disksize
        $FIO --name=fill --filename=$n --rw=write --bs=128k --size=256M \
            --buffer_compress_percentage=50 --refill_buffers >/dev/null
        for spec in randrw:1 randrw:2 randrw:4 randread:4 randwrite:4; do
            rw=${spec%:*}; nj=${spec#*:}
            out=$($FIO --name=j --filename=$n --size=256M --time_based --runtime=3 --rw=$rw \
                --rwmixread=70 --bs=4k --numjobs=$nj --buffer_compress_percentage=50 --refill_buffers | tail -n 1)
            echo "BENCH $d c50 $rw-$nj $round $(echo "$out" | awk -F';' '{print $7, $8, $48, $49}')"
        done
        echo 1 > $s/reset
    done
done
pass "mixed runs"
summary
