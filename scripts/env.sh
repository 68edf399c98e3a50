# Shared paths for every rzram script. Source it; it changes nothing on disk.
# The cache lives outside the checkout so a fresh clone (CI) reuses it.
RZ_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RZ_CACHE=${RZRAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rzram}
RZ_TOOLS=$RZ_CACHE/tools            # bindgen built from crates.io
RZ_BINDGEN=$RZ_TOOLS/bin/bindgen
RZ_SRCDIR=$RZ_CACHE/src             # unpacked kernel sources, one dir per version
# Debian's rustc-web (with rust-src) builds kernel Rust; rustup's toolchain stays for host crates.
RZ_KRUSTC=/usr/bin/rustc
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
# Debian's own kernel (RZ_FLAVOR=stock): trixie-backports' 7.3.4 image, whose
# Rust symbols only match code built by the rustc Debian built it with.
RZ_STOCK_KREL=7.3.4+deb13-amd64
# Kernel flavor: base (gcc) or debug (KASAN needs clang; see kconfig/debug.config)
# are the project's test kernels; stock is Debian's, built for with trixie's
# toolchain (scripts/trixie.sh) against a prepared tree (scripts/prepare-stock.sh).
RZ_FLAVOR=${RZ_FLAVOR:-base}
case $RZ_FLAVOR in
    base) RZ_KMAKE_CC=() ;;
    debug) RZ_KMAKE_CC=(LLVM=-22); export LIBCLANG_PATH=/usr/lib/llvm-22/lib ;;
    # Debian's compilers: its .config records gcc-14 and this rustc.
    stock) RZ_KMAKE_CC=(CC=x86_64-linux-gnu-gcc-14 HOSTCC=gcc-14 KERNELRELEASE=$RZ_STOCK_KREL) ;;
    *) echo "unknown RZ_FLAVOR '$RZ_FLAVOR' (stock, base or debug)" >&2; exit 1 ;;
esac
# Every make against the kernel tree: same compilers as the kernel build.
rz_kmake() {
    if [ "$RZ_FLAVOR" = stock ]; then
        "$RZ_TOP/scripts/trixie.sh" run make RUSTC=rustc BINDGEN=bindgen RUSTDOC=rustdoc "${RZ_KMAKE_CC[@]}" "$@"
    else
        make RUSTC=$RZ_KRUSTC BINDGEN="$RZ_BINDGEN" RUSTDOC=/usr/bin/rustdoc ${RZ_KMAKE_CC[@]+"${RZ_KMAKE_CC[@]}"} "$@"
    fi
}
# The private apt configuration (the system's sources are never touched):
# trixie-backports for the kernel packages, trixie for the rest.
RZ_APT=$RZ_CACHE/apt
rz_apt() {
    mkdir -p "$RZ_APT/lists/partial" "$RZ_APT/archives/partial"
    printf '%s\n' "deb http://deb.debian.org/debian trixie-backports main" \
        "deb http://deb.debian.org/debian trixie main" > "$RZ_APT/sources.list"
    apt-get -o Dir::Etc::SourceList="$RZ_APT/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$RZ_APT/lists" -o Dir::Cache::archives="$RZ_APT/archives" \
        -o Debug::NoLocking=1 -o APT::Sandbox::User=root -q "$@"
}
# The bootable image of a kernel directory from build-kernel.sh: the built
# bzImage, or Debian's vmlinuz next to the prepared stock tree.
rz_kimage() {
    if [ -f "$1/arch/x86/boot/bzImage" ]; then echo "$1/arch/x86/boot/bzImage"; else echo "$1/vmlinuz"; fi
}
# rz_tree_or_lock TREE SAYING: a kernel tree already built is printed (and
# SAYING logged once per run: nested scripts inherit RZ_KERNEL_SAID) and the
# script ends there. Otherwise it returns holding the machine's
# one-kernel-tree-build-at-a-time lock, the tree still unbuilt.
rz_tree_or_lock() {
    if [ -f "$1/.rzram-built" ]; then
        [ "${RZ_KERNEL_SAID:-}" = "$1" ] || rz_log "$2"
        echo "$1"; exit 0
    fi
    exec 9>"$RZ_CACHE/kbuild.lock"
    flock 9
    if [ -f "$1/.rzram-built" ]; then echo "$1"; exit 0; fi
}
# rz_watch LOG CMD...: runs a kernel-tree make with its output in LOG and a
# progress line every 30 s; on failure shows the log's end. CMD's status.
rz_watch() {
    local log=$1 start=$SECONDS pid; shift
    "$@" > "$log" 2>&1 &
    pid=$!
    while kill -0 $pid 2>/dev/null; do
        for _ in $(seq 30); do kill -0 $pid 2>/dev/null && sleep 1; done
        kill -0 $pid 2>/dev/null && rz_log "  $((SECONDS - start)) s: $(grep -c '^  [A-Z]' "$log") steps, at $(tail -n1 "$log" | awk '{print $NF}')"
    done
    wait $pid || { tail -n 40 "$log" >&2; return 1; }
}
rz_log() { printf '[rzram %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
rz_die() { rz_log "ERROR: $*"; exit 1; }

# A benchmark's circumstances, for its report. rz_bench_begin sets
# bench_started (UTC), bench_t0 (SECONDS) and load_start (the host's load
# average over 1/5/15 min). rz_bench_meta LOG, after the VM run: for a
# fresh run (RZ_BENCH_LOG unset) sets vm_secs and load_vm and keeps all
# four next to LOG (LOG.meta); for tables re-made from an old LOG, reads
# them back from there, so the report still says when and under what load
# that VM ran.
rz_load() { cut -d' ' -f1-3 /proc/loadavg; }
rz_bench_begin() {
    load_start=$(rz_load)
    bench_started=$(date -u '+%Y-%m-%d %H:%M UTC')
    bench_t0=$SECONDS
}
rz_bench_meta() {
    local meta=${1%.log}.meta
    if [ -z "${RZ_BENCH_LOG:-}" ]; then
        vm_secs=$((SECONDS - bench_t0))
        load_vm=$(rz_load)
        printf 'bench_started=%q\nvm_secs=%q\nload_start=%q\nload_vm=%q\n' \
            "$bench_started" "$vm_secs" "$load_start" "$load_vm" > "$meta"
    else
        # Not this run's: what the meta file says, or "unknown".
        bench_started= vm_secs= load_start= load_vm=
        # shellcheck disable=SC1090
        [ ! -f "$meta" ] || . "$meta"
        # Meta files written before the rename of started.
        bench_started=${bench_started:-${started:-unknown}}
        load_start=${load_start:-unknown}
    fi
    vm_secs=${vm_secs:-unknown}
    load_vm=${load_vm:-unknown}
}

# rz_doc_section NAME TEXT: TEXT replaces what stands between the lines
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" of docs/benchmarks.md (the
# benchmarks' generated tables). Fatal if the markers are missing.
rz_doc_section() {
    local doc=$RZ_TOP/docs/benchmarks.md tmp
    grep -q "^<!-- $1:begin -->\$" "$doc" && grep -q "^<!-- $1:end -->\$" "$doc" ||
        rz_die "$doc lacks the $1:begin/$1:end markers"
    tmp=$(mktemp)
    {
        sed "/^<!-- $1:begin -->\$/q" "$doc"
        echo "$2"
        sed -n "/^<!-- $1:end -->\$/,\$p" "$doc"
    } > "$tmp" && mv "$tmp" "$doc"
}
