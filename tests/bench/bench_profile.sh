# Profiling aid (scripts/bench/profile.sh, not part of `make bench`): the
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
. /tests/lib_bench.sh

SECS=40
bench_load
make_corpus
for kind in c50 real; do
    for d in zram rzram-$DEF_ALLOC; do
        dev_up $d
        bench_fill $kind $NODE $BENCH_MIB
        jobs=mixed
        [ $kind = real ] && jobs="mixed randwrite"
        for j in $jobs; do
            ph=$d-$kind-$j
            echo "PROFILE-START $ph"
            out=$(fio_job $kind $NODE $j $SECS)
            echo "PROFILE-END $ph $out"
            [ "$out" != ERR ] || fail "fio in phase $ph"
        done
        dev_down $SYSD
    done
done
swap_reserve
hog=$(($(avail_mib) + 128))
# The first run under memory pressure in a boot is much slower whatever the
# device (see bench_fio.sh), so a warm-up run on zram goes first, unsampled.
oom_mark
for d in warm-up zram rzram-$DEF_ALLOC; do
    case $d in warm-up) dev_up zram 1G ;; *) dev_up $d 1G ;; esac
    swap_on $NODE
    [ $d = warm-up ] || echo "PROFILE-START $d-swap"
    memhog_run "$d swap" $hog --passes 1 --prefix 256
    [ $d = warm-up ] || echo "PROFILE-END $d-swap $MEMHOG_SECS s: $(echo "$MEMHOG_OUT" | tail -n 1)"
    swapoff $NODE
    dev_down $SYSD
done
no_oom "no OOM kill during the swap runs"
awk '$2 ~ /^[tT]$/ {print "KSYM", $1, $3, $4}' /proc/kallsyms
summary
