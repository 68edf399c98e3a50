# Helpers for the VM test scripts (busybox sh): one PASS/FAIL line per case,
# then "NAME: N passed, N failed" from summary. Sourced, not run.
PASSED=0
FAILED=0
SYS=/sys/block/rzram0

pass() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }
note() { echo "# $*"; }

# check DESC CMD...: the command must succeed.
check() {
    desc=$1; shift
    if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc: $(echo "$out" | tail -n 3)"; fi
}

# expect_eq DESC ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}

# expect_err DESC ERRTEXT SHELL-COMMAND: the command must fail and its error
# message must contain ERRTEXT (how busybox shows the errno).
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

# mm_stat_col N: column N (1-based) of rzram0's mm_stat.
mm_stat_col() { awk -v c="$1" '{print $c}' $SYS/mm_stat; }

summary() { echo "$TEST_NAME: $PASSED passed, $FAILED failed"; }
