/* SPDX-License-Identifier: GPL-2.0 */
/* Automatic writeback's worker and shrinker (tier.c), for src/glue/tier.rs. */
#ifndef RZRAM_TIER_H
#define RZRAM_TIER_H

#include <linux/types.h>

struct rzram_tier;

/* What the worker and the shrinker call back into; @owner is opaque here. */
struct rzram_tier_ops {
	void (*run)(const void *owner, struct rzram_tier *t);
	unsigned long (*count)(const void *owner);
	unsigned long (*scan)(const void *owner, struct rzram_tier *t,
			      unsigned long nr);
};

struct rzram_tier *rzram_tier_new(const struct rzram_tier_ops *ops,
				  const void *owner, const char *prefix,
				  unsigned int id);
void rzram_tier_free(struct rzram_tier *t);
void rzram_tier_kick(struct rzram_tier *t);
unsigned int rzram_tier_gen(struct rzram_tier *t);
void rzram_tier_progress(struct rzram_tier *t);
bool rzram_tier_wait(struct rzram_tier *t, unsigned int gen, unsigned int ms);

#endif
