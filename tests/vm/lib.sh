# The harness of the VM scripts (busybox sh): one PASS/FAIL line per case,
# then "NAME: N passed, N failed" from summary. Sourced, not run; it brings
# in the device helpers (lib_dev.sh) and the swap helpers (lib_swap.sh), so
# a script sources this file alone.
PASSED=0
FAILED=0

pass() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }
note() { echo "# $*"; }
skip() { echo "# skip $*"; }
summary() { echo "$TEST_NAME: $PASSED passed, $FAILED failed"; }

# fatal DESC: a FAIL line and the verdict, then the script ends. For what
# every later case depends on (a module that does not load, a device that
# does not exist or refuses its set-up): going on would test, or measure,
# nothing. Call it from the script's own shell, not from inside $(...),
# where exit would end only the subshell.
fatal() {
    fail "$* (fatal: the script stops here)"
    summary
    exit 1
}

# check DESC CMD...: the command must succeed.
check() {
    desc=$1; shift
    if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc: $(echo "$out" | tail -n 3)"; fi
}

# check_sh DESC SHELL-COMMAND: the shell command must succeed.
check_sh() {
    desc=$1; shift
    if out=$(sh -c "$*" 2>&1); then pass "$desc"; else fail "$desc: $(echo "$out" | tail -n 3)"; fi
}

# expect_eq DESC ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}

# expect_num DESC A OP B: numeric comparison (OP: -lt -le -eq -ne -ge -gt).
expect_num() {
    if [ -n "$2" ] && [ "$2" "$3" "$4" ] 2>/dev/null; then
        pass "$1 ($2 $3 $4)"
    else
        fail "$1: '$2' $3 '$4' does not hold"
    fi
}

# expect_err DESC ERRTEXT SHELL-COMMAND: the command must fail and its error
# message must contain ERRTEXT (how busybox shows the errno, e.g. "Invalid
# argument", "Device or resource busy", "Argument list too long",
# "No such device").
expect_err() {
    desc=$1; want=$2; shift 2
    if out=$(sh -c "$*" 2>&1); then
        fail "$desc: succeeded, expected '$want'"
    elif echo "$out" | grep -qi "$want"; then
        pass "$desc"
    else
        fail "$desc: '$out' does not say '$want'"
    fi
}

# listed FILE: the names in a "[current] other other" attribute, unbracketed.
listed() { sed 's/[][]//g' "$1"; }
# current FILE: the bracketed name.
current() { sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1"; }
# in_list WORD LIST...
in_list() { w=$1; shift; for x in "$@"; do [ "$x" = "$w" ] && return 0; done; return 1; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# md5_dev DEV SKIP_PAGES PAGES: md5 of PAGES pages from page SKIP_PAGES,
# read with O_DIRECT (4 KiB blocks: the device's logical block size).
md5_dev() { dd if="$1" bs=4096 skip="$2" count="$3" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
# md5_file FILE SKIP_PAGES PAGES: the same over a regular file.
md5_file() { dd if="$1" bs=4096 skip="$2" count="$3" 2>/dev/null | md5sum | cut -d' ' -f1; }

# mixed_file FILE TEXT OCTAL [TEXT_KIB RANDOM_KIB SAME_KIB]: test data in
# FILE: TEXT_KIB of TEXT lines (compressible), RANDOM_KIB random
# (incompressible: huge pages), SAME_KIB of the byte OCTAL (same-filled
# pages); by default 1, 2 and 1 MiB (1024 pages in all).
mixed_file() {
    {
        yes "$2" | head -c $((${4:-1024} * 1024))
        dd if=/dev/urandom bs=1k count=${5:-2048} 2>/dev/null
        head -c $((${6:-1024} * 1024)) /dev/zero | tr '\000' "\\$3"
    } > "$1"
}

# fio_verdict DESC JOBS RC OUTPUT: one case from a fio run: exit status RC
# 0, each of its JOBS jobs reporting "err= 0" and no verify complaint in
# OUTPUT; otherwise fio's error lines go to the log.
fio_verdict() {
    local ok
    ok=$(echo "$4" | grep -c '(groupid=.*err= 0:')
    if [ "$3" = 0 ] && [ "$ok" = "$2" ] && ! echo "$4" | grep -qiE 'verify failed|bad magic|bad pattern|bad header'; then
        pass "$1"
    else
        fail "$1: fio exit $3, $ok of $2 jobs without error"
        echo "$4" | grep -iE 'err=|verify|fio:' | head -n 8 | sed 's/^/# /'
    fi
}
# run_fio DESC JOBS FIO-ARG...: runs fio and gives its fio_verdict.
run_fio() {
    local desc=$1 jobs=$2 out rc
    shift 2
    out=$(fio "$@" 2>&1); rc=$?
    fio_verdict "$desc" "$jobs" $rc "$out"
}

# counts_ok DESC FILE: the verdict of a background loop that left "DONE
# FAILED" in FILE: it must have done something and nothing failed. A loop
# that runs beside a workload writes FILE after each round and is waited
# for (wait_until) before the workload starts, so "done" is at least 1
# however the scheduler runs it; 0 means the loop never completed a round.
counts_ok() {
    set -- "$1" $(cat "$2" 2>/dev/null)
    if [ "${2:-0}" -gt 0 ] && [ "${3:-1}" = 0 ]; then
        pass "$1 ($2 times, none failed)"
    else
        fail "$1: '${2:-?}' done, '${3:-?}' failed"
    fi
}

# uptime_cs: the time since boot in centiseconds, for durations.
uptime_cs() { awk '{split($1, a, "."); print a[1] * 100 + a[2]}' /proc/uptime; }
# secs_since CS: the seconds since uptime_cs said CS, as "S.CC".
secs_since() { d=$(($(uptime_cs) - $1)); echo "$((d / 100)).$(printf %02d $((d % 100)))"; }

# wait_until SECS SHELL-CONDITION: polls the condition every 0.1 s until
# it holds (returns 0) or SECS seconds have passed (returns 1). For a state
# another process reaches in its own time (a job opening the device, a
# background loop's first round): the bound is generous, since TCG on a
# loaded host can be many times slower, and the wait ends as soon as the
# state is there.
wait_until() {
    local end=$(($(uptime_cs) + $1 * 100))
    shift
    while ! eval "$*"; do
        [ "$(uptime_cs)" -lt $end ] || return 1
        usleep 100000
    done
}

# pcp_kib: free pages on the per-CPU lists, in KiB. MemFree (and with it
# MemAvailable) leaves them out, and what the lists hold changes by
# megabytes from one moment to the next (2 to 22 MiB in these guests), so a
# difference of MemFree between two moments is that noise plus what was
# really allocated.
pcp_kib() { awk '$1 == "count:" {n += $2} END {print n * 4}' /proc/zoneinfo; }
# free_kib: MemFree plus the per-CPU lists: every free page, in KiB.
free_kib() { awk -v p="$(pcp_kib)" '/^MemFree:/ {print $2 + p}' /proc/meminfo; }

# oom_mark; no_oom DESC: no OOM kill in the kernel log since the last
# oom_mark (since boot without one), so one case's kill is not blamed on
# the next.
oom_count() { dmesg | grep -ciE 'invoked oom-killer'; }
OOM_BASE=0
# oom_report: the last OOM report's summary: the LRU sizes, swap left and
# the victim, so a kill says whether swap was full or reclaim found nothing
# to swap.
oom_report() {
    dmesg | awk '/invoked oom-killer/ {n = 0; delete l} {l[++n] = $0}
        END {for (i = 1; i <= n; i++) if (l[i] ~ /active_anon:|Free swap|Total swap|Killed process/) print l[i]}' |
        sed 's/^\[ *[0-9.]*\] //'
}
oom_mark() { OOM_BASE=$(oom_count); }
no_oom() {
    if [ "$(oom_count)" -gt "$OOM_BASE" ]; then
        fail "$1: $(dmesg | grep -iE 'invoked oom-killer' | tail -n 1)"
        oom_report | sed "s/^/# $1: OOM report: /"
    else
        pass "$1"
    fi
}

. /tests/lib_dev.sh
. /tests/lib_swap.sh
