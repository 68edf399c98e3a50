#!/usr/bin/env bash
# Profiling aid (also `scripts/bench.sh --profile`): boots the guest with
# tests/bench/bench_profile.sh through scripts/run-vm.sh, with QEMU's gdb
# stub on, and samples the vCPUs' program counters through it while a phase
# runs (TCG has no perf map): a flat profile per phase, kernel and module
# functions named from the guest's /proc/kallsyms. Writes
# out/bench-profile.txt and prints the 25 hottest entries per phase.
# Fails, with no profile, if the guest run failed (a device that did not
# come up, a splat, a timeout).
set -uo pipefail
. "$(dirname "$0")/../env.sh"
command -v gdb >/dev/null || rz_die "the profile needs gdb"

out=$RZ_TOP/out
mkdir -p "$out"
console=$out/bench-profile.console
samples=$out/bench-profile.samples
port=$((20000 + $$ % 20000))
: > "$samples"
: > "$console"
rz_log "profile: booting with the gdb stub on port $port (guest output: ${console#"$RZ_TOP"/})"
(
    RZ_VM_SHOW=all RZ_VM_MEM=1024 RZ_VM_TIMEOUT=${RZ_VM_TIMEOUT:-2400} RZ_VM_QEMU_ARGS="-gdb tcp:127.0.0.1:$port" \
        "$RZ_TOP/scripts/run-vm.sh" bench_profile 2>&1
    echo "run-vm: exit $?"
) | tee "$console" | grep -a --line-buffered -E '^(PASS|FAIL|PROFILE|# |vm: |\[rzram)' &
vpid=$!
# One sample: stop the guest, read each vCPU's pc, let it run on.
while kill -0 $vpid 2>/dev/null; do
    phase=$(grep -a -E '^PROFILE-(START|END)' "$console" 2>/dev/null | tail -n1)
    case $phase in
        PROFILE-START*)
            gdb -q -nx -batch -ex 'set pagination off' -ex "target remote 127.0.0.1:$port" \
                -ex 'thread apply all p/x $pc' -ex detach 2>/dev/null |
                awk -v ph="${phase#PROFILE-START }" '
                    /^Thread / { idle = /halted/ }
                    /^[$][0-9]+ = 0x/ { print ph, (idle ? "idle" : $3) }' >> "$samples"
            sleep 0.2 ;;
        *) sleep 1 ;;
    esac
done
wait $vpid
grep -aqx 'run-vm: exit 0' "$console" || rz_die "the profile run failed (guest output: ${console#"$RZ_TOP"/})"

# Name each sample: user space, or the kernel symbol at or below it.
# Kernel text and modules live in 0xffffffff........, so the low 32
# bits (exact in awk's doubles) are compared.
{ grep -a '^KSYM ffffffff' "$console" | tr -d '\r' | sort -k2,2; sed 's/^/S /' "$samples"; } | awk '
    function low(s,   i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s); s = substr(s, length(s) - 7)
        for (i = 1; i <= 8; i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return v }
    $1 == "KSYM" { n++; addr[n] = low($2); name[n] = $3 ($4 != "" ? " " $4 : ""); next }
    $1 == "S" {
        total[$2]++
        if ($3 == "idle") { hits[$2 SUBSEP "(vCPU halted: idle)"]++; next }
        if ($3 !~ /^0xffffffff/) { hits[$2 SUBSEP "(user space: fio or memhog)"]++; next }
        pc = low($3); lo = 1; hi = n
        while (lo < hi) { mid = int((lo + hi + 1) / 2); if (addr[mid] <= pc) lo = mid; else hi = mid - 1 }
        hits[$2 SUBSEP name[lo]]++
    }
    END { for (k in hits) { split(k, p, SUBSEP); printf "%s %5.1f%% %s\n", p[1], 100 * hits[k] / total[p[1]], p[2] }
          for (ph in total) printf "%s 100.0%% total: %d samples\n", ph, total[ph] }' |
    sort -k1,1 -k2,2nr > "$out/bench-profile.txt"
awk '{ if (++seen[$1] <= 25) print }' "$out/bench-profile.txt"
