#!/usr/bin/env bash
# `make bench`: C zram against rzram (each allocator) in one 1 GiB VM boot
# (tests/vm/bench_fio.sh), then the host-native benchmark of the portable
# store path (tools/pathbench). Prints the tables and writes them into
# docs/benchmarks.md between its "bench:begin" and "bench:end" markers (the
# rest of that file is prose kept as it is).
#
# `scripts/bench.sh --profile` instead boots the guest with tests/vm/
# bench_profile.sh and samples the vCPUs' program counters through QEMU's
# gdb stub (TCG has no perf map): a flat profile per phase, kernel and
# module functions named from the guest's /proc/kallsyms.
#
# Env: RZ_SMOKE=1 runs the harness quickly (1 round, 1 s jobs: not figures;
# docs/benchmarks.md is then left alone); RZ_BENCH_LOG=FILE parses an
# existing guest log instead of booting.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$RZ_TOP"

if [ "${1:-}" = --profile ]; then
    command -v gdb >/dev/null || rz_die "--profile needs gdb"
    kout=$("$RZ_TOP/scripts/build-kernel.sh") || exit 1
    export RZ_KERNEL_SAID=$kout
    initrd=$("$RZ_TOP/scripts/build-initramfs.sh") || exit 1
    plog=$RZ_TOP/out/vm-bench_profile.log
    samples=$RZ_TOP/out/bench-profile.samples
    port=$((20000 + $$ % 20000))
    : > "$samples"
    rz_log "profile: booting with the gdb stub on port $port (log ${plog#"$RZ_TOP"/})"
    timeout 2400 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nographic -no-reboot \
        -gdb tcp:127.0.0.1:$port -kernel "$kout/arch/x86/boot/bzImage" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 oops=panic rztest=bench_profile rzdrv=rzram rzsmoke=0" \
        2>&1 | tee "$plog" | grep -a --line-buffered -E '^(PASS|FAIL|PROFILE|# )' &
    qpid=$!
    # One sample: stop the guest, read each vCPU's pc, let it run on.
    while kill -0 $qpid 2>/dev/null; do
        phase=$(grep -a -E '^PROFILE-(START|END)' "$plog" 2>/dev/null | tail -n1)
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
    wait
    # Name each sample: user space, or the kernel symbol at or below it.
    # Kernel text and modules live in 0xffffffff........, so the low 32
    # bits (exact in awk's doubles) are compared.
    { grep -a '^KSYM ffffffff' "$plog" | tr -d '\r' | sort -k2,2; sed 's/^/S /' "$samples"; } | awk '
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
        sort -k1,1 -k2,2nr > "$RZ_TOP/out/bench-profile.txt"
    grep -a '^PROFILE-END' "$plog"
    awk '{ if (++seen[$1] <= 25) print }' "$RZ_TOP/out/bench-profile.txt"
    exit 0
fi

load_now() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load_now)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$SECONDS

log=${RZ_BENCH_LOG:-}
vmtxt=/dev/null
if [ -z "$log" ]; then
    vmtxt=$RZ_TOP/out/bench-vm.txt
    log=$RZ_TOP/out/vm-bench_fio.log
    # A failed case or a kernel warning (an allocation stall under memory
    # pressure prints a call trace) is reported with the tables, not
    # hidden; only a run without results stops here.
    mkdir -p "$RZ_TOP/out"
    RZ_VM_MEM=1024 RZ_VM_TIMEOUT=${RZ_VM_TIMEOUT:-2700} "$RZ_TOP/scripts/run-vm.sh" bench_fio |
        tee "$vmtxt"
    [ "${PIPESTATUS[0]}" = 0 ] || rz_log "the benchmark VM run reported problems (log: ${log#"$RZ_TOP"/})"
fi
grep -aq '^BENCH ' "$log" || rz_die "no results in $log"
problems=$( (grep -ahE '^FAIL' "$log" "$vmtxt"
    grep -aE 'page allocation stall|BUG:|WARNING:|Oops' "$log") | sort -u | head -n 5)
vm_secs=$((SECONDS - t0))
load_vm=$(load_now)
# What the tables cannot show is kept next to the log, so that tables
# re-made from it (RZ_BENCH_LOG) still say when and under what load the
# VM ran.
meta=${log%.log}.meta
if [ -z "${RZ_BENCH_LOG:-}" ]; then
    printf 'started=%q\nvm_secs=%q\nload_start=%q\nload_vm=%q\n' "$started" "$vm_secs" "$load_start" "$load_vm" > "$meta"
elif [ -f "$meta" ]; then
    . "$meta"
fi

rz_log "host path benchmark (tools/pathbench)"
pathbench=$(cargo run -q --release -p pathbench 2>&1) || rz_die "pathbench failed: $pathbench"

guest_kernel=$(sed -nE 's/^# guest: ([^,]+), MemTotal: *([0-9]+) kB.*/\1, guest MemTotal \2 kB/p' "$log" | head -n1)
guest_cpus=$(grep -aoE 'smp: Brought up [0-9]+ nodes?, [0-9]+ CPUs?' "$log" | head -n1 | sed -E 's/.*, //')
cpu=$(lscpu | sed -nE 's/^Model name: *//p' | head -n1)
cores=$(nproc)
corpus=$(grep -a '^# corpus' "$log" | tr -d '\r' | sed 's/^# //' | head -n1)
swapnote=$(grep -a '^# swap:' "$log" | tr -d '\r' | sed 's/^# swap: //' | head -n1)
rounds=$(grep -a '^BENCH ' "$log" | awk '{print $5}' | sort -u | wc -l)

# One markdown table from the raw BENCH/BENCHMM/BENCHSWAP lines. The zram
# column is the median of every zram run (zram/<allocator> lines: zram
# measured next to that allocator); an rzram cell is the median of its
# rounds, and its ×zram the median over rounds of rzram / the zram run next
# to it (for swap: zram's time / rzram's, same round), so above 1 means
# rzram is faster everywhere; in brackets the lowest and highest round.
# The last column, zram A/A, is zram against itself (see aa() below): how
# far apart two runs of the same driver land, the noise floor of the
# ×zram columns.
tables=$(grep -a -E '^BENCH(MM|SWAP)? ' "$log" | tr -d '\r' | awk '
function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return ""
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt2(v) { return v == "-" ? v : sprintf("%.2f (%.2f–%.2f)", v, rmin, rmax) }
function num(v) { return sprintf(v >= 100 ? "%.0f" : "%.1f", v) }
function add(key, v) { vals[key] = vals[key] " " v }
# dev "zram/X" feeds the zram column and pairs with rzram-X.
function put(dev, key, round, v,   a) {
    if (dev ~ /^zram\//) { add("zram" SUBSEP key, v); one["zram-" substr(dev, 6) SUBSEP key SUBSEP round] = v }
    else { add(dev SUBSEP key, v); one[dev SUBSEP key SUBSEP round] = v }
    if (round > maxr) maxr = round
}
# keep(A, B, inv): adds A / B (B / A if inv) to the ratios collected in
# qs, widening their spread in rmin and rmax; a missing or zero figure
# adds nothing. qs_median() is their median, or "-".
function keep(a, b, inv,   q) {
    if (a > 0 && b > 0) {
        q = inv ? b / a : a / b
        if (qs == "" || q < rmin) rmin = q
        if (qs == "" || q > rmax) rmax = q
        qs = qs " " q
    }
}
function qs_median() { return qs == "" ? "-" : median(qs) }
# ratio(X, key, inv): median over rounds of rzram-X / its zram (inverted for times).
# The spread of the per-round ratios is left in rmin and rmax.
function ratio(x, key, inv,   r, z) {
    qs = ""
    for (r = 1; r <= maxr; r++) {
        z = one["zram-" x SUBSEP key SUBSEP r]; if (z == "") z = one["zram" SUBSEP key SUBSEP r]
        keep(one["rzram-" x SUBSEP key SUBSEP r], z, inv)
    }
    return qs_median()
}
# aa(key, inv): the noise floor. In each round zram runs once next to each
# allocator; the zram runs next to zbud and z3fold over the one next to
# zsmalloc are zram against itself (A/A), minutes apart. Median and spread
# (rmin, rmax) of those ratios over all rounds.
function aa(key, inv,   r) {
    qs = ""
    for (r = 1; r <= maxr; r++) {
        keep(one["zram-zbud" SUBSEP key SUBSEP r], one["zram-zsmalloc" SUBSEP key SUBSEP r], inv)
        keep(one["zram-z3fold" SUBSEP key SUBSEP r], one["zram-zsmalloc" SUBSEP key SUBSEP r], inv)
    }
    return qs_median()
}
$1 == "BENCH" {
    job = $4
    if (job ~ /^seq/) v = (job == "seqread" ? $6 : $8) / 1024        # MiB/s
    else if (job == "randread") v = $7
    else if (job == "randwrite") v = $9
    else v = $7 + $9                                                  # mixed: read + write IOPS
    put($2, $3 SUBSEP job, $5, v)
}
$1 == "BENCHMM" { put($2, $3 SUBSEP "orig", $4, $5); put($2, $3 SUBSEP "compr", $4, $6); put($2, $3 SUBSEP "mem", $4, $7) }
$1 == "BENCHSWAP" { put($2, "swap", $3, $4) }
END {
    nx = split("zsmalloc zbud z3fold", xs, " ")
    nkind = split("c50 real", kinds, " ")
    kname["c50"] = "fio 50% compressible"; kname["real"] = "real files"; kname["empty"] = "never written (bio path only)"
    njob = split("randwrite randread seqwrite seqread mixed", jobs, " ")
    nrow = 0
    for (k = 1; k <= nkind; k++) for (j = 1; j <= njob; j++) { nrow++; rk[nrow] = kinds[k]; rj[nrow] = jobs[j] }
    nrow++; rk[nrow] = "empty"; rj[nrow] = "randread"
    jname["randwrite"] = "4 KiB randwrite, IOPS"; jname["randread"] = "4 KiB randread, IOPS"
    jname["seqwrite"] = "128 KiB seq write, MiB/s"; jname["seqread"] = "128 KiB seq read, MiB/s"
    jname["mixed"] = "4 KiB 70/30 randrw x4 jobs, IOPS"
    hdr = "| job | data | zram"; sep = "|---|---|---:"
    for (x = 1; x <= nx; x++) { hdr = hdr " | rzram " xs[x] " | ×zram"; sep = sep "|---:|---:" }
    hdr = hdr " | zram A/A"; sep = sep "|---:"
    print hdr " |"; print sep "|"
    for (r = 1; r <= nrow; r++) {
        key = rk[r] SUBSEP rj[r]
        line = "| " jname[rj[r]] " | " kname[rk[r]] " | " num(median(vals["zram" SUBSEP key]))
        for (x = 1; x <= nx; x++) line = line " | " num(median(vals["rzram-" xs[x] SUBSEP key])) " | " fmt2(ratio(xs[x], key, 0))
        print line " | " fmt2(aa(key, 0)) " |"
    }
    line = "| swap: memhog run time, s (×zram = zram time / rzram time) | memhog pattern | " median(vals["zram" SUBSEP "swap"])
    for (x = 1; x <= nx; x++) line = line " | " median(vals["rzram-" xs[x] SUBSEP "swap"]) " | " fmt2(ratio(xs[x], "swap", 1))
    print line " | " fmt2(aa("swap", 1)) " |"
    print ""
    print "Memory after filling the 256 MiB device (medians; ×zram for mem_used_total):"
    print ""
    hdr = "| data | zram ratio | zram mem_used_total MiB"; sep = "|---|---:|---:"
    for (x = 1; x <= nx; x++) { hdr = hdr " | rzram " xs[x] " ratio | mem_used_total MiB | ×zram"; sep = sep "|---:|---:|---:" }
    print hdr " |"; print sep "|"
    for (k = 1; k <= nkind; k++) {
        kk = kinds[k]
        o = median(vals["zram" SUBSEP kk SUBSEP "orig"]); c = median(vals["zram" SUBSEP kk SUBSEP "compr"])
        line = "| " kname[kk] " | " (c > 0 ? sprintf("%.2f", o / c) : "-") " | " sprintf("%.1f", median(vals["zram" SUBSEP kk SUBSEP "mem"]) / 1048576)
        for (x = 1; x <= nx; x++) {
            d = "rzram-" xs[x]
            o = median(vals[d SUBSEP kk SUBSEP "orig"]); c = median(vals[d SUBSEP kk SUBSEP "compr"])
            line = line " | " (c > 0 ? sprintf("%.2f", o / c) : "-") " | " sprintf("%.1f", median(vals[d SUBSEP kk SUBSEP "mem"]) / 1048576)
            m = ratio(xs[x], kk SUBSEP "mem", 0)
            line = line " | " (m == "-" ? "-" : sprintf("%.3f", m))
        }
        print line " |"
    }
}')

load_end=$(load_now)
report=$(cat <<EOF
Measured $started by \`make bench\` (VM part ${vm_secs} s, $rounds round(s)).

- Host: $cpu, $cores cores; load average (1/5/15 min) $load_start at the start, $load_vm after the VM run, $load_end at the end.
- Guest: $guest_kernel, QEMU TCG with -smp 2, of which the guest kernel brought up ${guest_cpus:-an unknown number of CPUs}; 1024 MiB.
- Real-file data: $corpus.
- Swap: $swapnote.
- Problems the run reported: ${problems:-none}.

$tables

Host-native store path (tools/pathbench, no emulation; per 4 KiB page):

\`\`\`
$pathbench
\`\`\`
EOF
)
echo "$report"

if [ "${RZ_SMOKE:-0}" = 1 ]; then
    rz_log "smoke run: docs/benchmarks.md left alone"
    exit 0
fi
doc=$RZ_TOP/docs/benchmarks.md
grep -q '^<!-- bench:begin -->$' "$doc" && grep -q '^<!-- bench:end -->$' "$doc" ||
    rz_die "$doc lacks the bench:begin/bench:end markers"
tmp=$(mktemp)
{
    sed '/^<!-- bench:begin -->$/q' "$doc"
    echo "$report"
    sed -n '/^<!-- bench:end -->$/,$p' "$doc"
} > "$tmp" && mv "$tmp" "$doc"
rz_log "wrote the tables into docs/benchmarks.md"
