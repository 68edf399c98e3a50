# Load/unload and hot_add/hot_remove cycles with no leak: each modprobe
# cycle sets up a device (allocator and codec in turn), writes 2 MiB of
# mixed data with O_DIRECT and checks it back, sometimes swaps on it,
# compacts, resets and unloads; each hot_add cycle does the same on a new
# device beside a busy one and removes it, reset or still holding data.
# Afterwards free memory (caches dropped: MemFree plus the per-CPU free
# lists; on the debug kernel plus Slab and the stack depot) must be back
# within 1% of where it was, and kmemleak, where the kernel has it, must
# report nothing.
# $SMOKE=1 runs 10 cycles of each instead of 100. The harness fails a run
# whose log holds the text kmemleak uses for a suspect, so no test line
# here may contain it. In the debug kernel 100 cycles take about 14 min:
# run them with RZ_VM_TIMEOUT=1800.
. /tests/lib.sh

CYCLES=100
[ "$SMOKE" = 1 ] && CYCLES=10
# The debug kernel's smoke run: 6 cycles (about 4 s each there), still every
# allocator and codec (7 codecs: device 0 takes codec N, device 1 codec
# N + 1) and two swap cycles (0 and 5); kmemleak, not the cycle count, is
# what finds a leak there.
[ "$SMOKE" = 1 ] && debug_kernel && CYCLES=6
KML=/sys/kernel/debug/kmemleak
# On the debug kernel freed slab objects wait in KASAN's quarantine (up to
# 1/32 of memory) and kmemleak keeps metadata, so there slab is left to
# kmemleak's check and MemFree + Slab + the stack depot is what must come
# back.
DEPOT=/sys/kernel/debug/stackdepot/stats
# The stack depot's size in KiB (0 without one). KASAN, kmemleak and SLUB
# debugging record the call stack of allocations and frees there, in pools
# of 16 KiB (DEPOT_POOL_ORDER 2, include/linux/stackdepot.h) taken with
# alloc_pages and never given back. Each load puts the module's code at a
# new address, so stacks through it are new ones: the depot grows with
# every cycle by design, in pages MemFree and Slab do not show.
depot_kib() {
    if [ -r $DEPOT ]; then awk '/^pools:/ {print $2 * 16}' $DEPOT; else echo 0; fi
}
# memfree: free memory in KiB, the per-CPU lists included (pcp_kib in
# lib.sh: what they hold moves by more than the 1% the check allows).
memfree() {
    drop_caches; sleep 1; drop_caches
    if [ -e $KML ]; then
        awk -v d="$(depot_kib)" -v p="$(pcp_kib)" '/^(MemFree|Slab):/ {n += $2} END {print n + d + p}' /proc/meminfo
    else
        free_kib
    fi
}
# MemFree once it stops moving: in the first half minute after boot it
# grows by some 40 MB with nothing running (boot-time memory handed back
# late), which would hide a leak of that size. Samples 2 s apart until two
# are within 512 kB (at most a minute).
settled_memfree() {
    prev=$(memfree); k=0
    while [ $k -lt 30 ]; do
        sleep 1; cur=$(memfree)
        d=$((cur - prev)); [ $d -lt 0 ] && d=$((-d))
        [ $d -lt 512 ] && break
        prev=$cur; k=$((k + 1))
    done
    echo $cur
}
# Where memory went, for the log.
meminfo() {
    {
        grep -E '^(MemFree|Cached|Shmem|Slab|SUnreclaim|KernelStack|PageTables|VmallocUsed|Percpu):' /proc/meminfo
        echo "per-CPU free lists: $(pcp_kib) kB"
        [ -r $DEPOT ] && echo "stack depot:" && cat $DEPOT
    } | tr -s ' ' | tr '\n' ' '
}

# All data is made before the baseline: tmpfs pages count as used memory.
dd if=/dev/urandom of=/tmp/data bs=4096 count=128 2>/dev/null
yes "cycle test line" | head -c 1048576 >> /tmp/data
head -c 524288 /dev/zero | tr '\000' '\245' >> /tmp/data
SUM=$(md5_file /tmp/data 0 512)
SUM1M=$(md5_file /tmp/data 0 256)

# use SYSDIR NODE CYCLE MIB SWAP: set up, fill and verify one device; the
# first failing step is printed and the function returns non-zero.
use() {
    s=$1; d=$2; c=$3; mib=$4
    alloc=$(nth $c $ALLOCATORS)
    [ "$alloc" = default ] || echo "$alloc" > $s/allocator || { echo "allocator $alloc"; return 1; }
    alg=$(nth $c $CODECS)
    echo $alg > $s/comp_algorithm || { echo "comp_algorithm $alg"; return 1; }
    echo 32M > $s/disksize || { echo "disksize"; return 1; }
    dd if=/tmp/data of=$d bs=64k count=$((mib * 16)) oflag=direct 2>/dev/null || { echo "write ($alg)"; return 1; }
    want=$SUM; [ $mib = 1 ] && want=$SUM1M
    got=$(md5_dev $d 0 $((mib * 256)))
    [ "$got" = "$want" ] || { echo "read back differs ($alg)"; return 1; }
    if is_rzram; then
        cat $DBG/$(basename $s)/classes $DBG/$(basename $s)/block_state > /dev/null || { echo "debugfs"; return 1; }
    fi
    if [ "$5" = swap ]; then
        { mkswap $d && swapon $d && grep -q "^$d " /proc/swaps && swapoff $d; } > /dev/null 2>&1 ||
            { echo "mkswap/swapon/swapoff"; swapoff $d 2>/dev/null; return 1; }
    fi
    echo 1 > $s/compact || { echo "compact"; return 1; }
    return 0
}

# modprobe_cycle N: load with two devices, use device 0 (and swap on it
# every fifth cycle), use device 1 without resetting it, reset 0, unload.
modprobe_cycle() {
    c=$1; sw=; [ $((c % 5)) = 0 ] && sw=swap
    modprobe $DRV num_devices=2 || { echo "modprobe"; return 1; }
    use $SYS $DEV $c 2 $sw || { unload 2>/dev/null; return 1; }
    use $(dev_sys 1) $(dev_node 1) $((c + 1)) 1 || { unload 2>/dev/null; return 1; }
    echo 1 > $SYS/reset || { echo "reset"; unload 2>/dev/null; return 1; }
    unload || { echo "rmmod"; return 1; }
}

# hot_cycle N: hot_add a device, use it, hot_remove it (reset first on odd
# cycles, still holding its data on even ones).
hot_cycle() {
    c=$1
    id=$(cat $CTL/hot_add) || { echo "hot_add"; return 1; }
    [ "$id" = 1 ] || { echo "hot_add gave '$id', not the lowest free id 1"; return 1; }
    use $(dev_sys $id) $(dev_node $id) $c 1 || { echo $id > $CTL/hot_remove; return 1; }
    if [ $((c % 2)) = 1 ]; then
        echo 1 > $(dev_sys $id)/reset || { echo "reset"; return 1; }
    fi
    echo $id > $CTL/hot_remove || { echo "hot_remove"; return 1; }
    [ ! -e $(dev_sys $id) ] || { echo "device $id still in sysfs"; return 1; }
}

# run_cycles NAME FN: CYCLES cycles of FN; one FAIL line per failing cycle
# (at most 5, then it stops), one PASS line if all passed.
run_cycles() {
    bad=0; start=$(date +%s)
    i=0
    while [ $i -lt $CYCLES ]; do
        if ! err=$($2 $i 2>&1); then
            fail "$1 cycle $i: $err"
            bad=$((bad + 1))
            [ $bad -ge 5 ] && break
        fi
        i=$((i + 1))
    done
    [ $bad = 0 ] && pass "$CYCLES $1 cycles ($(( $(date +%s) - start )) s)"
}

if [ -e $KML ]; then
    note "kmemleak: clearing earlier suspects"
    echo scan > $KML; echo clear > $KML
else
    note "no $KML (not a kmemleak kernel): only MemFree is checked"
fi

# The driver must load at all (load is fatal otherwise), and says which
# allocators and codecs the cycles take in turn.
load
unload
# One warm-up round of each kind, so first-use allocations (module text,
# sysfs and slab caches) are not counted as a leak.
check "warm-up modprobe cycle" modprobe_cycle 0
load
check "warm-up hot_add cycle" hot_cycle 0
check "rmmod after warm-up" unload
free0=$(settled_memfree)
note "free memory (MemFree + per-CPU lists, + Slab + stack depot on the debug kernel) at start: $free0 kB; $(meminfo)"

run_cycles "modprobe/use/reset/rmmod" modprobe_cycle
load
check_sh "device 0 holds data during hot_add cycles" \
    "echo 16M > $SYS/disksize && dd if=/tmp/data of=$DEV bs=64k count=16 oflag=direct 2>/dev/null"
run_cycles "hot_add/use/hot_remove" hot_cycle
expect_eq "device 0 data intact after the hot_add cycles" "$(md5_dev $DEV 0 256)" "$SUM1M"
check_sh "reset device 0" "echo 1 > $SYS/reset"
check "rmmod" unload
check "no $DRV module left" sh -c "! grep -q '^$DRV ' /proc/modules"

free1=$(settled_memfree)
want=$((free0 - free0 / 100))
# Memory the cycles freed late (RCU callbacks, deferred work, which a
# loaded host slows down) comes back within a bounded wait; leaked memory
# never does. Up to a minute more, in samples 2 s apart.
k=0
while [ "$free1" -lt $want ] && [ $k -lt 20 ]; do
    sleep 2; free1=$(memfree); k=$((k + 1))
done
note "free memory at end: $free1 kB (start $free0 kB, $((free0 - free1)) kB less; $k more samples); $(meminfo)"
expect_num "free memory back within 1% of the start" "$free1" -ge "$want"

if [ -e $KML ]; then
    # kmemleak reports only objects older than 5 s; two scans, as its
    # documentation advises, to drop transient false positives.
    sleep 6
    echo scan > $KML; sleep 2; echo scan > $KML
    n=$(grep -c "unreferenced object" $KML)
    [ "$n" = 0 ] || head -n 60 $KML | sed 's/^/# /'
    expect_eq "kmemleak: no leak suspects (objects reported)" "$n" 0
fi
summary
