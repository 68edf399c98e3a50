# reset and hot_remove while the device is open must fail with EBUSY and
# change nothing. The holders: a shell file descriptor (exec 3<>$DEV), a
# mounted ext4, swapon, and fio running. A known pattern sits in the last
# 4 MiB of the device (every holder stays below it); after each holder its
# checksum, disksize, initstate and the stored data must be unchanged. Once
# nothing holds the device, reset and hot_remove succeed.
. /tests/lib.sh

# Attempts of each refused write per holder. In the fio case every attempt
# is made while fio's four jobs hold the device: fio writes (verifying as it
# goes) until the script tells it to stop, however slow the kernel is.
if [ "$SMOKE" = 1 ]; then TRIES=2; FIO_MB=8; else TRIES=40; FIO_MB=64; fi
# A generous bound on the wait for fio's four jobs: on a loaded host the
# debug kernel took over 16 s to have them all running.
FIO_START_S=300
note "sizes: $TRIES attempts per holder, fio over $FIO_MB MiB"

DISK_MB=128
PAT_PAGES=1024
PAT_AT=$((DISK_MB * 256 - PAT_PAGES))      # the pattern's first page

load
dev_init $SYS ${DISK_MB}M
mixed_file /tmp/pat "busy test pattern line 0123456789" 245
check "write the pattern" dd if=/tmp/pat of=$DEV bs=64k seek=$((PAT_AT / 16)) oflag=direct conv=notrunc
WANT=$(md5_file /tmp/pat 0 $PAT_PAGES)
DISKSIZE=$(cat $SYS/disksize)
expect_eq "the pattern reads back" "$(md5_dev $DEV $PAT_AT $PAT_PAGES)" "$WANT"
expect_eq "initstate is 1" "$(cat $SYS/initstate)" 1

# not_busy SHELL-COMMAND: nothing if the command fails with EBUSY, else
# what it did instead.
not_busy() {
    if out=$(sh -c "$1" 2>&1); then
        echo " succeeded"
    elif ! echo "$out" | grep -qi "Device or resource busy"; then
        echo " said '$out'"
    fi
}

# refuse TAG [GUARD]: TRIES attempts each of reset and hot_remove, every one
# must fail with EBUSY; with GUARD (a shell command), only while it holds.
refuse() {
    i=0; bad_reset=; bad_remove=
    while [ $i -lt $TRIES ]; do
        [ -n "$2" ] && ! eval "$2" && break
        bad_reset=$bad_reset$(not_busy "echo 1 > $SYS/reset")
        bad_remove=$bad_remove$(not_busy "echo 0 > $CTL/hot_remove")
        i=$((i + 1))
    done
    if [ $i = 0 ]; then fail "$1: no attempt made"; return; fi
    expect_eq "$1: reset refused with EBUSY ($i tries)" "$bad_reset" ""
    expect_eq "$1: hot_remove refused with EBUSY ($i tries)" "$bad_remove" ""
}

# unchanged TAG: the device is still there, configured, and holds the
# pattern.
unchanged() {
    if [ -b $DEV ] && [ -d $SYS ]; then pass "$1: $DEV still exists"; else fail "$1: $DEV is gone"; fi
    expect_eq "$1: disksize unchanged" "$(cat $SYS/disksize 2>/dev/null)" "$DISKSIZE"
    expect_eq "$1: initstate still 1" "$(cat $SYS/initstate 2>/dev/null)" 1
    drop_caches
    expect_eq "$1: the pattern reads back" "$(md5_dev $DEV $PAT_AT $PAT_PAGES)" "$WANT"
}

note "--- holder: a shell file descriptor"
# (A failed redirection on exec would end the shell: the verdict line would
# be missing, which fails the run.)
exec 3<>$DEV
if [ "$(readlink /proc/$$/fd/3)" = $DEV ]; then pass "fd: fd 3 holds $DEV"; else fail "fd: fd 3 is not $DEV"; fi
refuse "fd"
exec 3>&-
unchanged "fd"

note "--- holder: a mounted ext4 (32 MiB at the start of the device)"
check "ext4: mkfs.ext4 over 32 MiB" mkfs.ext4 -q -F $DEV 32M
mkdir -p /mnt/busy
if mount -t ext4 $DEV /mnt/busy; then
    pass "ext4: mount"
    cp /tmp/pat /mnt/busy/pat && sync
    refuse "ext4"
    drop_caches
    expect_eq "ext4: the file in the fs reads back" "$(md5_file /mnt/busy/pat 0 $PAT_PAGES)" "$WANT"
    check "ext4: umount" umount /mnt/busy
    check "ext4: e2fsck is clean" e2fsck -fn $DEV
    if mount -t ext4 $DEV /mnt/busy; then
        expect_eq "ext4: the file reads back after remount" "$(md5_file /mnt/busy/pat 0 $PAT_PAGES)" "$WANT"
        umount /mnt/busy
    else
        fail "ext4: remount"
    fi
else
    fail "ext4: mount"
fi
unchanged "ext4"

note "--- holder: swapon (16 MiB swap area at the start of the device)"
check "swap: mkswap over 16 MiB" mkswap $DEV 16384
if swapon $DEV; then
    pass "swap: swapon"
    refuse "swap"
    check "swap: swapoff" swapoff $DEV
else
    fail "swap: swapon"
fi
unchanged "swap"

note "--- holder: fio (4 jobs, random writes with crc32c verify, from 32 MiB, until told to stop)"
# time_based with a runtime far beyond any VM timeout: the jobs keep the
# device open until /tmp/busy.stop exists (fio's --trigger-file), so no
# attempt can race the jobs ending by themselves. Stopped that way fio
# saves its verify state, into /tmp (--aux-path).
cat > /tmp/busy.fio <<EOF
[global]
filename=$DEV
ioengine=psync
direct=1
bs=4k
rw=randwrite
size=$((FIO_MB / 4))m
verify=crc32c
verify_fatal=1
verify_backlog=64
time_based=1
runtime=86400
refill_buffers=1
buffer_compress_percentage=50
numjobs=4
allow_file_create=0
offset=32m
offset_increment=$((FIO_MB / 4))m
[busy]
EOF
# openers: how many descriptors of $DEV processes other than fio's parent
# hold. One ls for all of /proc: a process per pid is far too slow on the
# debug kernel.
openers() {
    ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v dev="$DEV" -v skip="/proc/$fpid/fd:" '
        /^\/proc\// { cur = $0; next }
        cur != skip && $NF == dev { n++ }
        END { print n + 0 }'
}
rm -f /tmp/busy.stop
fstart=$(uptime_cs)
fio --aux-path=/tmp --trigger-file=/tmp/busy.stop /tmp/busy.fio > /tmp/busy.out 2>&1 &
fpid=$!
# Wait until the four jobs have the device open: fio's parent opens it for
# a moment first (once per job). A job closes it only when told to stop or
# when it fails; the attempts stop as soon as fewer than four hold it, and
# all TRIES must be made.
if wait_until $FIO_START_S '[ "$(openers)" -ge 4 ] || ! kill -0 $fpid 2>/dev/null' && kill -0 $fpid 2>/dev/null; then
    note "fio: four jobs hold $DEV after $(secs_since $fstart) s"
    refuse "fio" '[ "$(openers)" -ge 4 ]'
    expect_eq "fio: every attempt made while the four jobs held $DEV (attempts)" "$i" "$TRIES"
else
    fail "fio: its four jobs were not seen holding $DEV at once within $FIO_START_S s (fio $(kill -0 $fpid 2>/dev/null && echo running || echo ended))"
fi
touch /tmp/busy.stop
wait $fpid
fio_verdict "fio: exit 0, all 4 jobs verified their data" 4 $? "$(cat /tmp/busy.out)"
unchanged "fio"
expect_eq "no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"

note "--- nothing holds the device"
check_sh "reset succeeds once closed" "echo 1 > $SYS/reset"
expect_eq "initstate 0 after reset" "$(cat $SYS/initstate)" 0
check_sh "hot_remove succeeds once closed" "echo 0 > $CTL/hot_remove"
if [ -e $SYS ]; then fail "$SYS still exists after hot_remove"; else pass "$SYS is gone after hot_remove"; fi
check "rmmod $DRV" unload
summary
