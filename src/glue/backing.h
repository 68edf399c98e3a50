/* SPDX-License-Identifier: GPL-2.0 */
/* The backing device's I/O (backing.c), for src/glue/backing.rs. */
#ifndef RZRAM_BACKING_H
#define RZRAM_BACKING_H

#include <linux/types.h>

struct rzram_backing;
struct rzram_wb;

struct rzram_backing *rzram_backing_open(const char *path, int *err);
void rzram_backing_close(struct rzram_backing *b);
u64 rzram_backing_pages(struct rzram_backing *b);
int rzram_backing_path(struct rzram_backing *b, char *buf, int len);
int rzram_backing_read(struct rzram_backing *b, u64 block, void *dst);
int rzram_backing_write(struct rzram_backing *b, u64 block, const void *src);
struct rzram_wb *rzram_wb_new(struct rzram_backing *b, unsigned int n,
			      unsigned int *got);
void rzram_wb_attach(struct rzram_wb *wb, struct rzram_backing *b);
void *rzram_wb_buf(struct rzram_wb *wb, unsigned int i);
void rzram_wb_submit(struct rzram_wb *wb, unsigned int i, u64 block);
void rzram_wb_wait(struct rzram_wb *wb);
int rzram_wb_status(struct rzram_wb *wb, unsigned int i);
void rzram_wb_free(struct rzram_wb *wb);
u32 rzram_boottime_seconds(void);

#endif
