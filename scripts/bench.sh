#!/usr/bin/env bash
# `make bench`: C zram against rzram (each allocator) in one 1 GiB VM boot
# (tests/vm/bench_fio.sh), then the host-native benchmark of the portable
# store path (tools/pathbench). Prints the tables and writes them into
# docs/benchmarks.md between its "bench:begin" and "bench:end" markers (the
# rest of that file is prose kept as it is).
#
# Env: RZ_SMOKE=1 runs the harness quickly (1 round, 1 s jobs: not figures;
# docs/benchmarks.md is then left alone); RZ_BENCH_LOG=FILE parses an
# existing guest log instead of booting.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$RZ_TOP"

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

rz_log "host path benchmark (tools/pathbench)"
pathbench=$(cargo run -q --release -p pathbench 2>&1) || rz_die "pathbench failed: $pathbench"

guest_kernel=$(sed -nE 's/^# guest: ([^,]+), MemTotal: *([0-9]+) kB.*/\1, guest MemTotal \2 kB/p' "$log" | head -n1)
cpu=$(lscpu | sed -nE 's/^Model name: *//p' | head -n1)
cores=$(nproc)
corpus=$(grep -a '^# corpus' "$log" | sed 's/^# //' | head -n1)
swapnote=$(grep -a '^# swap:' "$log" | sed 's/^# swap: //' | head -n1)
rounds=$(grep -a '^BENCH ' "$log" | awk '{print $5}' | sort -u | wc -l)

# One markdown table from the raw BENCH/BENCHMM/BENCHSWAP lines: medians of
# the rounds, and rzram / zram next to each rzram cell (for the swap time,
# zram's time / rzram's, so that above 1 means rzram is faster everywhere).
tables=$(grep -a -E '^BENCH(MM|SWAP)? ' "$log" | tr -d '\r' | awk '
function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return ""
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key] = vals[key] " " v }
$1 == "BENCH" {
    dev = $2; kind = $3; job = $4
    if (job ~ /^seq/) v = (job == "seqread" ? $6 : $8) / 1024        # MiB/s
    else if (job == "randread") v = $7
    else if (job == "randwrite") v = $9
    else v = $7 + $9                                                  # mixed: read + write IOPS
    add(dev SUBSEP kind SUBSEP job, v)
}
$1 == "BENCHMM" { add($2 SUBSEP $3 SUBSEP "orig", $5); add($2 SUBSEP $3 SUBSEP "compr", $6); add($2 SUBSEP $3 SUBSEP "mem", $7) }
$1 == "BENCHSWAP" { add($2 SUBSEP "swap", $4) }
END {
    ndev = split("zram rzram-zsmalloc rzram-zbud rzram-z3fold", devs, " ")
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
    for (d = 2; d <= ndev; d++) { hdr = hdr " | " devs[d] " | ×zram"; sep = sep "|---:|---:" }
    print hdr " |"; print sep "|"
    for (r = 1; r <= nrow; r++) {
        base = median(vals["zram" SUBSEP rk[r] SUBSEP rj[r]])
        line = "| " jname[rj[r]] " | " kname[rk[r]] " | " sprintf(base >= 100 ? "%.0f" : "%.1f", base)
        for (d = 2; d <= ndev; d++) {
            v = median(vals[devs[d] SUBSEP rk[r] SUBSEP rj[r]])
            line = line " | " sprintf(v >= 100 ? "%.0f" : "%.1f", v) " | " (base > 0 ? sprintf("%.2f", v / base) : "-")
        }
        print line " |"
    }
    base = median(vals["zram" SUBSEP "swap"])
    line = "| swap: memhog run time, s (×zram = zram time / rzram time) | memhog pattern | " base
    for (d = 2; d <= ndev; d++) {
        v = median(vals[devs[d] SUBSEP "swap"])
        line = line " | " v " | " (v > 0 ? sprintf("%.2f", base / v) : "-")
    }
    print line " |"
    print ""
    print "Memory after filling the 256 MiB device (median of the rounds; ×zram for mem_used_total):"
    print ""
    hdr = "| data | zram ratio | zram mem_used_total MiB"; sep = "|---|---:|---:"
    for (d = 2; d <= ndev; d++) { hdr = hdr " | " devs[d] " ratio | mem_used_total MiB | ×zram"; sep = sep "|---:|---:|---:" }
    print hdr " |"; print sep "|"
    for (k = 1; k <= nkind; k++) {
        line = "| " kname[kinds[k]]
        for (d = 1; d <= ndev; d++) {
            o = median(vals[devs[d] SUBSEP kinds[k] SUBSEP "orig"]); c = median(vals[devs[d] SUBSEP kinds[k] SUBSEP "compr"])
            m = median(vals[devs[d] SUBSEP kinds[k] SUBSEP "mem"])
            if (d == 1) zm = m
            line = line " | " (c > 0 ? sprintf("%.2f", o / c) : "-") " | " sprintf("%.1f", m / 1048576)
            if (d > 1) line = line " | " (zm > 0 ? sprintf("%.3f", m / zm) : "-")
        }
        print line " |"
    }
}')

load_end=$(load_now)
report=$(cat <<EOF
Measured $started by \`make bench\` (VM part ${vm_secs} s, $rounds round(s)).

- Host: $cpu, $cores cores; load average (1/5/15 min) $load_start at the start, $load_vm after the VM run, $load_end at the end.
- Guest: $guest_kernel, QEMU TCG, 2 vCPUs, 1024 MiB.
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
