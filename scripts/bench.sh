#!/usr/bin/env bash
# `make bench`: C zram against rzram (each allocator it offers) in one 1 GiB
# VM boot (tests/bench/bench_fio.sh), then the host-native benchmark of the
# portable store path (tools/pathbench). Prints the tables (made by
# scripts/bench/tables.awk) and writes them into docs/benchmarks.md between
# its "bench:begin" and "bench:end" markers (the rest of that file is prose
# kept as it is).
#
# `scripts/bench.sh --profile` runs scripts/bench/profile.sh instead: a flat
# profile of the guest per phase of tests/bench/bench_profile.sh.
#
# Env: RZ_SMOKE=1 runs the harness quickly (1 round, 1 s jobs: not figures;
# docs/benchmarks.md is then left alone); RZ_BENCH_LOG=FILE parses an
# existing guest log instead of booting; RZ_DRV names the driver measured
# against C zram (rzram). A guest run that measured nothing (a device that
# did not come up stops the guest script) ends here with a failure.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$RZ_TOP"

[ "${1:-}" = --profile ] && exec "$RZ_TOP/scripts/bench/profile.sh"

rz_bench_begin

log=${RZ_BENCH_LOG:-}
if [ -z "$log" ]; then
    # Everything run-vm.sh printed, the whole guest output with its
    # verdict, goes to a log of this run alone; the terminal gets the test
    # lines.
    log=$RZ_TOP/out/bench-vm.log
    mkdir -p "$RZ_TOP/out"
    RZ_VM_SHOW=all RZ_VM_MEM=1024 RZ_VM_TIMEOUT=${RZ_VM_TIMEOUT:-2700} "$RZ_TOP/scripts/run-vm.sh" bench_fio 2>&1 |
        tee "$log" | grep -a --line-buffered -E '^(PASS|FAIL|# |vm: |\[rzram)'
    [ "${PIPESTATUS[0]}" = 0 ] || rz_log "the benchmark VM run reported problems (log: ${log#"$RZ_TOP"/})"
fi
# A failed case or a kernel warning (an allocation stall under memory
# pressure prints a call trace) is reported with the tables, not hidden;
# a run that stopped (a device that did not come up) or measured nothing
# stops here.
grep -aq '(fatal: the script stops here)' "$log" &&
    rz_die "the benchmark stopped: $(grep -a '(fatal: ' "$log" | head -n 1)"
grep -aq '^BENCH ' "$log" || rz_die "no results in $log"
problems=$( (grep -aE '^FAIL' "$log"
    grep -aE 'page allocation stall|BUG:|WARNING:|Oops' "$log") | sort -u | head -n 5)
rz_bench_meta "$log"

rz_log "host path benchmark (tools/pathbench)"
pathbench=$(cargo run -q --release -p pathbench 2>&1) || rz_die "pathbench failed: $pathbench"

guest_kernel=$(sed -nE 's/^# guest: ([^,]+), MemTotal: *([0-9]+) kB.*/\1, guest MemTotal \2 kB/p' "$log" | head -n1)
guest_cpus=$(grep -aoE 'smp: Brought up [0-9]+ nodes?, [0-9]+ CPUs?' "$log" | head -n1 | sed -E 's/.*, //')
cpu=$(lscpu | sed -nE 's/^Model name: *//p' | head -n1)
cores=$(nproc)
corpus=$(grep -a '^# corpus' "$log" | tr -d '\r' | sed 's/^# //' | head -n1)
swapnote=$(grep -a '^# swap:' "$log" | tr -d '\r' | sed 's/^# swap: //' | head -n1)
rounds=$(grep -a '^BENCH ' "$log" | awk '{print $5}' | sort -u | wc -l)

tables=$(grep -a -E '^BENCH(MM|SWAP)? ' "$log" | tr -d '\r' | awk -f "$RZ_TOP/scripts/bench/tables.awk")

load_end=$(rz_load)
report=$(cat <<EOF
Measured $bench_started by \`make bench\` (VM part ${vm_secs} s, $rounds round(s)).

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
rz_doc_section bench "$report"
rz_log "wrote the tables into docs/benchmarks.md"
