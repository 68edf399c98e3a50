/* SPDX-License-Identifier: GPL-2.0 */
/* Forwarders in helpers.c, declared for the Rust side's extern blocks. */
#ifndef RZRAM_HELPERS_H
#define RZRAM_HELPERS_H

#include <linux/types.h>

struct gendisk;
struct page;

typedef int (*rzram_segment_fn)(void *ctx, struct page *page, unsigned int len,
				unsigned int offset, u64 sector);

int rzram_bio_for_each_segment(void *bio, rzram_segment_fn fn, void *ctx);
unsigned int rzram_disk_features(void);
void rzram_open_lock(struct gendisk *disk);
void rzram_open_unlock(struct gendisk *disk);
unsigned int rzram_openers(struct gendisk *disk);
unsigned int rzram_freeze(struct gendisk *disk);
void rzram_unfreeze(struct gendisk *disk, unsigned int memflags);
unsigned int rzram_gfp_noio(void);
void rzram_preempt_disable(void);
void rzram_preempt_enable(void);
void rzram_kmemleak_not_leak(const void *ptr);

#endif
