// SPDX-License-Identifier: GPL-2.0
/*
 * Automatic writeback's mechanics: a worker that runs the driver's
 * writeback pass (src/driver/auto.rs) when kicked, a generation counter a
 * writer waits on for room, and a shrinker that forwards memory pressure.
 * What to write back, and how much, is decided in Rust.
 */
#include <linux/jiffies.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "tier.h"

struct rzram_tier {
	const struct rzram_tier_ops *ops;
	const void *owner;
	/*
	 * Its own queue with a rescuer: swap-out may wait for this worker to
	 * make room, so it must run even when no new worker can be forked.
	 */
	struct workqueue_struct *wq;
	struct work_struct work;
	/* Bumped after each batch; writers waiting for room sleep on @wait. */
	atomic_t gen;
	wait_queue_head_t wait;
	struct shrinker *shrinker;
};

static void rzram_tier_work(struct work_struct *w)
{
	struct rzram_tier *t = container_of(w, struct rzram_tier, work);
	/*
	 * The pass allocates (request pages, its list): reclaim from there
	 * must not start I/O that could end up waiting for this very worker.
	 */
	unsigned int noio = memalloc_noio_save();

	t->ops->run(t->owner, t);
	memalloc_noio_restore(noio);
	rzram_tier_progress(t);
}

static unsigned long rzram_tier_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	struct rzram_tier *t = s->private_data;

	/* Writeback is block I/O: not from a context that forbids it. */
	if (!(sc->gfp_mask & __GFP_IO))
		return 0;
	return t->ops->count(t->owner);
}

static unsigned long rzram_tier_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	struct rzram_tier *t = s->private_data;

	if (!(sc->gfp_mask & __GFP_IO))
		return SHRINK_STOP;
	return t->ops->scan(t->owner, t, sc->nr_to_scan);
}

/*
 * A tier for device @prefix@id; the shrinker is registered at once (its
 * count is 0 while the driver has it off). NULL if memory is short.
 */
struct rzram_tier *rzram_tier_new(const struct rzram_tier_ops *ops,
				  const void *owner, const char *prefix,
				  unsigned int id)
{
	struct rzram_tier *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	t->ops = ops;
	t->owner = owner;
	atomic_set(&t->gen, 0);
	init_waitqueue_head(&t->wait);
	INIT_WORK(&t->work, rzram_tier_work);
	t->wq = alloc_workqueue("%s%u_wb", WQ_MEM_RECLAIM | WQ_UNBOUND, 1,
				prefix, id);
	if (!t->wq)
		goto free;
	t->shrinker = shrinker_alloc(0, "%s%u", prefix, id);
	if (!t->shrinker)
		goto free_wq;
	t->shrinker->count_objects = rzram_tier_count;
	t->shrinker->scan_objects = rzram_tier_scan;
	t->shrinker->private_data = t;
	shrinker_register(t->shrinker);
	return t;
free_wq:
	destroy_workqueue(t->wq);
free:
	kfree(t);
	return NULL;
}

/* No callback runs once this returns. */
void rzram_tier_free(struct rzram_tier *t)
{
	shrinker_free(t->shrinker);
	cancel_work_sync(&t->work);
	destroy_workqueue(t->wq);
	kfree(t);
}

/* Runs the pass soon; a kick while one is queued adds nothing. */
void rzram_tier_kick(struct rzram_tier *t)
{
	queue_work(t->wq, &t->work);
}

unsigned int rzram_tier_gen(struct rzram_tier *t)
{
	return atomic_read(&t->gen);
}

/* The worker finished a batch: wake writers waiting for room. */
void rzram_tier_progress(struct rzram_tier *t)
{
	atomic_inc(&t->gen);
	wake_up_all(&t->wait);
}

/*
 * Waits up to @ms for a batch after generation @gen; whether one came.
 * Bounded so that a writer never waits forever on a stuck worker.
 */
bool rzram_tier_wait(struct rzram_tier *t, unsigned int gen, unsigned int ms)
{
	return wait_event_timeout(t->wait, atomic_read(&t->gen) != gen,
				  msecs_to_jiffies(ms)) > 0;
}
