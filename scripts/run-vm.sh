#!/usr/bin/env bash
# Boots the test kernel under QEMU once per VM test script (or once for all:
# RZ_VM_ONEBOOT=1) and turns what the guest printed into a verdict.
#
#   run-vm.sh [--no-build] NAME...   NAME = tests/vm/NAME.sh or tests/bench/NAME.sh,
#                                    or "all" (every tests/vm/test_*.sh)
#
# --no-build boots what is built: the kernel and the initramfs made for it
# (out/initramfs-<kernel key>.cpio.gz, or RZ_INITRD); it refuses when
# either is missing.
#
# A script passes when its guest log ends with "NAME: N passed, 0 failed",
# the guest shut down by itself within the timeout, and the kernel log holds
# no splat (BUG, WARNING, Oops, KASAN, lockdep, panic). The last line printed
# sums every case: "vm: N passed, N failed"; the exit status is 0 only if
# nothing failed. Env: RZ_DRV (driver under test, default rzram; zram runs
# the same scripts against C zram, built as a module in the test kernel, to
# prove the tests themselves), RZ_VM_MEM (MiB, default 512), RZ_VM_TIMEOUT
# (s, 900), RZ_SMOKE=1 (scripts with a long and a short variant run the
# short one), RZ_FLAVOR (base or debug kernel, or stock: Debian's own
# kernel and modules, C zram being Debian's zram.ko), KVM=1 to use KVM where it
# works (it does not on nested hosts), RZ_VM_QEMU_ARGS (more QEMU
# arguments, e.g. scripts/bench/profile.sh's gdb stub), RZ_VM_DISK_MB (size
# of the guest's virtio disk /dev/vda, default 1024: a fresh sparse file per
# boot, deleted after it, the backing device of the writeback tests).
# RZ_VM_ONEBOOT=1 boots once for all the scripts named (tests/vm/init runs
# them in turn and cleans up between them); each still gets its verdict,
# its time and its splat check, and RZ_VM_TIMEOUT bounds the whole boot.
# Logs: out/vm-NAME.log for rzram, out/vm-NAME-DRV.log for another driver,
# with -debug (-stock) appended for the debug (stock) kernel; a one-boot
# run's whole log is vm-oneboot.log (so suffixed), what lay outside every
# script's part (boot, clean-ups, shutdown) vm-oneboot-other.log.
set -uo pipefail
. "$(dirname "$0")/env.sh"

build=1
[ "${1:-}" = --no-build ] && { build=0; shift; }
[ $# -gt 0 ] || set -- all
names=()
for n in "$@"; do
    if [ "$n" = all ]; then
        for f in "$RZ_TOP"/tests/vm/test_*.sh; do names+=("$(basename "$f" .sh)"); done
    else
        [ -f "$RZ_TOP/tests/vm/$n.sh" ] || [ -f "$RZ_TOP/tests/bench/$n.sh" ] ||
            rz_die "no VM script tests/vm/$n.sh or tests/bench/$n.sh"
        names+=("$n")
    fi
done

if [ $build = 1 ]; then
    kout=$("$RZ_TOP/scripts/build-kernel.sh") || exit 1
    export RZ_KERNEL_SAID=$kout
    "$RZ_TOP/scripts/build-initramfs.sh" >/dev/null || exit 1
else
    # --no-build builds nothing, not even a missing kernel.
    kout=$("$RZ_TOP/scripts/build-kernel.sh" --print) || exit 1
    [ -f "$kout/.rzram-built" ] || rz_die "the $RZ_FLAVOR kernel is not built (${kout}); run without --no-build"
fi
# The initramfs holds the modules of one kernel: its name carries that
# kernel's key, so --no-build never boots another kernel's image.
initrd=${RZ_INITRD:-$RZ_TOP/out/initramfs-$(basename "$kout").cpio.gz}
[ -f "$initrd" ] || rz_die "no initramfs for the $RZ_FLAVOR kernel ${initrd#"$RZ_TOP"/} (run without --no-build)"
kimage=$(rz_kimage "$kout")

drv=${RZ_DRV:-rzram}
case $drv in *[!a-z0-9_]*|'') rz_die "bad RZ_DRV '$drv'";; esac
mem=${RZ_VM_MEM:-512}
# Two guest CPUs by default, so lockdep, KASAN and the concurrent tests see
# real parallelism; RZ_VM_CPUS=1 for a uniprocessor guest.
cpus=${RZ_VM_CPUS:-2}
tmo=${RZ_VM_TIMEOUT:-900}
if [ "${KVM:-0}" = 1 ]; then accel=(-accel kvm -cpu host); else accel=(-accel tcg -cpu max); fi
read -ra qargs <<< "${RZ_VM_QEMU_ARGS:-}"
# Debian's kernel flips many static keys while it boots (int3 patching of
# live code); under multi-threaded TCG another vCPU now and then ran the
# stale int3 after the patch was done ("Oops: int3" at 1.3 s, in 2 of 14
# boots). One host thread for both vCPUs (still an SMP guest) avoids it.
[ "${KVM:-0}" = 1 ] || [ "$RZ_FLAVOR" != stock ] || accel=(-accel tcg,thread=single -cpu max)
# The debug kernel boots with 4-level paging: with -cpu max the guest has
# LA57, and an interrupt that lands while identify_cpu() has cleared the
# boot CPU's feature bits makes KASAN take the 5-level direct map for a wild
# address (a false "wild-memory-access" at 0.01 s, before any module; the
# KASAN shadow bounds follow pgtable_l5_enabled(), which reads those bits).
extra=
[ "$RZ_FLAVOR" != debug ] || extra=" no5lvl"
# The debug kernel's ACPI interpreter spends about 26 s of each boot on the
# virtio disk's PCI interrupt routing (_PRT: AE_AML_LOOP_TIMEOUT under TCG);
# acpi=noirq routes PCI interrupts without ACPI (both CPUs and /dev/vda
# still come up).
[ "$RZ_FLAVOR" != debug ] || extra="$extra acpi=noirq"
# Under TCG on a busy host a vCPU can go unscheduled for many seconds of
# host (and so guest) time. The soft-lockup and RCU-stall detectors (20 s
# and 21 s by default on Debian's kernel) would then print a splat for
# the host's load, not the guest's code; a real lockup still shows within
# the VM timeout (soft lockup after 2 x 60 s, RCU stall after 300 s).
extra="$extra watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300"
# The guest's /dev/vda: a sparse raw file, new for each boot so no run sees
# another's data, in /tmp (two VMs may run side by side: stress.sh).
disk_mb=${RZ_VM_DISK_MB:-1024}
case $disk_mb in *[!0-9]*|'') rz_die "bad RZ_VM_DISK_MB '$disk_mb'";; esac
disk=
trap '[ -z "$disk" ] || rm -f "$disk"' EXIT
splat='BUG:|WARNING:|Oops|KASAN|Kernel panic|circular locking|recursive locking|inconsistent lock state|suspicious RCU|unreferenced object|Call Trace:'

# What reaches the terminal: the test lines, or everything with RZ_VM_SHOW=all.
show() { if [ "${RZ_VM_SHOW:-}" = all ]; then cat; else grep -a --line-buffered -E '^(PASS|FAIL|SKIP|# )'; fi; }

total_pass=0; total_fail=0; times=(); all_start=$SECONDS
# judge NAME LOG RC SECS: the verdict of one script from its part of the
# guest log, added to the totals; RC is QEMU's exit status (124: timeout).
judge() {
    local name=$1 log=$2 rc=$3 secs=$4 verdict p f problems=()
    verdict=$(grep -aE "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n1)
    p=$(echo "$verdict" | sed -nE 's/.* ([0-9]+) passed.*/\1/p'); p=${p:-0}
    f=$(echo "$verdict" | sed -nE 's/.* ([0-9]+) failed.*/\1/p'); f=${f:-0}
    [ "$rc" = 124 ] && problems+=("timed out after ${tmo}s")
    [ "$rc" = stopped ] && problems+=("the guest stopped before the script's end")
    [ -z "$verdict" ] && problems+=("no verdict line from the guest")
    grep -aqE "$splat" "$log" && problems+=("kernel splat: $(grep -aE "$splat" "$log" | head -n1)")
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ ${#problems[@]} -gt 0 ]; then
        for pr in "${problems[@]}"; do echo "FAIL $name: $pr"; done
        total_fail=$((total_fail + 1))
    fi
    rz_log "VM: $name done in $secs s: ${verdict:-no verdict}"
    times+=("$(printf '%-16s %4s s  %s' "$name" "$secs" "${verdict:-no verdict}")")
}
# vm LOG DISK-OPTS NAMES: one boot running the comma-separated NAMES; the
# console goes to LOG. Sets rc to QEMU's exit status (124: timeout).
vm() {
    disk=$(mktemp /tmp/rzram-vda.XXXXXX) && truncate -s "${disk_mb}M" "$disk" || rz_die "cannot make the guest disk"
    # Piped, not redirected: QEMU's file chardev would clobber a shared fd.
    timeout "$tmo" qemu-system-x86_64 "${accel[@]}" -smp "$cpus" -m "$mem" -nographic -no-reboot \
        -drive "file=$disk,if=none,format=raw,id=bd,cache=unsafe$2" -device virtio-blk-pci,drive=bd \
        "${qargs[@]}" -kernel "$kimage" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 oops=panic rztest=$3 rzdrv=$drv rzsmoke=${RZ_SMOKE:-0}$extra" 2>&1 | tee "$1" | show
    rc=${PIPESTATUS[0]}
    rm -f "$disk"; disk=
}
logname() {
    local log=$RZ_TOP/out/vm-$1.log
    [ "$drv" = rzram ] || log=${log%.log}-$drv.log
    [ "$RZ_FLAVOR" = base ] || log=${log%.log}-$RZ_FLAVOR.log
    echo "$log"
}

if [ "${RZ_VM_ONEBOOT:-0}" = 1 ] && [ ${#names[@]} -gt 1 ]; then
    # One boot for every script: /init runs them in turn, cleaning up and
    # discarding /dev/vda between them (discard=unmap: the discard punches
    # holes, so the disk reads as zeros again), and brackets each with
    # "# rztest: start NAME at T s" / "# rztest: end NAME at T s" and its
    # own kmemleak report and kernel log. The whole boot gets RZ_VM_TIMEOUT.
    log=$(logname oneboot)
    list=$(IFS=,; echo "${names[*]}")
    rz_log "VM: one boot for ${names[*]} on $drv, $RZ_FLAVOR kernel (${mem} MiB, timeout ${tmo}s for all, log ${log#"$RZ_TOP"/})"
    vm "$log" ,discard=unmap "$list"
    # Each script's part of the log goes to its usual log file; what lies
    # outside every script's part (the boot, the clean-ups between them,
    # the shutdown) is checked as well.
    awk -v dir="$(dirname "$log")" -v other="${log%.log}-other.log" -v suffix="$(basename "$(logname X)" | sed 's/^vm-X//')" '
        /^# rztest: start / { sec = $4 }
        { f = (sec == "") ? other : dir "/vm-" sec suffix; print > f }
        /^# rztest: end / { sec = "" }' "$log"
    for name in "${names[@]}"; do
        nlog=$(logname "$name")
        if ! grep -aq "^# rztest: start $name " "$log"; then
            rm -f "$nlog"; echo "FAIL $name: never started (the boot ended before it)"; total_fail=$((total_fail + 1))
            times+=("$(printf '%-16s %4s s  %s' "$name" - "not run")"); continue
        fi
        t0=$(sed -nE "s/^# rztest: start $name at ([0-9.]+) s.*/\1/p" "$log")
        t1=$(sed -nE "s/^# rztest: end $name at ([0-9.]+) s.*/\1/p" "$log")
        # A script that finished is not charged with a later timeout.
        nrc=0; [ -n "$t1" ] || { nrc=$rc; [ "$rc" = 124 ] || nrc=stopped; }
        secs=$(awk -v a="$t0" -v b="${t1:-$t0}" 'BEGIN { printf "%d", b - a + 0.5 }')
        judge "$name" "$nlog" "$nrc" "$secs"
    done
    olog=${log%.log}-other.log
    if grep -aqE "$splat|^FAIL rztest:" "$olog"; then
        echo "FAIL boot/clean-up: $(grep -aE "$splat|^FAIL rztest:" "$olog" | head -n1) (${olog#"$RZ_TOP"/})"
        total_fail=$((total_fail + 1))
    fi
    grep -aq '^# guest: done' "$log" || { echo "FAIL oneboot: the guest did not reach its end (QEMU status $rc)"; total_fail=$((total_fail + 1)); }
    first=$(sed -nE 's/^# rztest: start [^ ]+ at ([0-9.]+) s.*/\1/p' "$log" | head -n1)
    rz_log "VM: one boot, first script started at ${first:-?} s of guest time, the whole boot took $((SECONDS - all_start)) s"
else
    for name in "${names[@]}"; do
        log=$(logname "$name")
        rz_log "VM: $name on $drv, $RZ_FLAVOR kernel (${mem} MiB, timeout ${tmo}s, log ${log#"$RZ_TOP"/})"
        start=$SECONDS
        vm "$log" "" "$name"
        judge "$name" "$log" "$rc" $((SECONDS - start))
    done
fi
if [ ${#names[@]} -gt 1 ]; then
    rz_log "VM times on $drv (total $((SECONDS - all_start)) s):"
    for t in "${times[@]}"; do rz_log "  $t"; done
fi
echo "vm: $total_pass passed, $total_fail failed"
[ $total_fail = 0 ]
