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
# Kernel flavor: base (gcc) or debug (KASAN needs clang; see kconfig/debug.config).
RZ_FLAVOR=${RZ_FLAVOR:-base}
case $RZ_FLAVOR in
    base) RZ_KMAKE_CC=() ;;
    debug) RZ_KMAKE_CC=(LLVM=-22); export LIBCLANG_PATH=/usr/lib/llvm-22/lib ;;
    *) echo "unknown RZ_FLAVOR '$RZ_FLAVOR' (base or debug)" >&2; exit 1 ;;
esac
# Every make against the kernel tree: same compilers as the kernel build.
rz_kmake() { make RUSTC=$RZ_KRUSTC BINDGEN="$RZ_BINDGEN" RUSTDOC=/usr/bin/rustdoc ${RZ_KMAKE_CC[@]+"${RZ_KMAKE_CC[@]}"} "$@"; }
rz_log() { printf '[rzram %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
rz_die() { rz_log "ERROR: $*"; exit 1; }
