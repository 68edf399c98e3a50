# reset racing disksize, raced as a user would race them: each round starts
# from an initialised device with two background shells writing disksize
# (two sizes) in a loop. They get EBUSY while the device is initialised; once
# both have been refused, a third shell writes reset, and the first disksize
# write after it initialises the device again, so a writer wins right
# behind the reset in every round. Once all three have finished, initstate
# and the disk's size must agree: initstate 1 with /sys/block/<dev>/size (in
# 512-byte sectors) and blockdev --getsize64 both equal to disksize > 0, or
# initstate 0 with disksize and both sizes 0. zram changes the capacity
# under the lock that guards the state; a reset that set the capacity to 0
# after dropping that lock, with a disksize write initialising the device in
# between, left it initialised with size 0.
. /tests/lib.sh

ROUNDS=150
# The debug kernel's smoke run (RZ_SMOKE=1): 30 rounds. A round takes about
# 0.55 s there (0.05 s on the base kernel); every round is checked to have
# raced (below), and lockdep and KASAN need a lock order or an access seen
# once. The 150 rounds on the debug kernel: scripts/stress.sh test_race.
[ "$SMOKE" = 1 ] && debug_kernel && ROUNDS=30
# Attempts a writer goes on with after the reset has returned: one writer
# takes the device at its first attempt after the reset, and the other is
# refused from then on; 20 builtin writes (no fork) are enough to see that.
AFTER=20
# A writer that neither wins nor sees the reset within this many attempts
# means the reset never returned: the round fails instead of spinning on.
MAX_TRIES=200000
SIZE_A=64M
SIZE_B=32M
R=/tmp/race

load

# writer SIZE TAG: writes SIZE to disksize until it is taken; after its
# first refusal it creates $R.up.TAG, and AFTER attempts after the reset it
# gives up. Puts "ok N" or "none N" (N attempts) in $R.TAG.
writer() {
    n=0; after=0
    while [ $n -lt $MAX_TRIES ]; do
        n=$((n + 1))
        if echo $1 > $SYS/disksize 2>/dev/null; then echo "ok $n" > $R.$2; return; fi
        [ $n = 1 ] && : > $R.up.$2
        if [ -e $R.reset ]; then
            after=$((after + 1))
            [ $after -ge $AFTER ] && break
        fi
    done
    echo "none $n" > $R.$2
}

# resetter: waits until both writers have been refused once, then resets
# and creates $R.reset; puts reset's exit status in $R.rc.
resetter() {
    n=0
    while ! [ -e $R.up.a ] || ! [ -e $R.up.b ]; do
        n=$((n + 1))
        [ $n -lt $MAX_TRIES ] || break
    done
    (echo 1 > $SYS/reset) 2>/dev/null
    echo $? > $R.rc
    : > $R.reset
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

bad=0; raced=0; resets_failed=0; shown=0
start=$(uptime_cs)
r=1
while [ $r -le $ROUNDS ]; do
    read st < $SYS/initstate
    [ "$st" = 1 ] || echo $SIZE_A > $SYS/disksize || fatal "round $r: disksize $SIZE_A on an idle device refused"
    rm -f $R.*
    writer $SIZE_A a &
    writer $SIZE_B b &
    resetter &
    wait
    read rc < $R.rc
    [ "$rc" = 0 ] || resets_failed=$((resets_failed + 1))
    # The round raced when one writer was refused before the reset and
    # then won (the device was initialised when both started).
    won=0
    for w in a b; do
        read res n < $R.$w
        [ "$res" = ok ] && [ "$n" -gt 1 ] && won=$((won + 1))
    done
    [ $won = 1 ] && raced=$((raced + 1))
    if ! got=$(agree); then
        bad=$((bad + 1))
        [ $shown -lt 5 ] && note "round $r: $got (writers: $(cat $R.a), $(cat $R.b); reset status $rc)"
        shown=$((shown + 1))
    fi
    r=$((r + 1))
done
note "$ROUNDS rounds in $(secs_since $start) s: $raced won by one writer refused before the reset, $resets_failed resets failed"
expect_eq "resets refused (the device has no opener)" $resets_failed 0
expect_eq "rounds in which exactly one writer, refused before the reset, won behind it" $raced $ROUNDS
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
