#!/usr/bin/env bash
# The Debian trixie build environment for Debian's stock kernel: the exact
# rustc Debian built linux-image-7.3.4+deb13-amd64 with (a Rust symbol's
# crate hash depends on rustc's full version string, so no other rustc gives
# matching symbols), its rust-src, bindgen, gcc-14 and libclang 19.
#
#   trixie.sh              make sure the environment exists; print its root
#   trixie.sh run CMD...   run CMD in it, in the current directory
#   trixie.sh packages     the packages it holds (what a trixie host installs)
#
# On a trixie host with these packages installed, the host itself is the
# environment (root "/"), and `run` runs CMD directly. Elsewhere (the
# project's bookworm machines) it is a debootstrap'ed chroot under the cache,
# keyed by the package list below; `run` enters it in a private mount
# namespace with /proc, /dev, the cache and the checkout bind-mounted at
# their own paths, so every path means the same inside and out and nothing
# stays mounted afterwards.
set -euo pipefail
. "$(dirname "$0")/env.sh"

# Debian's kernel records this compiler in CONFIG_RUSTC_VERSION_TEXT.
RUSTC_TEXT="rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
RUST_DEB=1.85.1+dfsg1-1+deb13u1
# openssl: Kconfig asks it whether ML-DSA module signing is possible.
PKGS=(rustc=$RUST_DEB rust-src=$RUST_DEB bindgen gcc-14 make flex bison bc libelf-dev
      libssl-dev openssl libclang-19-dev clang-19 pahole python3 cpio kmod xz-utils)
MIRROR=http://deb.debian.org/debian

host_is_trixie() {
    grep -qx 'VERSION_CODENAME=trixie' /etc/os-release 2>/dev/null &&
        [ "$(rustc --version 2>/dev/null)" = "$RUSTC_TEXT" ] && command -v bindgen >/dev/null &&
        command -v x86_64-linux-gnu-gcc-14 >/dev/null
}

key=$(printf '%s\n' "${PKGS[@]}" "$MIRROR" | sha256sum | cut -c1-12)
root=$RZ_CACHE/trixie-$key

ensure() {
    if host_is_trixie; then echo /; return; fi
    [ -f "$root/.rzram-ready" ] && { echo "$root"; return; }
    command -v debootstrap >/dev/null || rz_die "debootstrap missing (RZ_FLAVOR=stock scripts/install-toolchain.sh installs it)"
    mkdir -p "$RZ_CACHE"
    exec 9>"$RZ_CACHE/trixie.lock"
    flock 9
    [ -f "$root/.rzram-ready" ] && { echo "$root"; return; }
    local tmp=$root.tmp log=$root.log start=$SECONDS
    rm -rf "$tmp"
    rz_log "trixie build environment: debootstrap into ${tmp#"$RZ_CACHE"/} (about 1 minute; log ${log#"$RZ_CACHE"/})"
    debootstrap --variant=minbase trixie "$tmp" "$MIRROR" > "$log" 2>&1 ||
        { tail -n 20 "$log" >&2; rz_die "debootstrap failed"; }
    rz_log "  $((SECONDS - start)) s: base system ready; installing rustc $RUST_DEB, bindgen, gcc-14, clang-19 (about 1-2 minutes)"
    in_root "$tmp" / sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
        sh "${PKGS[@]}" >> "$log" 2>&1 || { tail -n 20 "$log" >&2; rz_die "apt-get install in the trixie chroot failed"; }
    local got
    got=$(in_root "$tmp" / rustc --version)
    [ "$got" = "$RUSTC_TEXT" ] || rz_die "trixie chroot has '$got', Debian's kernel needs '$RUSTC_TEXT'"
    touch "$tmp/.rzram-ready"
    mv "$tmp" "$root"
    rz_log "trixie build environment ready in $((SECONDS - start)) s: $got, $(in_root "$root" / bindgen --version)"
    echo "$root"
}

# in_root ROOT CWD CMD...: CMD inside ROOT, in a mount namespace of its own.
in_root() {
    local r=$1 cwd=$2; shift 2
    unshare --mount --propagation private -- bash -c '
        set -e; r=$1 cwd=$2; shift 2
        mount -t proc proc "$r/proc"
        mount --rbind /dev "$r/dev"
        for p in "$RZ_CACHE" "$RZ_TOP"; do mkdir -p "$r$p"; mount --bind "$p" "$r$p"; done
        exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
            LIBCLANG_PATH=/usr/lib/llvm-19/lib sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"' \
        bash "$r" "$cwd" "$@"
}
export RZ_CACHE RZ_TOP

case ${1:-} in
    '') ensure ;;
    packages) printf '%s\n' "${PKGS[@]}" ;;
    run)
        shift
        r=$(ensure)
        if [ "$r" = / ]; then exec "$@"; fi
        # Inside, only the cache and the checkout exist: run from the
        # checkout unless the current directory is in one of them.
        cwd=$PWD
        case $cwd/ in "$RZ_CACHE"/*|"$RZ_TOP"/*) ;; *) cwd=$RZ_TOP ;; esac
        in_root "$r" "$cwd" "$@" ;;
    *) rz_die "usage: trixie.sh [run CMD...]" ;;
esac
