# A remote tier: the backing device is the kernel's NBD client connected
# over the guest's loopback (127.0.0.1) to nbdkit, Debian's NBD server,
# serving the guest's virtio disk. For the driver under test (C zram runs
# the same script, with its manual writeback):
# - tier: huge, page_index= and idle writeback go over NBD to the disk (a
#   written-back page is found there) and read back, O_DIRECT and buffered;
# - swap: memhog through swap on the device, every page verified, while a
#   loop writes idle pages back each second; fio verify likewise, then a
#   verify_only pass that reads every page back from the server;
# - killed: the server gets kill -9 while readers run: reads of remote
#   pages fail with EIO, resident pages keep reading back, writeback to it
#   fails and leaves the pages in memory; reset works and the device works
#   again; nbd-client -d disconnects;
# - hung: a second server is stopped (SIGSTOP): a read of a remote page
#   fails with EIO after the NBD timeout, not before, and not later than
#   the bound; resident pages read back meanwhile; reset works.
# Every step that may talk to a failed server is bounded (timeout): a hang
# fails. rzram's writeback_auto with mem_limit (rzram only, where the
# driver has the attribute): writes above the limit go to NBD by
# themselves; long variant: swap with it too. Short variant (RZ_SMOKE=1):
# swap on 512 MiB, memhog at 1.5x the available memory, one pass, the
# loop ending after 3 rounds that moved pages, 8192 pages a round at most,
# fio over 8 MiB; long: 1 GiB, 2x, two passes, 16 rounds of 16384 pages,
# fio over 128 MiB (debug: one pass, 8 rounds of 8192, 64 MiB); the long
# variant's writeback_auto swap runs memhog at 2x (debug: 1.5x). There,
# with the pool at mem_limit, memory comes back only through nbdkit, which
# runs in the same starved guest: on the debug kernel it takes batches so
# slowly (tens of pages a second) that writers find a batch late and fail
# (the kernel keeps those pages; README, "A remote tier"), so that case
# notes its failed writes instead of bounding them.
. /tests/lib.sh
. /tests/lib_wb.sh
. /tests/lib_nbd.sh

load
wb_disk
wb_mix
NONSAME=$((WB_PAGES - WB_SAME))
if [ "$SMOKE" = 1 ]; then
    HOG_X4=6; PASSES=1; FIO_MB=8; MOVES=3; BUDGET=8192; SWAP_MB=512; AUTO_X4=0
elif debug_kernel; then
    HOG_X4=8; PASSES=1; FIO_MB=64; MOVES=8; BUDGET=8192; SWAP_MB=1024; AUTO_X4=6
    AUTO_FAILS="the in-guest server takes batches slower than writers wait"
else
    HOG_X4=8; PASSES=2; FIO_MB=128; MOVES=16; BUDGET=16384; SWAP_MB=1024; AUTO_X4=8; AUTO_FAILS=
fi
# section NAME: the time the section before took goes to the log.
SEC_T0=$(uptime_cs)
section() { note "--- ${SEC_NAME:-set-up} took $(secs_since $SEC_T0) s"; SEC_NAME=$1; SEC_T0=$(uptime_cs); }
nbd_lo
nbd_serve "server" 10809
S1=$NBDKIT_PID
nbd_connect "client" /dev/nbd0 10809
pass "/dev/nbd0 connected to nbdkit on 127.0.0.1:10809 ($NBD_MODE), $(($(nbd_size /dev/nbd0) / 2048)) MiB"
BDEV=/dev/nbd0

# 1. The tier: manual writeback over NBD and back.
t=tier
section $t
wb_init $SYS 4M
expect_eq "$t: backing_dev is the NBD device" "$(cat $SYS/backing_dev)" $BDEV
wb_write $t
# The random pages are huge; C zram's huge size (zsmalloc's largest class)
# can make a page of busybox huge too.
H=$(bs_count h)
expect_num "$t: the random pages are huge" "$(bs_count h $WB_HUGE_LO $WB_HUGE_HI)" -eq 64
expect_write "$t: writeback huge" ok $SYS/writeback huge
expect_eq "$t: the $H huge pages went to NBD (bd_count, w)" "$(bd_col 1) $(bs_count w)" "$H $H"
expect_write "$t: writeback page_index=0" ok $SYS/writeback page_index=0
expect_eq "$t: page 0 went too" "$(bd_col 1) $(bs_flags 0 | cut -c2)" "$((H + 1)) w"
expect_write "$t: idle all" ok $SYS/idle all
expect_write "$t: writeback idle" ok $SYS/writeback idle
expect_eq "$t: every page but the same-filled is remote (bd_count, w)" "$(bd_col 1) $(bs_count w)" "$NONSAME $NONSAME"
expect_eq "$t: bd_writes = the pages written" "$(bd_col 3)" $NONSAME
expect_eq "$t: compr_data_size falls to 0" "$(mm_stat_col 2)" 0
r0=$(bd_col 2)
wb_verify $t
expect_num "$t: the reads came from NBD (bd_reads)" "$(bd_col 2)" -ge $((r0 + NONSAME))
# The server wrote the disk: page 70 (random) is one of its blocks.
P=70
want=$(md5_file /tmp/wbwant $P 1)
dd if=$NBD_DISK of=/tmp/disk bs=4096 count=$((NONSAME + 8)) iflag=direct 2>/dev/null
blk=
b=0
while [ $b -lt $((NONSAME + 8)) ]; do
    if [ "$(md5_file /tmp/disk $b 1)" = "$want" ]; then blk=$b; break; fi
    b=$((b + 1))
done
if [ -n "$blk" ]; then pass "$t: page $P is block $blk of the served disk $NBD_DISK"; else fail "$t: page $P is not on $NBD_DISK"; fi
rm -f /tmp/disk
check_sh "$t: reset" "echo 1 > $SYS/reset"
expect_eq "$t: reset releases the NBD device" "$(cat $SYS/backing_dev)" none

# 2. Swap whose cold pages live on the server, then fio verify.
t=swap
section $t
wb_init $SYS ${SWAP_MB}M
swap_on
swap_reserve
wb_loop_start $MOVES $BUDGET
avail=$(avail_mib)
size=$((avail * HOG_X4 / 4))
note "$t: MemAvailable ${avail} MiB, memhog ${size} MiB, $PASSES passes"
oom_mark
memhog_run "$t" "$size" --passes $PASSES --prefix 256 --seed 23
wb_loop_stop "$t: idle + writeback loop during memhog"
note "$t: bd_stat $(cat $SYS/bd_stat)"
expect_num "$t: pages went to NBD during the run (bd_writes)" "$(bd_col 3)" -gt 256
# The coldest pages in swap are the root file system's (tmpfs), which
# nothing reads again, and the budget goes to them first: in the short
# variant memhog gets few of its pages back from NBD (23 of 16,385 written
# in one run; the fio case reads every page from there).
expect_num "$t: pages came back from NBD (bd_reads)" "$(bd_col 2)" -gt 0
# What memhog has beyond the available memory goes to swap, half of it at
# least at the peak.
expect_num "$t: memhog's VmSwap peak in kB holds half of what exceeds the available memory" \
    "$MEMHOG_SWAP" -gt $(((size - avail) * 1024 / 2))
swap_checks $t
expect_num "$t: swap's slot-free released the remote blocks (bd_count)" "$(bd_col 1)" -le $((1 + ${MISS_FREE:-0}))
check_sh "$t: reset" "echo 1 > $SYS/reset"

t=fio
section $t
wb_init $SYS $((FIO_MB * 2))M
FIO="--name=nbd --filename=$DEV --direct=1 --rw=randwrite --bs=4k --size=${FIO_MB}M --verify=crc32c --randrepeat=1"
wb_loop_start
run_fio "$t: random writes of $FIO_MB MiB with crc32c headers" 1 $FIO --do_verify=0
# The verify runs while the loop writes pages back, once it has moved some.
wait_until $NBD_BOUND '[ "$(awk "{print \$3}" /tmp/wbloop)" -ge 1 ] 2>/dev/null' ||
    fail "$t: the loop wrote no page back in $NBD_BOUND s"
r0=$(bd_col 2)
run_fio "$t: verify while idle pages go to NBD" 1 $FIO --verify_only
wb_loop_stop "$t: idle + writeback loop during fio"
expect_num "$t: ... it read pages back from NBD (bd_reads)" "$(bd_col 2)" -gt "$r0"
expect_write "$t: idle all" ok $SYS/idle all
expect_write "$t: writeback idle" ok $SYS/writeback idle
expect_eq "$t: every page fio wrote is remote (bd_count)" "$(bd_col 1)" $((FIO_MB * 256))
r0=$(bd_col 2)
run_fio "$t: verify_only reads every page back from NBD" 1 $FIO --verify_only
expect_num "$t: ... through the server (bd_reads)" "$(bd_col 2)" -ge $((r0 + FIO_MB * 256))
check_sh "$t: reset" "echo 1 > $SYS/reset"

# 3. rzram's automatic writeback above mem_limit, to NBD.
t=auto
section $t
if ! rzram_only "$t: writeback_auto"; then
    :
elif [ ! -e $SYS/writeback_auto ]; then
    skip "$t: this rzram has no writeback_auto"
else
    # Its own connection to the same server, with the long timeout.
    nbd_connect "$t" /dev/nbd2 10809 $NBD_LIVE_TMO
    BDEV=/dev/nbd2
    wb_init $SYS 64M
    check_sh "$t: mem_limit 4M" "echo 4M > $SYS/mem_limit"
    expect_write "$t: writeback_auto 1" ok $SYS/writeback_auto 1
    dd if=/dev/urandom of=/tmp/auto bs=4096 count=8192 2>/dev/null
    check "$t: 32 MiB of random pages written over a 4 MiB limit" \
        timeout $NBD_BOUND dd if=/tmp/auto of=$DEV bs=64k oflag=direct
    expect_num "$t: mem_used_total within mem_limit" "$(mm_stat_col 3)" -le 4194304
    expect_num "$t: the rest went to NBD (bd_count)" "$(bd_col 1)" -ge 6144
    expect_eq "$t: every page reads back" "$(md5_dev $DEV 0 8192)" "$(md5_file /tmp/auto 0 8192)"
    rm -f /tmp/auto
    check_sh "$t: reset" "echo 1 > $SYS/reset"
    expect_eq "$t: reset turns writeback_auto off" "$(cat $SYS/writeback_auto)" 0
    if [ "$AUTO_X4" != 0 ]; then
        wb_init $SYS 1G
        avail=$(avail_mib)
        check_sh "$t swap: mem_limit $((avail / 4))M" "echo $((avail / 4))M > $SYS/mem_limit"
        expect_write "$t swap: writeback_auto 1" ok $SYS/writeback_auto 1
        swap_on
        # Progress in the log every 20 s (a slow run is then told from a stuck one).
        ( while :; do sleep 20; echo "# $(cut -d' ' -f1 /proc/uptime) s: mm_stat $(cat $SYS/mm_stat); bd_stat $(cat $SYS/bd_stat)"; done ) &
        mon=$!
        oom_mark
        memhog_run "$t swap" $((avail * AUTO_X4 / 4)) --passes 1 --prefix 256 --seed 29
        kill $mon
        expect_num "$t swap: pages went to NBD by themselves (bd_writes)" "$(bd_col 3)" -gt 256
        # As zram, a writer checks mem_limit right after its allocation, so
        # writers allocating together pass it for a moment (a few zspages
        # of up to 12 pages each; 8 to 51 pages in four debug runs) and
        # mem_used_max records that: 1/64 of the limit more is allowed.
        expect_num "$t swap: mem_used_max within mem_limit (+1/64)" "$(mm_stat_col 5)" -le $((avail / 4 * 1048576 * 65 / 64))
        SWAP_FAILS_WHY=$AUTO_FAILS
        swap_checks "$t swap"
        SWAP_FAILS_WHY=
        check_sh "$t swap: reset" "echo 1 > $SYS/reset"
    fi
    BDEV=/dev/nbd0
    check "$t: nbd-client -d /dev/nbd2" timeout $NBD_BOUND nbd-client -d /dev/nbd2
fi

# 4. The server killed while readers run.
t=killed
section $t
wb_init $SYS 4M
wb_write $t
expect_write "$t: writeback page_indexes=64-127" ok $SYS/writeback page_indexes=64-127
expect_write "$t: writeback page_indexes=192-255" ok $SYS/writeback page_indexes=192-255
expect_eq "$t: 128 pages remote (bd_count, w)" "$(bd_col 1) $(bs_count w)" "128 128"
reader_start remote 64 64; rpid=$!
reader_start resident 0 64; lpid=$!
wait_until $NBD_BOUND '[ "$(reader_cnt remote 1)" -ge 2 ] 2>/dev/null && [ "$(reader_cnt resident 1)" -ge 2 ] 2>/dev/null' ||
    fail "$t: the readers did not read twice in $NBD_BOUND s ($(cat /tmp/remote.cnt) / $(cat /tmp/resident.cnt))"
check "$t: kill -9 the server" kill -9 $S1
t0=$(uptime_cs)
wait_until 10 "gone $S1" || fail "$t: the server lives on"
wait $S1
if wait_until $NBD_BOUND '[ "$(reader_cnt remote 2)" -ge 1 ] 2>/dev/null'; then
    pass "$t: reads of remote pages fail with EIO ($(secs_since $t0) s after the kill)"
else
    fail "$t: no EIO from the remote reader in $NBD_BOUND s ($(cat /tmp/remote.cnt))"
fi
l0=$(reader_cnt resident 1)
wait_until $NBD_BOUND '[ "$(reader_cnt resident 1)" -ge $((l0 + 3)) ]' ||
    fail "$t: the resident reader stopped ($(cat /tmp/resident.cnt))"
reader_stop remote $rpid
reader_stop resident $lpid
note "$t: remote reader OK EIO BAD: $(cat /tmp/remote.cnt), resident: $(cat /tmp/resident.cnt)"
expect_eq "$t: remote reads: nothing but the data or EIO" "$(reader_cnt remote 3)" 0
expect_eq "$t: resident reads: every one matched" "$(reader_cnt resident 2) $(reader_cnt resident 3)" "0 0"
[ ! -e /tmp/remote.bad ] || note "$t: remote: $(cat /tmp/remote.bad)"
[ ! -e /tmp/resident.bad ] || note "$t: resident: $(cat /tmp/resident.bad)"
read_page_eio "$t: O_DIRECT read of remote page $P" $P
drop_caches
if out=$(timeout $NBD_BOUND dd if=$DEV of=/tmp/pg bs=4096 skip=200 count=1 2>&1); then
    fail "$t: buffered read of remote page 200 succeeded"
elif echo "$out" | grep -q "Input/output error"; then
    pass "$t: buffered read of remote page 200 fails with EIO"
else
    fail "$t: buffered read of remote page 200: $(echo "$out" | tail -n 1)"
fi
expect_eq "$t: resident pages 0..63 read back" "$(md5_dev $DEV 0 64)" "$(md5_file /tmp/wbwant 0 64)"
expect_eq "$t: same-filled pages 128..191 read back" "$(md5_dev $DEV 128 64)" "$(md5_file /tmp/wbwant 128 64)"
dd if=/dev/urandom of=/tmp/patch bs=4096 count=4 2>/dev/null
check "$t: overwrite remote pages 64..67" timeout $NBD_BOUND dd if=/tmp/patch of=$DEV bs=4096 seek=64 oflag=direct conv=notrunc
dd if=/tmp/patch of=/tmp/wbwant bs=4096 seek=64 conv=notrunc 2>/dev/null
expect_eq "$t: ... they read back from memory" "$(md5_dev $DEV 64 4)" "$(md5_file /tmp/wbwant 64 4)"
expect_eq "$t: ... and left the server (bd_count)" "$(bd_col 1)" 124
expect_write "$t: idle all" ok $SYS/idle all
expect_write "$t: writeback idle to the dead server fails" "Input/output error" $SYS/writeback idle
expect_eq "$t: ... nothing more is remote (bd_count)" "$(bd_col 1)" 124
expect_eq "$t: ... the pages stay in memory and read back" "$(md5_dev $DEV 0 68)" "$(md5_file /tmp/wbwant 0 68)"
check "$t: reset" timeout $NBD_BOUND sh -c "echo 1 > $SYS/reset"
expect_eq "$t: reset releases the NBD device" "$(cat $SYS/backing_dev) $(cat $SYS/initstate)" "none 0"
dev_init $SYS 4M
wb_write "$t: after reset"
expect_eq "$t: after reset the device works" "$(md5_dev $DEV 0 $WB_PAGES)" "$(md5_file /tmp/wbmix 0 $WB_PAGES)"
check_sh "$t: reset again" "echo 1 > $SYS/reset"
check "$t: nbd-client -d /dev/nbd0" timeout $NBD_BOUND nbd-client -d /dev/nbd0
wait_until 10 '[ "$(nbd_size /dev/nbd0)" = 0 ]' ||
    fail "$t: /dev/nbd0 still has $(nbd_size /dev/nbd0) sectors after the disconnect"

# 5. A second server, stopped (SIGSTOP): the NBD timeout ends the wait.
t=hung
section $t
cp /tmp/wbmix /tmp/wbwant
nbd_serve "$t" 10810
S2=$NBDKIT_PID
nbd_connect "$t" /dev/nbd1 10810
BDEV=/dev/nbd1
wb_init $SYS 4M
wb_write $t
expect_write "$t: writeback page_indexes=64-127" ok $SYS/writeback page_indexes=64-127
expect_eq "$t: 64 pages remote" "$(bd_col 1)" 64
expect_eq "$t: remote page $P reads back while the server runs" "$(md5_dev $DEV $P 1)" "$(md5_file /tmp/wbwant $P 1)"
check "$t: kill -STOP the server" kill -STOP $S2
read_page_eio "$t: O_DIRECT read of remote page $((P + 1))" $((P + 1))
expect_num "$t: ... not before the NBD timeout (centiseconds)" "$(echo $READ_SECS | tr -d .)" -ge $(((NBD_TMO - 1) * 100))
expect_eq "$t: resident pages 0..63 read back" "$(md5_dev $DEV 0 64)" "$(md5_file /tmp/wbwant 0 64)"
check "$t: reset" timeout $NBD_BOUND sh -c "echo 1 > $SYS/reset"
expect_eq "$t: reset releases the NBD device" "$(cat $SYS/backing_dev)" none
kill -CONT $S2
check "$t: kill -9 the server" kill -9 $S2
wait $S2
check "$t: nbd-client -d /dev/nbd1" timeout $NBD_BOUND nbd-client -d /dev/nbd1
wait_until 10 '[ "$(nbd_size /dev/nbd1)" = 0 ]' ||
    fail "$t: /dev/nbd1 still has $(nbd_size /dev/nbd1) sectors after the disconnect"
check "rmmod $DRV" unload
check "rmmod nbd: nothing holds it" rmmod nbd
section end
summary
