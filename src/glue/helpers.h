/* SPDX-License-Identifier: GPL-2.0 */
/* Forwarders in helpers.c, declared for the Rust side's extern blocks. */
#ifndef RZRAM_HELPERS_H
#define RZRAM_HELPERS_H

#include <linux/types.h>

struct gendisk;
struct page;
struct rzram_slot_class;

typedef int (*rzram_segment_fn)(void *ctx, struct page *page, unsigned int len,
				unsigned int offset, u64 sector);

int rzram_bio_for_each_segment(void *bio, rzram_segment_fn fn, void *ctx);
unsigned int rzram_disk_features(void);
int rzram_disk_set_synchronous(struct gendisk *disk, bool on);
void rzram_open_lock(struct gendisk *disk);
void rzram_open_unlock(struct gendisk *disk);
unsigned int rzram_openers(struct gendisk *disk);
unsigned int rzram_freeze(struct gendisk *disk);
void rzram_unfreeze(struct gendisk *disk, unsigned int memflags);
unsigned int rzram_gfp_noio(void);
struct rzram_slot_class *rzram_slot_class_new(void);
void rzram_slot_class_free(struct rzram_slot_class *c);
void rzram_slot_acquire(struct rzram_slot_class *c, bool trylock);
void rzram_slot_acquired(struct rzram_slot_class *c);
void rzram_slot_release(struct rzram_slot_class *c);
void rzram_slot_wait(unsigned long *word, unsigned int bit);
void rzram_slot_wake(unsigned long *word, unsigned int bit);
void rzram_kmemleak_not_leak(const void *ptr);
void rzram_cond_resched(void);
bool rzram_path_exists(const char *path);
void *rzram_zstd_alloc(void *opaque, size_t size);
void rzram_zstd_free(void *opaque, void *address);

#endif
