# Recompression, zram 7.3's contract (CONFIG_ZRAM_MULTI_COMP): lz4 as the
# primary codec, secondary ones in recomp_algorithm; recompress by type,
# threshold, max_pages, priority and algo; compr_data_size shrinks, the
# pages are flagged r (or n when the last algorithm could not shrink them)
# and read back; algorithm_params per priority; recompressed pages written
# back (compressed_writeback on: decompressed with their own codec) and
# incompressible writeback. For each allocator under rzram, one pass under
# C zram; skipped under a C zram built without CONFIG_ZRAM_MULTI_COMP
# (Debian's kernel: no recomp_algorithm file).
. /tests/lib.sh
. /tests/lib_wb.sh

load
if ! has_recomp; then
    if is_rzram; then fatal "$SYS has no recomp_algorithm"; fi
    skip "recompression: $DRV has no recomp_algorithm (CONFIG_ZRAM_MULTI_COMP off)"
    summary
    exit 0
fi
wb_disk
wb_mix
in_list lz4 $CODECS && in_list zstd $CODECS || fatal "lz4 and zstd needed, codecs: $CODECS"
# The binary part (192..255) compresses about 2:1 with lz4 and better with
# zstd; the text part to a few dozen bytes; the random part not at all.
BIN_LO=192
BIN_HI=255

# setup TAG CASE [PRIO1 [PRIO2]]: lz4 primary, PRIO1 at priority 1 and
# PRIO2 at priority 2, the mix written.
setup() {
    local t=$1 c=$2
    shift
    expect_eq "$t: recomp_algorithm lists nothing before it is set" "$(cat $SYS/recomp_algorithm)" ""
    [ -z "$2" ] || expect_write "$t: recomp_algorithm algo=$2 priority=1" ok $SYS/recomp_algorithm "algo=$2 priority=1"
    [ -z "$3" ] || expect_write "$t: recomp_algorithm algo=$3 priority=2" ok $SYS/recomp_algorithm "algo=$3 priority=2"
    wb_init $SYS 4M "$c"
    cp /tmp/wbmix /tmp/wbwant
    wb_write "$t"
}
# tried_outside LIST: the pages flagged r or n that are not in LIST (page
# indexes): recompression touched a page it should not have.
tried_outside() { awk -v l=" $1 " '$3 ~ /r|n/ && !index(l, " " $1 " ") {n++} END {print n + 0}' $BS; }
finish() {
    wb_verify "$1"
    expect_eq "$1: no failed reads or writes" "$(io_stat_col 1) $(io_stat_col 2)" "0 0"
    check_sh "$1: reset" "echo 1 > $SYS/reset"
    expect_eq "$1: reset clears recomp_algorithm (as 7.3)" "$(cat $SYS/recomp_algorithm)" ""
}

one_case() {
    local t=$1 c0 c1 r
    # The listing: "#N: " and the codec list with the chosen one bracketed.
    setup "$t" "$t" lz4 zstd
    expect_eq "$t: recomp_algorithm has a line per priority" "$(sed 's/ .*//' $SYS/recomp_algorithm | tr '\n' ' ')" "#1: #2: "
    expect_eq "$t: #1 brackets lz4" "$(sed -n 's/^#1: .*\[\([^]]*\)\].*/\1/p' $SYS/recomp_algorithm)" lz4
    expect_eq "$t: #2 brackets zstd" "$(sed -n 's/^#2: .*\[\([^]]*\)\].*/\1/p' $SYS/recomp_algorithm)" zstd
    expect_eq "$t: #2 lists the codecs of comp_algorithm" "$(sed -n 's/^#2: //p' $SYS/recomp_algorithm | tr -d '[]')" "$(listed $SYS/comp_algorithm)"
    expect_write "$t: recomp_algorithm after init is refused" "busy" $SYS/recomp_algorithm "algo=zstd priority=3"

    c0=$(mm_stat_col 2)
    expect_write "$t: recompress type=idle with nothing idle" ok $SYS/recompress "type=idle priority=2"
    expect_eq "$t: ... changes nothing" "$(mm_stat_col 2) $(bs_count r) $(bs_count n)" "$c0 0 0"
    expect_write "$t: idle all" ok $SYS/idle all
    # Priority 1 is lz4 again: nothing gets smaller, nothing is flagged
    # (lz4 is not the last algorithm, so no page is marked n either).
    expect_write "$t: recompress type=idle priority=1 (lz4)" ok $SYS/recompress "type=idle priority=1"
    expect_eq "$t: lz4 over lz4 shrinks nothing, flags nothing" "$(mm_stat_col 2) $(bs_count r) $(bs_count n)" "$c0 0 0"
    expect_eq "$t: recompression clears the idle mark of the pages it tried" "$(bs_count i)" 0
    # Priority 2 (zstd), threshold 3000: 7.3 tries the pages stored in 3000
    # bytes or more (the random ones, about half the binary ones: lz4 gives
    # them 1700 to 3600 bytes) and keeps a result only below 3000 bytes.
    expect_write "$t: idle all" ok $SYS/idle all
    expect_write "$t: recompress type=idle threshold=3000 priority=2 (zstd)" ok $SYS/recompress "type=idle threshold=3000 priority=2"
    c1=$(mm_stat_col 2)
    expect_num "$t: zstd shrinks compr_data_size" "$c1" -lt "$c0"
    r=$(bs_count r $BIN_LO $BIN_HI)
    expect_num "$t: binary pages are flagged r" "$r" -ge 12
    expect_num "$t: ... not those below the threshold" "$r" -le 48
    expect_eq "$t: text pages (below the threshold) are not recompressed" "$(bs_count r 0 63)" 0
    expect_eq "$t: random pages: zstd, the last algorithm, could not shrink them: n" "$(bs_count n $WB_HUGE_LO $WB_HUGE_HI)" 64
    expect_eq "$t: ... and they stay huge" "$(bs_count h $WB_HUGE_LO $WB_HUGE_HI)" 64
    expect_eq "$t: no page is both r and n" "$(bs_match 'rn')" 0
    expect_eq "$t: O_DIRECT read back after recompression" "$(md5_dev $DEV 0 $WB_PAGES)" "$(md5_file /tmp/wbwant 0 $WB_PAGES)"
    # The text pages now, by algo= (priority looked up by name).
    expect_write "$t: recompress algo=zstd (all pages)" ok $SYS/recompress "algo=zstd"
    expect_num "$t: text pages recompressed with zstd (r)" "$(bs_count r 0 63)" -ge 1
    expect_eq "$t: n pages are not tried again" "$(bs_count n $WB_HUGE_LO $WB_HUGE_HI) $(bs_count r $WB_HUGE_LO $WB_HUGE_HI)" "64 0"

    # Overwriting a recompressed page drops its r.
    p=$(awk -v lo=$BIN_LO '$1 >= lo && index($3, "r") {print $1; exit}' $BS)
    dd if=/tmp/wbmix of=$DEV bs=4096 skip=${p:-0} seek=${p:-0} count=1 oflag=direct conv=notrunc 2>/dev/null
    expect_eq "$t: an overwritten recompressed page loses r" "$(bs_flags ${p:-none} | cut -c5)" "."

    # Recompressed pages written back, compressed: read back through their
    # own codec; then the n pages by incompressible writeback.
    expect_write "$t: idle all" ok $SYS/idle all
    expect_write "$t: writeback idle" ok $SYS/writeback idle
    expect_num "$t: recompressed pages are written back (w and r)" "$(bs_match '^.w..r')" -ge 30
    expect_eq "$t: O_DIRECT read back of written-back recompressed pages" "$(md5_dev $DEV 0 $WB_PAGES)" "$(md5_file /tmp/wbwant 0 $WB_PAGES)"
    finish "$t"

    # type=huge, max_pages, incompressible writeback, compressed writeback.
    expect_write "$t: compressed_writeback 1" ok $SYS/compressed_writeback 1
    setup "$t huge" "$t" zstd
    huge=$(awk 'index($3, "h") {print $1}' $BS | tr '\n' ' ')
    expect_write "$t huge: recompress type=huge max_pages=10" ok $SYS/recompress "type=huge max_pages=10"
    expect_eq "$t huge: max_pages=10 tries exactly 10 pages" "$(($(bs_count r) + $(bs_count n)))" 10
    expect_eq "$t huge: type=huge tries only huge pages" "$(tried_outside "$huge")" 0
    expect_write "$t huge: recompress type=huge_idle (nothing idle)" ok $SYS/recompress "type=huge_idle"
    expect_eq "$t huge: ... tries nothing" "$(bs_count n)" 10
    expect_write "$t huge: idle all" ok $SYS/idle all
    expect_write "$t huge: recompress type=huge_idle" ok $SYS/recompress "type=huge_idle"
    nn=$(bs_count n)
    expect_num "$t huge: every huge page is n now" "$nn" -ge 64
    expect_eq "$t huge: n pages are huge ones" "$(bs_match '^..h..n')" "$nn"
    expect_eq "$t huge: type=huge_idle leaves the other pages alone" "$(tried_outside "$huge")" 0
    expect_write "$t huge: writeback incompressible" ok $SYS/writeback incompressible
    expect_eq "$t huge: incompressible writes exactly the n pages" "$(bd_col 1) $(bs_match '^.w...n')" "$nn $nn"
    expect_write "$t huge: recompress all with zstd" ok $SYS/recompress "priority=1"
    expect_num "$t huge: binary pages recompressed" "$(bs_count r $BIN_LO $BIN_HI)" -ge 32
    expect_write "$t huge: idle all" ok $SYS/idle all
    expect_write "$t huge: writeback idle (compressed, recompressed pages)" ok $SYS/writeback idle
    expect_num "$t huge: recompressed pages written back compressed" "$(bs_match '^.w..r')" -ge 32
    finish "$t huge"
    expect_write "$t huge: compressed_writeback 0" ok $SYS/compressed_writeback 0
}

if is_rzram; then cases -r lz4; else cases lz4; fi
# The debug kernel's smoke run takes the first (the default allocator): a
# case costs some 20 s there, and the recompression paths above the
# allocator are the same for every one of them.
if [ "$SMOKE" = 1 ] && debug_kernel; then set -- $CASES; CASES=" $1"; fi
note "cases:$CASES"
for c in $CASES; do one_case "$c"; done

note "--- algorithm_params per priority"
# zstd at priority 1 with level 1, then level 19: the second shrinks the
# binary pages more, so the level reached that priority's codec.
for lvl in 1 19; do
    t="params level $lvl"
    expect_write "$t: recomp_algorithm algo=zstd priority=1" ok $SYS/recomp_algorithm "algo=zstd priority=1"
    expect_write "$t: algorithm_params priority=1 level=$lvl" ok $SYS/algorithm_params "priority=1 level=$lvl"
    wb_init $SYS 4M "$DEF_ALLOC/lz4"
    cp /tmp/wbmix /tmp/wbwant
    # Only the binary pages.
    check "$t: write the binary pages" dd if=/tmp/wbmix of=$DEV bs=4096 skip=$BIN_LO seek=$BIN_LO count=64 oflag=direct
    dd if=/dev/zero of=/tmp/wbwant bs=4096 count=$BIN_LO conv=notrunc 2>/dev/null
    expect_write "$t: recompress priority=1" ok $SYS/recompress priority=1
    eval "size_$lvl=$(mm_stat_col 2)"
    note "$t: compr_data_size $(mm_stat_col 2), $(bs_count r) pages recompressed"
    finish "$t"
done
expect_num "level 19 at priority 1 compresses smaller than level 1" "$size_19" -lt "$size_1"
expect_write "algorithm_params algo=zstd priority=1 needs zstd at priority 1" "Invalid argument" $SYS/algorithm_params "algo=zstd priority=1 level=3"
expect_write "recomp_algorithm algo=zstd priority=1" ok $SYS/recomp_algorithm "algo=zstd priority=1"
expect_write "algorithm_params algo=zstd priority=1 level=3" ok $SYS/algorithm_params "algo=zstd priority=1 level=3"
expect_write "algorithm_params algo=zstd level=3 (priority looked up)" ok $SYS/algorithm_params "algo=zstd level=3"
check_sh "reset" "echo 1 > $SYS/reset"
check "rmmod $DRV" unload
summary
