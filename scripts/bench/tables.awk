# The tables of `make bench` (scripts/bench.sh), in markdown, from the raw
# BENCH, BENCHMM and BENCHSWAP lines of tests/bench/bench_fio.sh on stdin.
#
# The zram column is the median of every zram run (zram/<allocator> lines:
# zram measured next to that allocator); an rzram cell is the median of its
# rounds, and its ×zram the median over rounds of rzram / the zram run next
# to it (for swap: zram's time / rzram's, same round), so above 1 means
# rzram is faster everywhere; in brackets the lowest and highest round.
# The last column, zram A/A, is zram against itself (see aa() below): how
# far apart two runs of the same driver land, the noise floor of the
# ×zram columns. One rzram column pair per allocator the guest measured.
function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return ""
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt2(v) { return v == "-" ? v : sprintf("%.2f (%.2f–%.2f)", v, rmin, rmax) }
function num(v) { return sprintf(v >= 100 ? "%.0f" : "%.1f", v) }
function add(key, v) { vals[key] = vals[key] " " v }
# dev "zram/X" feeds the zram column and pairs with rzram-X. The
# allocators X, in the order they first appear, go to xs[1..nx].
function put(dev, key, round, v) {
    if (dev ~ /^zram\//) { add("zram" SUBSEP key, v); one["zram-" substr(dev, 6) SUBSEP key SUBSEP round] = v }
    else { add(dev SUBSEP key, v); one[dev SUBSEP key SUBSEP round] = v }
    if (dev ~ /^rzram-/ && !(substr(dev, 7) in seen)) { seen[substr(dev, 7)] = 1; xs[++nx] = substr(dev, 7) }
    if (round > maxr) maxr = round
}
# keep(A, B, inv): adds A / B (B / A if inv) to the ratios collected in
# qs, widening their spread in rmin and rmax; a missing or zero figure
# adds nothing. qs_median() is their median, or "-".
function keep(a, b, inv,   q) {
    if (a > 0 && b > 0) {
        q = inv ? b / a : a / b
        if (qs == "" || q < rmin) rmin = q
        if (qs == "" || q > rmax) rmax = q
        qs = qs " " q
    }
}
function qs_median() { return qs == "" ? "-" : median(qs) }
# ratio(X, key, inv): median over rounds of rzram-X / its zram (inverted for times).
# The spread of the per-round ratios is left in rmin and rmax.
function ratio(x, key, inv,   r, z) {
    qs = ""
    for (r = 1; r <= maxr; r++) {
        z = one["zram-" x SUBSEP key SUBSEP r]; if (z == "") z = one["zram" SUBSEP key SUBSEP r]
        keep(one["rzram-" x SUBSEP key SUBSEP r], z, inv)
    }
    return qs_median()
}
# aa(key, inv): the noise floor. In each round zram runs once next to each
# allocator; the zram runs next to the other allocators over the one next
# to the first (zsmalloc) are zram against itself (A/A), minutes apart.
# Median and spread (rmin, rmax) of those ratios over all rounds.
function aa(key, inv,   r, x) {
    qs = ""
    for (r = 1; r <= maxr; r++)
        for (x = 2; x <= nx; x++)
            keep(one["zram-" xs[x] SUBSEP key SUBSEP r], one["zram-" xs[1] SUBSEP key SUBSEP r], inv)
    return qs_median()
}
$1 == "BENCH" {
    job = $4
    if (job ~ /^seq/) v = (job == "seqread" ? $6 : $8) / 1024        # MiB/s
    else if (job == "randread") v = $7
    else if (job == "randwrite") v = $9
    else v = $7 + $9                                                  # mixed: read + write IOPS
    put($2, $3 SUBSEP job, $5, v)
}
$1 == "BENCHMM" { put($2, $3 SUBSEP "orig", $4, $5); put($2, $3 SUBSEP "compr", $4, $6); put($2, $3 SUBSEP "mem", $4, $7) }
$1 == "BENCHSWAP" { put($2, "swap", $3, $4) }
END {
    nkind = split("c50 real", kinds, " ")
    kname["c50"] = "fio 50% compressible"; kname["real"] = "real files"; kname["empty"] = "never written (bio path only)"
    njob = split("randwrite randread seqwrite seqread mixed", jobs, " ")
    nrow = 0
    for (k = 1; k <= nkind; k++) for (j = 1; j <= njob; j++) { nrow++; rk[nrow] = kinds[k]; rj[nrow] = jobs[j] }
    nrow++; rk[nrow] = "empty"; rj[nrow] = "randread"
    jname["randwrite"] = "4 KiB randwrite, IOPS"; jname["randread"] = "4 KiB randread, IOPS"
    jname["seqwrite"] = "128 KiB seq write, MiB/s"; jname["seqread"] = "128 KiB seq read, MiB/s"
    jname["mixed"] = "4 KiB 70/30 randrw x4 jobs, IOPS"
    hdr = "| job | data | zram"; sep = "|---|---|---:"
    for (x = 1; x <= nx; x++) { hdr = hdr " | rzram " xs[x] " | ×zram"; sep = sep "|---:|---:" }
    hdr = hdr " | zram A/A"; sep = sep "|---:"
    print hdr " |"; print sep "|"
    for (r = 1; r <= nrow; r++) {
        key = rk[r] SUBSEP rj[r]
        line = "| " jname[rj[r]] " | " kname[rk[r]] " | " num(median(vals["zram" SUBSEP key]))
        for (x = 1; x <= nx; x++) line = line " | " num(median(vals["rzram-" xs[x] SUBSEP key])) " | " fmt2(ratio(xs[x], key, 0))
        print line " | " fmt2(aa(key, 0)) " |"
    }
    line = "| swap: memhog run time, s (×zram = zram time / rzram time) | memhog pattern | " median(vals["zram" SUBSEP "swap"])
    for (x = 1; x <= nx; x++) line = line " | " median(vals["rzram-" xs[x] SUBSEP "swap"]) " | " fmt2(ratio(xs[x], "swap", 1))
    print line " | " fmt2(aa("swap", 1)) " |"
    print ""
    print "Memory after filling the 256 MiB device (medians; ×zram for mem_used_total):"
    print ""
    hdr = "| data | zram ratio | zram mem_used_total MiB"; sep = "|---|---:|---:"
    for (x = 1; x <= nx; x++) { hdr = hdr " | rzram " xs[x] " ratio | mem_used_total MiB | ×zram"; sep = sep "|---:|---:|---:" }
    print hdr " |"; print sep "|"
    for (k = 1; k <= nkind; k++) {
        kk = kinds[k]
        o = median(vals["zram" SUBSEP kk SUBSEP "orig"]); c = median(vals["zram" SUBSEP kk SUBSEP "compr"])
        line = "| " kname[kk] " | " (c > 0 ? sprintf("%.2f", o / c) : "-") " | " sprintf("%.1f", median(vals["zram" SUBSEP kk SUBSEP "mem"]) / 1048576)
        for (x = 1; x <= nx; x++) {
            d = "rzram-" xs[x]
            o = median(vals[d SUBSEP kk SUBSEP "orig"]); c = median(vals[d SUBSEP kk SUBSEP "compr"])
            line = line " | " (c > 0 ? sprintf("%.2f", o / c) : "-") " | " sprintf("%.1f", median(vals[d SUBSEP kk SUBSEP "mem"]) / 1048576)
            m = ratio(xs[x], kk SUBSEP "mem", 0)
            line = line " | " (m == "-" ? "-" : sprintf("%.3f", m))
        }
        print line " |"
    }
}