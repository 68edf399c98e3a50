# ext4 on $DRV: mkfs, mount, copy a tree of files (the guest's binaries,
# libraries and modules), sync, drop caches, compare checksums, remount and
# compare again, delete and fstrim, e2fsck clean. Once per allocator, the
# codecs lz4, zstd and lzo-rle in turn.
. /tests/lib.sh

load
mkdir -p /mnt/fs
# The tree: /bin /lib/modules /lib64 /usr/sbin (about 9 MiB; not the
# shared libraries the guest carries for fio, which would outgrow 64M), plus
# gen/: 240 small files of 0.5..32 KiB in 12 directories, cut from text and
# random data, for metadata and partial blocks.
{ yes "ext4 tree text line" | head -c 1048576; dd if=/dev/urandom bs=64k count=16 2>/dev/null; } > /tmp/src
i=0
while [ $i -lt 240 ]; do
    d=/gen/d$((i % 12)); mkdir -p $d
    dd if=/tmp/src of=$d/f$i bs=512 skip=$(((i * 37) % 4000)) count=$((1 + (i * 13) % 64)) 2>/dev/null
    i=$((i + 1))
done
rm -f /tmp/src
TREE="bin lib/modules lib64 usr/sbin gen"
(cd / && find $TREE -type f | sort | xargs md5sum) > /tmp/sums.src
files=$(wc -l < /tmp/sums.src)
note "tree: $files files, $(cd / && du -sk $TREE | awk '{s += $1} END {print s}') KiB"

# round CASE
round() {
    tag=$1
    dev_init $SYS 64M "$tag"
    check "$tag: mkfs.ext4" mkfs.ext4 -q -F $DEV
    check "$tag: mount" mount -t ext4 $DEV /mnt/fs
    check_sh "$tag: copy the tree" "mkdir -p /mnt/fs/lib /mnt/fs/usr && cd / &&
        cp -a bin lib64 gen /mnt/fs/ && cp -a lib/modules /mnt/fs/lib/ && cp -a usr/sbin /mnt/fs/usr/"
    check "$tag: sync" sync
    drop_caches
    sums=$(cd /mnt/fs && md5sum -c /tmp/sums.src 2>&1 | grep -v ': OK$' | head -n 3)
    expect_eq "$tag: all $files files match after drop_caches" "$sums" ""
    used=$(mm_stat_col 1)
    expect_num "$tag: orig_data_size holds the tree" "$used" -gt 8000000
    note "$tag: mm_stat $(cat $SYS/mm_stat)"
    check "$tag: umount" umount /mnt/fs
    check "$tag: e2fsck -fn clean" e2fsck -fn $DEV
    check "$tag: mount again" mount -t ext4 $DEV /mnt/fs
    sums=$(cd /mnt/fs && md5sum -c /tmp/sums.src 2>&1 | grep -v ': OK$' | head -n 3)
    expect_eq "$tag: all files match after remount" "$sums" ""
    check_sh "$tag: delete lib and usr" "rm -rf /mnt/fs/lib /mnt/fs/usr && sync"
    before=$(mm_stat_col 1)
    check "$tag: fstrim" fstrim /mnt/fs
    expect_num "$tag: fstrim frees stored pages" "$(mm_stat_col 1)" -lt "$before"
    sums=$(cd /mnt/fs && grep -E ' (bin|gen)/' /tmp/sums.src | md5sum -c 2>&1 | grep -v ': OK$' | head -n 3)
    expect_eq "$tag: remaining files match after fstrim" "$sums" ""
    check "$tag: umount again" umount /mnt/fs
    check "$tag: e2fsck -fn clean after fstrim" e2fsck -fn $DEV
    check_sh "$tag: reset" "echo 1 > $SYS/reset"
}

cases -r lz4 zstd lzo-rle
for c in $CASES; do round "$c"; done
check "rmmod $DRV" unload
summary
