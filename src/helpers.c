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
#include <linux/preempt.h>
#include <linux/kmemleak.h>

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

/* The slot bit lock must not be preempted while held (like bit_spin_lock). */
void rzram_preempt_disable(void)
{
	preempt_disable();
}

void rzram_preempt_enable(void)
{
	preempt_enable();
}

/*
 * Layouts the Rust codec backends mirror (backend_zstd.rs, backend_deflate.rs):
 * a mismatch fails the build here rather than corrupting memory at run time.
 */
#include <linux/stddef.h>
#include <linux/zlib.h>
#include <linux/zstd.h>

static_assert(sizeof(zstd_parameters) == 40);
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
