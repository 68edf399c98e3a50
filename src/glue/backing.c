// SPDX-License-Identifier: GPL-2.0
/*
 * The backing device's I/O mechanics: opening it, one synchronous page read
 * or write, and a batch of page writes in flight at once. Which page goes to which
 * block, and what a completion means for a slot, is decided in Rust
 * (src/driver/writeback.rs); this file only moves pages.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "backing.h"

struct rzram_backing {
	struct file *file;
	struct block_device *bdev;
	u64 nr_pages;
	/*
	 * Synchronous reads and writes run here: swap-in and swap-out may
	 * depend on them, so the queue has a rescuer and never waits for a new
	 * worker under memory pressure.
	 */
	struct workqueue_struct *wq;
	/* A page for reads when the allocator has none (forward progress). */
	struct mutex spare_lock;
	struct page *spare;
};

/*
 * Opens @path exclusively for reading and writing, as zram's
 * backing_dev_store(): ENOTBLK unless it is a block device, EINVAL if it
 * holds no whole page, the open's error otherwise.
 */
struct rzram_backing *rzram_backing_open(const char *path, int *err)
{
	struct rzram_backing *b;
	struct inode *inode;
	struct file *file;

	file = filp_open(path, O_RDWR | O_LARGEFILE | O_EXCL, 0);
	if (IS_ERR(file)) {
		*err = PTR_ERR(file);
		return NULL;
	}
	inode = file->f_mapping->host;
	if (!S_ISBLK(inode->i_mode)) {
		*err = -ENOTBLK;
		goto close;
	}
	*err = -ENOMEM;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		goto close;
	b->wq = alloc_workqueue("rzram_bd", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!b->wq)
		goto free;
	b->spare = alloc_page(GFP_KERNEL);
	if (!b->spare)
		goto free_wq;
	b->nr_pages = i_size_read(inode) >> PAGE_SHIFT;
	if (!b->nr_pages) {
		*err = -EINVAL;
		goto free_page;
	}
	b->file = file;
	b->bdev = I_BDEV(inode);
	mutex_init(&b->spare_lock);
	*err = 0;
	return b;
free_page:
	__free_page(b->spare);
free_wq:
	destroy_workqueue(b->wq);
free:
	kfree(b);
close:
	filp_close(file, NULL);
	return NULL;
}

void rzram_backing_close(struct rzram_backing *b)
{
	filp_close(b->file, NULL);
	destroy_workqueue(b->wq);
	__free_page(b->spare);
	kfree(b);
}

u64 rzram_backing_pages(struct rzram_backing *b)
{
	return b->nr_pages;
}

/* The path as d_path() gives it, copied to @buf; its length or an error. */
int rzram_backing_path(struct rzram_backing *b, char *buf, int len)
{
	char *p = file_path(b->file, buf, len);
	int n;

	if (IS_ERR(p))
		return PTR_ERR(p);
	n = strlen(p);
	memmove(buf, p, n);
	return n;
}

struct rzram_sync_io {
	struct work_struct work;
	struct block_device *bdev;
	struct page *page;
	u64 block;
	blk_opf_t op;
	int error;
};

static void rzram_sync_io_work(struct work_struct *w)
{
	struct rzram_sync_io *r = container_of(w, struct rzram_sync_io, work);
	struct bio_vec bv;
	struct bio bio;

	bio_init(&bio, r->bdev, &bv, 1, r->op);
	bio.bi_iter.bi_sector = r->block << (PAGE_SHIFT - SECTOR_SHIFT);
	__bio_add_page(&bio, r->page, PAGE_SIZE, 0);
	r->error = submit_bio_wait(&bio);
}

/*
 * Moves one page between @buf and block @block (@op: REQ_OP_READ or
 * REQ_OP_WRITE) and waits. The bio is submitted from a worker: under our
 * own ->submit_bio a bio to another device would only be queued until we
 * return, and waiting for it there deadlocks.
 */
static int rzram_backing_sync_io(struct rzram_backing *b, u64 block,
				 void *buf, blk_opf_t op)
{
	struct rzram_sync_io r = { .bdev = b->bdev, .block = block, .op = op };
	bool spare = false;

	if (block >= b->nr_pages)
		return -EIO;
	r.page = alloc_page(GFP_NOIO | __GFP_NOWARN);
	if (!r.page) {
		mutex_lock(&b->spare_lock);
		r.page = b->spare;
		spare = true;
	}
	if (op == REQ_OP_WRITE)
		memcpy(page_address(r.page), buf, PAGE_SIZE);
	INIT_WORK_ONSTACK(&r.work, rzram_sync_io_work);
	queue_work(b->wq, &r.work);
	flush_work(&r.work);
	destroy_work_on_stack(&r.work);
	if (!r.error && op == REQ_OP_READ)
		memcpy(buf, page_address(r.page), PAGE_SIZE);
	if (spare)
		mutex_unlock(&b->spare_lock);
	else
		__free_page(r.page);
	return r.error;
}

/* Reads block @block into @dst (a page) and waits. */
int rzram_backing_read(struct rzram_backing *b, u64 block, void *dst)
{
	return rzram_backing_sync_io(b, block, dst, REQ_OP_READ);
}

/* Writes @src (a page) to block @block and waits. */
int rzram_backing_write(struct rzram_backing *b, u64 block, const void *src)
{
	/* Only read from when @op is a write. */
	return rzram_backing_sync_io(b, block, (void *)src, REQ_OP_WRITE);
}

struct rzram_wb_req {
	struct bio bio;
	struct bio_vec bv;
	struct page *page;
	int status;
};

struct rzram_wb {
	struct rzram_backing *b;
	atomic_t inflight;
	wait_queue_head_t wait;
	unsigned int n;
	struct rzram_wb_req reqs[] __counted_by(n);
};

/*
 * Up to @n requests with a page each; fewer if memory is short (at least
 * one, else NULL). *@got says how many.
 */
struct rzram_wb *rzram_wb_new(struct rzram_backing *b, unsigned int n,
			      unsigned int *got)
{
	struct rzram_wb *wb;
	unsigned int i;

	wb = kzalloc(struct_size(wb, reqs, n), GFP_KERNEL | __GFP_NOWARN);
	if (!wb)
		return NULL;
	wb->n = n;
	wb->b = b;
	atomic_set(&wb->inflight, 0);
	init_waitqueue_head(&wb->wait);
	for (i = 0; i < n; i++) {
		wb->reqs[i].page = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (!wb->reqs[i].page)
			break;
	}
	if (!i) {
		kfree(wb);
		return NULL;
	}
	wb->n = i;
	*got = i;
	return wb;
}

/* Points a batch kept across runs at the device its next writes go to. */
void rzram_wb_attach(struct rzram_wb *wb, struct rzram_backing *b)
{
	wb->b = b;
}

void *rzram_wb_buf(struct rzram_wb *wb, unsigned int i)
{
	return page_address(wb->reqs[i].page);
}

static void rzram_wb_endio(struct bio *bio)
{
	struct rzram_wb_req *req = container_of(bio, struct rzram_wb_req, bio);
	struct rzram_wb *wb = bio->bi_private;

	req->status = blk_status_to_errno(bio->bi_status);
	/* The waiter may free @wb as soon as the count reaches 0. */
	if (atomic_dec_and_test(&wb->inflight))
		wake_up_all(&wb->wait);
}

/* Writes request @i's page to block @block; rzram_wb_wait() collects it. */
void rzram_wb_submit(struct rzram_wb *wb, unsigned int i, u64 block)
{
	struct rzram_wb_req *req = &wb->reqs[i];

	bio_init(&req->bio, wb->b->bdev, &req->bv, 1, REQ_OP_WRITE);
	req->bio.bi_iter.bi_sector = block << (PAGE_SHIFT - SECTOR_SHIFT);
	req->bio.bi_end_io = rzram_wb_endio;
	req->bio.bi_private = wb;
	req->status = 0;
	__bio_add_page(&req->bio, req->page, PAGE_SIZE, 0);
	atomic_inc(&wb->inflight);
	submit_bio(&req->bio);
}

/* Waits until every submitted request has completed. */
void rzram_wb_wait(struct rzram_wb *wb)
{
	wait_event(wb->wait, !atomic_read(&wb->inflight));
}

int rzram_wb_status(struct rzram_wb *wb, unsigned int i)
{
	return wb->reqs[i].status;
}

void rzram_wb_free(struct rzram_wb *wb)
{
	unsigned int i;

	rzram_wb_wait(wb);
	for (i = 0; i < wb->n; i++)
		__free_page(wb->reqs[i].page);
	kfree(wb);
}

/* Seconds since boot, suspend included (zram's access-time clock). */
u32 rzram_boottime_seconds(void)
{
	return (u32)ktime_get_boottime_seconds();
}
