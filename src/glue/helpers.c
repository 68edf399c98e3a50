// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel facilities rzram needs that are macros or static inline
 * functions, with neither an exported symbol nor a Rust helper in 7.3.
 * Each is a one-line forwarder; all logic stays in Rust.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/lockdep.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "helpers.h"

/*
 * Walks @bio with bio_for_each_segment() and calls @fn once per single-page
 * segment; a non-zero return stops the walk. This is the supported way to
 * split a bio into single-page pieces (multi-page bvecs are split here).
 */
int rzram_bio_for_each_segment(void *bio, rzram_segment_fn fn, void *ctx)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	int ret;

	bio_for_each_segment(bv, (struct bio *)bio, iter) {
		ret = fn(ctx, bv.bv_page, bv.bv_len, bv.bv_offset,
			 iter.bi_sector);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Queue features of every rzram disk. Stable writes: the data must not change
 * while it is compressed. Synchronous: swap may skip the swap cache and read
 * directly. The BLK_FEAT_* values are __force casts bindgen cannot evaluate.
 */
unsigned int rzram_disk_features(void)
{
	return (__force unsigned int)(BLK_FEAT_STABLE_WRITES | BLK_FEAT_SYNCHRONOUS);
}

/*
 * Sets or clears BLK_FEAT_SYNCHRONOUS, with the queue frozen. Swap reads it
 * at swapon: a synchronous disk is read one faulting page at a time,
 * waiting, with no swap cache and no readahead.
 */
int rzram_disk_set_synchronous(struct gendisk *disk, bool on)
{
	struct queue_limits lim = queue_limits_start_update(disk->queue);

	if (on)
		lim.features |= BLK_FEAT_SYNCHRONOUS;
	else
		lim.features &= ~BLK_FEAT_SYNCHRONOUS;
	return queue_limits_commit_update_frozen(disk->queue, &lim);
}

/*
 * A disk's open_mutex serialises open and release; holding it while the
 * opener count is checked and a claim is set keeps reset and hot_remove
 * from racing an open (mutex_lock is a macro under lockdep).
 */
void rzram_open_lock(struct gendisk *disk)
{
	mutex_lock(&disk->open_mutex);
}

void rzram_open_unlock(struct gendisk *disk)
{
	mutex_unlock(&disk->open_mutex);
}

unsigned int rzram_openers(struct gendisk *disk)
{
	return disk_openers(disk);
}

/*
 * Waits until no bio is inside submit_bio and holds new ones back: a
 * bio-based queue is entered around every ->submit_bio call.
 */
unsigned int rzram_freeze(struct gendisk *disk)
{
	return blk_mq_freeze_queue(disk->queue);
}

void rzram_unfreeze(struct gendisk *disk, unsigned int memflags)
{
	blk_mq_unfreeze_queue(disk->queue, memflags);
}

/* GFP_NOIO is a macro the Rust bindings do not export. */
unsigned int rzram_gfp_noio(void)
{
	return (__force unsigned int)(GFP_NOIO | __GFP_NOWARN);
}

/*
 * The slot lock (glue/slot_lock.rs): a bit in each slot's flags word that
 * sleepers wait on with the kernel's bit waitqueues, like zram's slot_lock(),
 * and one lockdep map per device standing for every slot of that device.
 */
struct rzram_slot_class {
	struct lock_class_key key;
	struct lockdep_map map;
};

struct rzram_slot_class *rzram_slot_class_new(void)
{
	/* Without lockdep both members are empty: kzalloc(0) is ZERO_SIZE_PTR. */
	struct rzram_slot_class *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return NULL;
	lockdep_register_key(&c->key);
	lockdep_init_map(&c->map, "rzram->slot[index].lock", &c->key, 0);
	return c;
}

void rzram_slot_class_free(struct rzram_slot_class *c)
{
	lockdep_unregister_key(&c->key);
	kfree(c);
}

void rzram_slot_acquire(struct rzram_slot_class *c, bool trylock)
{
	mutex_acquire(&c->map, 0, trylock, _RET_IP_);
}

void rzram_slot_acquired(struct rzram_slot_class *c)
{
	lock_acquired(&c->map, _RET_IP_);
}

void rzram_slot_release(struct rzram_slot_class *c)
{
	mutex_release(&c->map, _RET_IP_);
}

/* Sleeps until @bit of @word is clear (returns at once if it is). */
void rzram_slot_wait(unsigned long *word, unsigned int bit)
{
	wait_on_bit(word, bit, TASK_UNINTERRUPTIBLE);
}

/*
 * Wakes the waiters of @bit after the holder cleared it with an atomic
 * read-modify-write (so smp_mb__after_atomic() orders the clear before the
 * waitqueue check, as in clear_and_wake_up_bit()).
 */
void rzram_slot_wake(unsigned long *word, unsigned int bit)
{
	smp_mb__after_atomic();
	wake_up_bit(word, bit);
}

/*
 * Layouts the Rust codec backends mirror (backend_zstd.rs, backend_deflate.rs):
 * a mismatch fails the build here rather than corrupting memory at run time.
 */
#include <linux/stddef.h>
#include <linux/zlib.h>
#include <linux/zstd.h>

static_assert(sizeof(zstd_parameters) == 40);

/*
 * Work-memory sizes the Rust codec backends (zcomp/) state as numbers, since
 * bindgen does not see these headers: each literal here is the constant of
 * the same name in the backend's file.
 */
#include <linux/lz4.h>
#include <linux/lzo.h>
#include <linux/sw842.h>

static_assert(LZ4_MEM_COMPRESS == 16416);
static_assert(LZ4HC_MEM_COMPRESS == 262192);
static_assert(LZO1X_MEM_COMPRESS == 16384);
static_assert(SW842_MEM_COMPRESS == 0xf000);
static_assert(sizeof(struct z_stream_s) == 12 * sizeof(long));
static_assert(offsetof(struct z_stream_s, workspace) == 8 * sizeof(long));

/*
 * Pool locks are referred to only from the pool's own pages, which come from
 * the page allocator and are not scanned by kmemleak: tell it they are live.
 */
void rzram_kmemleak_not_leak(const void *ptr)
{
	kmemleak_not_leak(ptr);
}

void rzram_cond_resched(void)
{
	cond_resched();
}

/*
 * Whether @path names an existing file: zram_names=1 checks that C zram's
 * control class is absent before registering the same names.
 */
bool rzram_path_exists(const char *path)
{
	struct path p;

	if (kern_path(path, LOOKUP_FOLLOW, &p))
		return false;
	path_put(&p);
	return true;
}

/*
 * Dictionaries (zcomp/): the sizes lz4.rs and lz4hc.rs state for the stream
 * types, the read purpose glue/file.rs passes, and zram's allocator for the
 * contexts and dictionaries zstd creates itself (backend_zstd.c's).
 */
#include <linux/kernel_read_file.h>

static_assert(sizeof(LZ4_stream_t) == 16416);
static_assert(sizeof(LZ4_streamHC_t) == 262192);
static_assert(sizeof(LZ4_streamDecode_t) == 32);
static_assert(READING_POLICY == 5);

void *rzram_zstd_alloc(void *opaque, size_t size)
{
	return kvzalloc(size, GFP_NOIO | __GFP_NOWARN);
}

void rzram_zstd_free(void *opaque, void *address)
{
	kvfree(address);
}
