# Helpers of test_nbd: a remote tier on the kernel's NBD client. nbdkit
# (Debian's NBD server, its file plugin) serves the guest's virtio disk on
# the loopback, nbd-client connects /dev/nbdN to it. Sourced after lib.sh
# and lib_wb.sh.

NBD_DISK=/dev/vda
# The NBD client's I/O timeout (nbd-client -t), seconds: a request the
# server does not answer fails with EIO after it. Short, so the hung-server
# case ends soon; long enough for TCG on a loaded host to answer a live one.
NBD_TMO=5
# The timeout of the writeback_auto cases' connection: there the server
# runs in a guest starved by the very swap it serves, and under KASAN and
# TCG stalls for longer than NBD_TMO; the client drops a connection for
# good at its first timed-out request. (The other cases keep NBD_TMO: a
# killed server's requests, too, fail only at the timeout.)
NBD_LIVE_TMO=60
# The bound of every step that may talk to a failed server, seconds: the
# NBD timeout several times over, for TCG. A step still running then has
# hung, which is a failure, not a wait.
NBD_BOUND=60

# nbd_lo: the loopback up (the guest has no other interface); fatal without
# 127.0.0.1, as nothing below can connect.
nbd_lo() {
    ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
    ip addr show lo 2>/dev/null | grep -q 'inet 127\.0\.0\.1' ||
        ifconfig lo 2>/dev/null | grep -q '127\.0\.0\.1' || fatal "no 127.0.0.1 on lo"
}

# nbd_serve TAG PORT: nbdkit serves $NBD_DISK on 127.0.0.1:PORT in the
# background; its pid goes to NBDKIT_PID. Fatal if it does not start.
# The server runs beside swap on a device whose cold pages live on it: it
# must never need a page of its own back from there (that swap-in would
# wait for the server itself), so the lockonfault preload locks its pages
# as they are touched (VmLck counts the locked mappings, VmRSS what they
# hold). -t 2: two worker threads per connection. -f: the background job
# is the server itself, not a daemon it forked.
NBD_PRELOAD=/usr/lib/rzram/lockonfault.so
nbd_serve() {
    local pidf=/tmp/nbdkit-$2.pid
    rm -f "$pidf"
    LD_PRELOAD=$NBD_PRELOAD nbdkit -f -t 2 -i 127.0.0.1 -p "$2" -P "$pidf" file file=$NBD_DISK \
        > /tmp/nbdkit-$2.log 2>&1 &
    wait_until 30 "[ -s $pidf ]" || fatal "$1: nbdkit did not start: $(tail -n 3 /tmp/nbdkit-$2.log)"
    NBDKIT_PID=$(cat "$pidf")
    note "$1: nbdkit pid $NBDKIT_PID on 127.0.0.1:$2, $(grep -E 'VmLck|VmRSS' /proc/$NBDKIT_PID/status | tr -s ' \t\n' ' ')"
    expect_num "$1: the server's pages are locked (VmLck kB)" \
        "$(awk '/^VmLck/ {print $2}' /proc/$NBDKIT_PID/status)" -gt 0
}

# nbd_connect TAG NODE PORT [TMO]: nbd-client connects NODE to
# 127.0.0.1:PORT with 4 KiB blocks and the NBD timeout TMO (default
# NBD_TMO), through netlink (nbd-client's default; NBD_MODE=netlink) or,
# where that is refused, the old ioctl interface (-L; NBD_MODE=ioctl).
# NODE must then have the disk's size. Fatal otherwise.
nbd_connect() {
    local node=$2 out out2 want
    [ -b "$node" ] || modprobe nbd 2>/dev/null
    wait_until 10 "[ -b $node ]" || fatal "$1: no $node (modprobe nbd)"
    NBD_MODE=netlink
    if ! out=$(timeout $NBD_BOUND nbd-client 127.0.0.1 "$3" "$node" -b 4096 -t ${4:-$NBD_TMO} 2>&1); then
        NBD_MODE=ioctl
        out2=$(timeout $NBD_BOUND nbd-client 127.0.0.1 "$3" "$node" -b 4096 -t ${4:-$NBD_TMO} -L 2>&1) ||
            fatal "$1: nbd-client $node: netlink: $(echo "$out" | tail -n 1); ioctl: $(echo "$out2" | tail -n 1)"
        note "$1: netlink refused ($(echo "$out" | tail -n 1)), connected through ioctl"
    fi
    want=$(cat /sys/block/${NBD_DISK##*/}/size)
    wait_until 10 "[ \"\$(cat /sys/block/${node##*/}/size)\" = $want ]" ||
        fatal "$1: $node has $(cat /sys/block/${node##*/}/size) sectors, the disk $want"
}

# nbd_size NODE: NODE's size in 512-byte sectors (0 once disconnected).
nbd_size() { cat "/sys/block/${1##*/}/size" 2>/dev/null; }

# The writeback loop of the swap and fio cases: every second, mark every
# page idle and write the idle ones back, as a memory-pressure daemon
# would; "DONE FAILED" in /tmp/wbloop after each round (counts_ok).
# wb_loop_start [MOVES BUDGET] waits for its first round. Every swap-in of
# a remote page is a synchronous round trip to the server (about 1 ms under
# TCG), and memhog's sweeps swap each page in again and again: a loop that
# writes back everything, always, sends nearly every page over NBD (75,000
# reads, 90 s on the base kernel at 1.25x memory, in one run; 13 in
# another, where memhog ended before the loop's second round). MOVES and
# BUDGET bound that: each round may write BUDGET pages (writeback_limit; a
# round that spends it ends with EIO and writeback_limit 0, which counts as
# done), and the loop ends by itself after MOVES rounds that wrote pages
# (bd_writes rose). Writeback takes the lowest idle indexes first, so a
# budget goes to the coldest swap slots first: the root file system's
# (tmpfs) pages, then memhog's. wb_loop_stop DESC ends the loop, turns the
# limit off and gives its verdict.
wb_loop_start() {
    rm -f /tmp/wbstop /tmp/wbloop /tmp/wberr
    [ -z "$2" ] || echo 1 > $SYS/writeback_limit_enable
    (
        done=0; failed=0; moved=0
        while [ ! -e /tmp/wbstop ] && { [ -z "$1" ] || [ $moved -lt "$1" ]; }; do
            w0=$(bd_col 3)
            if e=$( { [ -z "$2" ] || echo "$2" > $SYS/writeback_limit; } 2>&1 &&
                { echo all > $SYS/idle && echo idle > $SYS/writeback; } 2>&1); then
                done=$((done + 1))
            elif [ -n "$2" ] && [ "$(cat $SYS/writeback_limit)" = 0 ] && echo "$e" | grep -q "Input/output error"; then
                done=$((done + 1))
            else
                failed=$((failed + 1)); echo "$e" >> /tmp/wberr
            fi
            [ "$(bd_col 3)" = "$w0" ] || moved=$((moved + 1))
            echo "$done $failed $moved" > /tmp/wbloop
            sleep 1
        done
    ) &
    WB_LOOP=$!
    wait_until 60 "[ -s /tmp/wbloop ]" || fail "the idle + writeback loop made no round in 60 s"
}
wb_loop_stop() {
    touch /tmp/wbstop
    wait $WB_LOOP
    echo 0 > $SYS/writeback_limit_enable
    counts_ok "$1" /tmp/wbloop
    note "$1: $(awk '{print $3}' /tmp/wbloop) rounds wrote pages"
    [ ! -s /tmp/wberr ] || note "loop errors: $(sort /tmp/wberr | uniq -c | tr '\n' ' ')"
}

# reader_start NAME FIRST COUNT: a background loop reads pages FIRST..
# FIRST+COUNT-1 of $DEV with O_DIRECT (each read bounded by NBD_BOUND)
# until /tmp/NAME.stop exists, and after each round writes "OK EIO BAD" to
# /tmp/NAME.cnt: rounds that matched /tmp/wbwant, that failed with EIO, and
# anything else (other data, another error, a read that timed out; the
# first such goes to /tmp/NAME.bad). reader_cnt NAME N: column N of it.
reader_start() {
    rm -f /tmp/$1.stop /tmp/$1.cnt /tmp/$1.bad
    (
        ok=0; eio=0; bad=0
        want=$(md5_file /tmp/wbwant "$2" "$3")
        while [ ! -e /tmp/$1.stop ]; do
            if out=$(timeout $NBD_BOUND dd if=$DEV of=/tmp/$1.data bs=4096 skip="$2" count="$3" iflag=direct 2>&1); then
                if [ "$(md5_file /tmp/$1.data 0 "$3")" = "$want" ]; then
                    ok=$((ok + 1))
                else
                    bad=$((bad + 1)); [ -e /tmp/$1.bad ] || echo "other data" > /tmp/$1.bad
                fi
            elif echo "$out" | grep -q "Input/output error"; then
                eio=$((eio + 1))
            else
                bad=$((bad + 1)); [ -e /tmp/$1.bad ] || echo "$out" | tail -n 1 > /tmp/$1.bad
            fi
            echo "$ok $eio $bad" > /tmp/$1.cnt
            usleep 50000
        done
    ) &
}
reader_cnt() { awk -v c="$2" '{print $c}' /tmp/$1.cnt 2>/dev/null; }
# reader_stop NAME PID: the reader must end within NBD_BOUND.
reader_stop() {
    touch /tmp/$1.stop
    if wait_until $NBD_BOUND "gone $2"; then wait "$2"; else fail "$1: the reader did not stop in $NBD_BOUND s"; fi
}

# gone PID: the process has ended (a zombie not yet waited for counts).
gone() { ! grep -qs '^State:[[:space:]]*[^Z]' /proc/$1/status; }

# read_page_eio DESC PAGE: an O_DIRECT read of PAGE of $DEV, bounded by
# NBD_BOUND, must fail with EIO and return no data; READ_SECS says how
# long it took (S.CC).
read_page_eio() {
    local t0 out rc
    t0=$(uptime_cs)
    out=$(timeout $NBD_BOUND dd if=$DEV of=/tmp/pg bs=4096 skip="$2" count=1 iflag=direct 2>&1); rc=$?
    READ_SECS=$(secs_since "$t0")
    if [ $rc = 0 ]; then
        fail "$1: the read succeeded ($(md5_file /tmp/pg 0 1), want $(md5_file /tmp/wbwant "$2" 1))"
    elif [ $rc = 124 ] || [ $rc = 143 ]; then
        fail "$1: the read hung (killed after $NBD_BOUND s)"
    elif echo "$out" | grep -q "Input/output error"; then
        pass "$1: EIO after $READ_SECS s"
    else
        fail "$1: $(echo "$out" | tail -n 1)"
    fi
    expect_eq "$1: ... and no data" "$(stat -c %s /tmp/pg)" 0
}
