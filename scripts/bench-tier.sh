#!/usr/bin/env bash
# `make bench-tier`: automatic tiering (issue 18) in one VM boot
# (tests/bench/bench_tier.sh): memhog at 3x the guest's memory with a pool
# cap of a quarter of it on rzram with writeback_auto=1 (each allocator),
# on zswap and on C zram, then ext4 on rzram holding a tree of twice the
# memory. Prints the tables and writes them into docs/benchmarks.md between
# its "bench-tier:begin" and "bench-tier:end" markers.
#
# Each column gets a virtio disk of its own (the guest's /dev/vdb,
# /dev/vdc, ...: RZ_TIER_DISKS sparse files of 4x the memory, attached
# through RZ_VM_QEMU_ARGS, deleted afterwards), so that no column reuses a
# disk the one before it used.
#
# Env: RZ_VM_MEM (MiB, default 512: see docs/benchmarks.md for why),
# RZ_TIER_DISKS (default 8: the 4 allocators, the synchronous rzram
# column, zswap, the file system and C zram), RZ_VM_TIMEOUT (s, default 5400), RZ_SMOKE=1 (1.5x and a
# tree of half the memory: checks the harness; docs/benchmarks.md is then
# left alone), RZ_BENCH_LOG=FILE (make the tables from an existing guest
# log instead of booting).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$RZ_TOP"

mem=${RZ_VM_MEM:-512}
rz_bench_begin

log=${RZ_BENCH_LOG:-}
if [ -z "$log" ]; then
    log=$RZ_TOP/out/bench-tier-vm.log
    mkdir -p "$RZ_TOP/out"
    # Sparse files in /tmp, as run-vm.sh's own /dev/vda (unused here
    # beyond being there: 64 MiB).
    disks=(); qargs=()
    trap 'rm -f "${disks[@]}"' EXIT
    for i in $(seq "${RZ_TIER_DISKS:-8}"); do
        f=$(mktemp /tmp/rzram-tier.XXXXXX) && truncate -s "$((mem * 4))M" "$f" || rz_die "cannot make disk $i"
        disks+=("$f")
        qargs+=(-drive "file=$f,if=none,format=raw,id=tier$i,cache=unsafe" -device "virtio-blk-pci,drive=tier$i")
    done
    RZ_VM_QEMU_ARGS="${qargs[*]}" RZ_VM_SHOW=all RZ_VM_MEM=$mem RZ_VM_DISK_MB=64 \
        RZ_VM_TIMEOUT=${RZ_VM_TIMEOUT:-5400} "$RZ_TOP/scripts/run-vm.sh" bench_tier 2>&1 |
        tee "$log" | grep -a --line-buffered -E '^(PASS|FAIL|# |vm: |BENCH|\[rzram)'
    # A failed case, or the kernel's OOM report (a call trace, which
    # run-vm.sh counts as a splat) from the C zram column, makes run-vm.sh
    # fail: the tables still come from what the guest printed, with the
    # problems listed under them.
    [ "${PIPESTATUS[0]}" = 0 ] || rz_log "the VM run reported problems (log: ${log#"$RZ_TOP"/})"
    rm -f "${disks[@]}"
fi
grep -aq '^BENCHTIER ' "$log" || rz_die "no results in $log"
rz_bench_meta "$log"

guest=$(sed -nE 's/^# guest: ([^,]+), MemTotal: *([0-9]+) kB.*/\1, guest MemTotal \2 kB/p' "$log" | head -n1 | tr -d '\r')
setup=$(grep -a '^# tier:' "$log" | head -n1 | tr -d '\r' | sed 's/^# tier: //')
zswap=$(grep -a '^# zswap: enabled' "$log" | head -n1 | tr -d '\r' | sed 's/^# zswap: //')
marks=$(grep -a 'writeback_watermarks' "$log" | head -n1 | tr -d '\r' | sed 's/.*writeback_watermarks //')
fails=$(grep -aE '^FAIL' "$log" | tr -d '\r' | sed 's/^FAIL //' | head -n 8 | paste -sd ';' | sed 's/;/; /g')
ooms=$(sed -n 's/^# OOM kills in the whole run: //p' "$log" | tr -d '\r' | head -n1)
splats=$(grep -aE '^dmesg: .*(BUG:|WARNING:|Oops|page allocation (failure|stall)|detected stall|hung_task|blocked for more than)' "$log" | tr -d '\r' | sed 's/^dmesg: //' | sort -u | head -n 5 | paste -sd ';' | sed 's/;/; /g')

tables=$(grep -aE '^BENCH(TIER|FS) ' "$log" | tr -d '\r' | awk '
    function kv(from,   i, k) { for (i = from; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v[col, k] = substr($i, length(k) + 2) } }
    function get(c, k) { return ((c, k) in v) ? v[c, k] : "-" }
    function mib(b) { return b == "-" || b == "n/a" ? b : sprintf("%.0f", b / 1048576) }
    function pgmib(p) { return p == "-" ? p : sprintf("%.0f", p * 4096 / 1048576) }
    $1 == "BENCHTIER" { col = $2; cols[++n] = col; kv(3) }
    $1 == "BENCHFS" { col = "fs"; kv(2) }
    # cell(C, WHAT): one cell of column C.
    function cell(c, what,   x) {
        if (what == "verdict") return get(c, "verdict")
        if (what == "dname") return get(c, "disk")
        if (what == "secs") return get(c, "secs")
        if (what == "fw") return get(c, "failed_writes")
        if (what == "oom") return get(c, "oom")
        if (what == "disk") return mib(get(c, "disk_bytes"))
        if (what == "wb") return pgmib(get(c, "bd_writes"))
        if (what == "rd") return mib(get(c, "disk_read_bytes"))
        if (what == "pool") return c == "zswap" ? "max_pool_percent 25" : mib(get(c, "pool_max"))
        if (what == "vms") { x = get(c, "vmswap_kb"); return x == "-" ? x : sprintf("%.0f", x / 1024) }
    }
    function row(name, what,   i, line) {
        line = "| " name
        for (i = 1; i <= n; i++) line = line " | " cell(cols[i], what)
        print line " |"
    }
    END {
        hdr = "| memhog at 3× memory, cap ¼"; sep = "|---"
        for (i = 1; i <= n; i++) {
            name = cols[i]; sub(/^rzram-/, "rzram ", name)
            if (name == "zram") name = "C zram"
            hdr = hdr " | " name; sep = sep "|---:"
        }
        print hdr " |"; print sep "|"
        row("memhog result", "verdict")
        row("wall time, s", "secs")
        row("failed writes (io_stat)", "fw")
        row("OOM kills", "oom")
        row("backing disk (its own per column)", "dname")
        row("written to the backing disk, MiB (/sys/block/<disk>/stat)", "disk")
        row("pages written back, MiB (bd_stat / zswap written_back_pages)", "wb")
        row("read from the backing disk, MiB", "rd")
        row("pool peak, MiB (mem_used_max)", "pool")
        row("memhog peak VmSwap, MiB", "vms")
        if (("fs", "verdict") in v) {
            print ""
            print "| ext4 on rzram, tree of 2× memory | value |"
            print "|---|---:|"
            print "| result | " get("fs", "verdict") " (bad checksums " get("fs", "bad") ", first read / after remount) |"
            print "| tree | " get("fs", "mib") " MiB, " get("fs", "files") " files (" get("fs", "copies") " copies) |"
            print "| write + sync, s | " get("fs", "write_secs") " |"
            print "| verify (caches dropped), s | " get("fs", "verify_secs") " |"
            print "| verify after umount + mount, s | " get("fs", "remount_verify_secs") " |"
            print "| failed writes / failed reads | " get("fs", "failed_writes") " / " get("fs", "failed_reads") " |"
            print "| written to the backing disk, MiB | " mib(get("fs", "disk_bytes")) " |"
            print "| bd_stat (count reads writes, 4 KiB) | " get("fs", "bd_stat") " |"
            print "| mm_stat at the end | " get("fs", "mm_stat") " |"
        }
    }')

report=$(cat <<EOF
Measured $bench_started by \`scripts/bench-tier.sh\` (VM part ${vm_secs} s, one boot).

- Host: $(lscpu | sed -nE 's/^Model name: *//p' | head -n1), $(nproc) cores; load average (1/5/15 min) $load_start at the start, $load_vm after the VM run.
- Guest: ${guest:-?}, QEMU TCG -smp 2, ${mem} MiB.
- Set-up: ${setup:-?}; rzram writeback_watermarks ${marks:-?}.
- zswap: ${zswap% }.
- OOM kills in the whole run (kernel log, read as it came): ${ooms:-?}. Failed cases: ${fails:-none}.
- Kernel warnings: ${splats:-none}.

$tables
EOF
)
echo "$report"

if [ "${RZ_SMOKE:-0}" = 1 ]; then
    rz_log "smoke run: docs/benchmarks.md left alone"
    exit 0
fi
rz_doc_section bench-tier "$report"
rz_log "wrote the tiering tables into docs/benchmarks.md"
