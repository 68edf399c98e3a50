# reset racing disksize, raced as a user would race them: each round starts
# from an initialised device and three background shells start at once, one
# writing reset and two writing disksize (two sizes) until one of them is
# taken: they get EBUSY until the reset has cleared the device, so the
# winner lands right behind it. Once all three have finished, initstate and
# the disk's size must agree: initstate 1 with /sys/block/<dev>/size (in
# 512-byte sectors) and blockdev --getsize64 both equal to disksize > 0, or
# initstate 0 with disksize and both sizes 0. zram changes the capacity
# under the lock that guards the state; a reset that set the capacity to 0
# after dropping that lock, with a disksize write initialising the device in
# between, left it initialised with size 0.
. /tests/lib.sh

ROUNDS=150
# disksize attempts per writer and round: a writer sees EBUSY until the
# reset is through, then one wins and the other sees EBUSY to the end.
# Each attempt is a shell builtin's write (no fork), so 200 take a few ms,
# longer than the other two shells take to start.
TRIES=200
SIZE_A=64M
SIZE_B=32M

load

# writer SIZE OUT: writes SIZE to disksize until it is taken or TRIES
# attempts were refused; puts "ok N" or "none N" (N attempts) in OUT.
writer() {
    n=0
    while [ $n -lt $TRIES ]; do
        n=$((n + 1))
        if echo $1 > $SYS/disksize 2>/dev/null; then echo "ok $n" > $2; return; fi
    done
    echo "none $n" > $2
}

# agree: initstate, disksize and both views of the disk's size agree;
# otherwise prints what was read.
agree() {
    read st < $SYS/initstate
    read ds < $SYS/disksize
    read sec < $SYS/size
    b=$(blockdev --getsize64 $DEV)
    if [ "$st" = 1 ] && [ "$ds" -gt 0 ] && [ $((sec * 512)) = "$ds" ] && [ "$b" = "$ds" ]; then return 0; fi
    if [ "$st" = 0 ] && [ "$ds" = 0 ] && [ "$sec" = 0 ] && [ "$b" = 0 ]; then return 0; fi
    echo "initstate $st, disksize $ds, size $sec sectors, getsize64 $b"
    return 1
}

bad=0; ended_init=0; raced=0; shown=0
start=$(uptime_cs)
r=1
while [ $r -le $ROUNDS ]; do
    read st < $SYS/initstate
    [ "$st" = 1 ] || echo $SIZE_A > $SYS/disksize || fatal "round $r: disksize $SIZE_A on an idle device refused"
    rm -f /tmp/race.a /tmp/race.b
    (echo 1 > $SYS/reset) 2>/dev/null &
    writer $SIZE_A /tmp/race.a &
    writer $SIZE_B /tmp/race.b &
    wait
    if got=$(agree); then
        read st < $SYS/initstate
        [ "$st" = 1 ] && ended_init=$((ended_init + 1))
    else
        bad=$((bad + 1))
        [ $shown -lt 5 ] && note "round $r: $got (writers: $(cat /tmp/race.a), $(cat /tmp/race.b))"
        shown=$((shown + 1))
    fi
    # A writer refused at first and taken later raced the reset.
    for w in /tmp/race.a /tmp/race.b; do
        read res n < $w
        [ "$res" = ok ] && [ "$n" -gt 1 ] && raced=$((raced + 1))
    done
    r=$((r + 1))
done
note "$ROUNDS rounds in $(secs_since $start) s: $ended_init ended initialised, $raced won by a writer refused first"
expect_num "rounds in which a disksize writer was refused, then won behind the reset" $raced -gt 0
expect_eq "initstate and the disk's size agree after every round (rounds that disagree)" $bad 0

# The device still works after the race.
echo 1 > $SYS/reset || fail "reset after the race"
dev_init $SYS 8M
dd if=/dev/urandom of=/tmp/r bs=64k count=16 2>/dev/null
check "write 1 MiB after the race" dd if=/tmp/r of=$DEV bs=64k oflag=direct
expect_eq "it reads back" "$(md5_dev $DEV 0 256)" "$(md5_file /tmp/r 0 256)"
check_sh "reset" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
