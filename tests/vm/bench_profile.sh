# Profiling aid (scripts/bench.sh --profile, not part of `make bench`): the
# host samples the guest's program counters through QEMU's gdb stub while
# this script runs each phase; the phases are marked on the console.
# Phases: 4 KiB 70/30 randrw with 4 jobs, on fio-50%-compressible data and
# on real-file content (bench_fio.sh's corpus and pattern), and 4 KiB
# randwrite (one job) on real-file content, on zram and on rzram
# (zsmalloc), each after a fill of the same kind; then bench_fio.sh's
# swap workload (memhog, MemAvailable + 128 MiB, one pass) on each.
# The kernel's symbol table is printed last (KSYM lines) so that the host
# can name the sampled addresses, modules included.
. /tests/lib.sh

SECS=40
check "modprobe zram" modprobe zram
check "modprobe rzram" modprobe rzram
make_corpus
for kind in c50 real; do
    data=$(bench_data $kind)
    for d in zram rzram-zsmalloc; do
        set -- $(dev_up $d)
        n=$1; s=$2
        bench_fill $kind $n 256
        jobs=mixed
        [ $kind = real ] && jobs="mixed randwrite"
        for j in $jobs; do
            case $j in
                mixed) args="--rw=randrw --rwmixread=70 --numjobs=4" ;;
                randwrite) args="--rw=randwrite" ;;
            esac
            ph=$d-$kind-$j
            echo "PROFILE-START $ph"
            # shellcheck disable=SC2086 # the option lists are meant to split
            out=$($FIO --name=$j --filename=$n --size=256M --time_based --runtime=$SECS \
                --bs=4k $args $data | tail -n 1)
            echo "PROFILE-END $ph $(echo "$out" | awk -F';' '{print $7, $8, $48, $49}')"
        done
        echo 1 > $s/reset
    done
done
swap_reserve
hog=$(($(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo) + 128))
# The first run under memory pressure in a boot is much slower whatever the
# device (see bench_fio.sh), so a warm-up run on zram goes first, unsampled.
for d in warm-up zram rzram-zsmalloc; do
    case $d in warm-up) dev=zram ;; *) dev=$d ;; esac
    set -- $(dev_up $dev 1G)
    n=$1; s=$2
    mkswap $n >/dev/null && swapon $n
    [ $d = warm-up ] || echo "PROFILE-START $d-swap"
    t0=$(cut -d' ' -f1 /proc/uptime)
    out=$(memhog $hog --passes 1 --prefix 256 2>&1 | tail -n 1)
    [ $d = warm-up ] || echo "PROFILE-END $d-swap $(awk -v t="$t0" '{print $1 - t}' /proc/uptime) s: $out"
    swapoff $n
    echo 1 > $s/reset
done
pass "profiled phases"
awk '$2 ~ /^[tT]$/ {print "KSYM", $1, $3, $4}' /proc/kallsyms
summary
