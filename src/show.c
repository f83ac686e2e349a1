/*
 * show.c - show_alloc_mem() and show_alloc_mem_ex(): the heap, printed.
 *
 * Zones and LARGE blocks come out by increasing address because the page
 * map is walked in key order.  show_alloc_mem_ex adds, in lines that begin
 * with two spaces, the free blocks ("  free"), the blocks waiting in thread
 * caches and transfer lists ("  cached"), each zone's and mapping's
 * summary, and with FT_MALLOC_SHOW_HEX=N the first N bytes of every block;
 * then, after the Total line, the heap's summary.  The arena lock keeps the blocks still and the
 * page map lock keeps LARGE mappings from being unmapped while we read.
 */
#include "internal.h"
#include "ft_malloc.h"   /* the public prototypes, checked against the definitions */

#include <unistd.h>

typedef struct show_ctx {
	ftm_out out;             /* fd -1: count only (ftm_census_take) */
	bool ex;                 /* show_alloc_mem_ex: free blocks and summaries */
	ftm_census n;
} show_ctx;

static const char *const kind_name[] = { "TINY", "SMALL", "LARGE" };

static void block_line(show_ctx *c, const char *prefix, uintptr_t start, size_t n, const char *unit)
{
	ftm_out_str(&c->out, prefix);
	ftm_out_hex(&c->out, start);
	ftm_out_str(&c->out, " - ");
	ftm_out_hex(&c->out, start + n);
	ftm_out_str(&c->out, " : ");
	ftm_out_dec(&c->out, n);
	ftm_out_str(&c->out, unit);
}

static void zone_head(show_ctx *c, enum ftm_kind kind, const void *start)
{
	ftm_out_str(&c->out, kind_name[kind]);
	ftm_out_str(&c->out, " : ");
	ftm_out_hex(&c->out, (uintptr_t)start);
	ftm_out_str(&c->out, "\n");
}

/*
 * FT_MALLOC_SHOW_HEX=N: the first N bytes of a block, 16 a line:
 * "  0x7F...: 41 42 43 ...  |ABC...|".  The block is the program's: read
 * only, under the locks that keep it where it is.
 */
static void hex_dump(show_ctx *c, const unsigned char *p, size_t n)
{
	if (n > ftm_opt.show_hex)
		n = ftm_opt.show_hex;
	for (size_t off = 0; off < n; off += 16) {
		char line[16 * 3 + 2 + 16 + 2], *o = line;
		size_t k = n - off < 16 ? n - off : 16;
		for (size_t i = 0; i < 16; i++) {
			*o++ = i < k ? "0123456789abcdef"[p[off + i] >> 4] : ' ';
			*o++ = i < k ? "0123456789abcdef"[p[off + i] & 15] : ' ';
			*o++ = ' ';
		}
		*o++ = ' ';
		*o++ = '|';
		for (size_t i = 0; i < k; i++)
			*o++ = p[off + i] >= 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '.';
		*o++ = '|';
		*o = '\0';
		ftm_out_str(&c->out, "  ");
		ftm_out_hex(&c->out, (uintptr_t)(p + off));
		ftm_out_str(&c->out, ": ");
		ftm_out_str(&c->out, line);
		ftm_out_str(&c->out, "\n");
	}
}

static void show_zone(show_ctx *c, ftm_zone *z)
{
	size_t used = 0, free_bytes = 0, largest = 0;
	zone_head(c, z->heap->kind, z);
	for (ftm_block *b = ftm_zone_first(z); ftm_bsize(b); b = ftm_bnext(b)) {
		size_t usable = ftm_bsize(b) - FTM_HDR;
		bool cached = !ftm_bfree(b) && ftm_is_cached(ftm_buser(b));
		if (!ftm_bfree(b) && !cached) {
			uint32_t req = FTM_LOAD(b->req);   /* its owner may be changing it */
			block_line(c, "", (uintptr_t)ftm_buser(b), req, " bytes\n");
			if (c->ex && ftm_opt.show_hex)
				hex_dump(c, ftm_buser(b), req);
			c->n.total += req;
			c->n.used_bytes += usable;
			c->n.used_blocks++;
			used++;
			continue;
		}
		/* a block in a thread cache is free for the program */
		free_bytes += usable;
		largest = usable > largest ? usable : largest;
		c->n.free_blocks++;
		if (cached) {
			c->n.cached_blocks++;
			c->n.cached_bytes += usable;
		}
		if (c->ex)
			block_line(c, cached ? "  cached " : "  free ", (uintptr_t)ftm_buser(b), usable,
			           " bytes\n");
	}
	c->n.free_bytes += free_bytes;
	c->n.largest_free = largest > c->n.largest_free ? largest : c->n.largest_free;
	c->n.zones[z->heap->kind]++;
	c->n.mapped += z->size;
	if (c->ex) {
		ftm_out_str(&c->out, "  zone ");
		ftm_out_dec(&c->out, z->size);
		ftm_out_str(&c->out, " bytes mapped, ");
		ftm_out_dec(&c->out, used);
		ftm_out_str(&c->out, " blocks used, ");
		ftm_out_dec(&c->out, free_bytes);
		ftm_out_str(&c->out, " bytes free, largest free block ");
		ftm_out_dec(&c->out, largest);
		ftm_out_str(&c->out, " bytes\n");
	}
}

static void show_large(show_ctx *c, ftm_large *l)
{
	zone_head(c, FTM_LARGE, l);
	size_t req = FTM_LOAD(l->req);       /* its owner may be resizing it */
	block_line(c, "", (uintptr_t)l->user, req, " bytes\n");
	if (c->ex && ftm_opt.show_hex)
		hex_dump(c, l->user, req);
	c->n.total += req;
	c->n.large_bytes += ftm_large_len(l);
	c->n.zones[FTM_LARGE]++;
	c->n.mapped += ftm_large_len(l);
	if (c->ex) {
		ftm_out_str(&c->out, "  mapping ");
		ftm_out_dec(&c->out, ftm_large_len(l));
		ftm_out_str(&c->out, " bytes, usable ");
		ftm_out_dec(&c->out, ftm_large_usable(l));
		ftm_out_str(&c->out, " bytes\n");
	}
}

static void visit(uintptr_t owner, void *ctx)
{
	if (owner & FTM_OWNER_LARGE)
		show_large(ctx, (ftm_large *)(owner & ~FTM_OWNER_LARGE));
	else
		show_zone(ctx, (ftm_zone *)owner);
}

static void summary_line(show_ctx *c, const char *label, size_t v, const char *unit)
{
	ftm_out_str(&c->out, label);
	ftm_out_dec(&c->out, v);
	ftm_out_str(&c->out, unit);
}

static void walk(show_ctx *c)
{
	ftm_init();
	ftm_arenas_lock_all();
	ftm_pagemap_walk(visit, c);
	ftm_arenas_unlock_all();
}

void ftm_show(int fd, bool ex)
{
	show_ctx c = { .out = { .fd = fd }, .ex = ex };
	walk(&c);
	summary_line(&c, "Total : ", c.n.total, " bytes\n");
	if (ex) {
		summary_line(&c, "Free : ", c.n.free_bytes, " bytes");
		summary_line(&c, " in ", c.n.free_blocks, " blocks");
		summary_line(&c, ", largest ", c.n.largest_free, " bytes\n");
		summary_line(&c, "Cached : ", c.n.cached_bytes, " bytes");
		summary_line(&c, " in ", c.n.cached_blocks, " blocks (thread caches, transfer lists)\n");
		/* external fragmentation: how much of the free space is not in the largest block */
		size_t frag = c.n.free_bytes ? 100 - c.n.largest_free * 100 / c.n.free_bytes : 0;
		summary_line(&c, "Fragmentation : ", frag, " %\n");
		summary_line(&c, "Zones : ", c.n.zones[FTM_TINY], " TINY, ");
		summary_line(&c, "", c.n.zones[FTM_SMALL], " SMALL, ");
		summary_line(&c, "", c.n.zones[FTM_LARGE], " LARGE, ");
		summary_line(&c, "", c.n.mapped, " bytes mapped\n");
	}
	ftm_out_flush(&c.out);
}

/* The same walk, counting only. */
void ftm_census_take(ftm_census *n)
{
	show_ctx c = { .out = { .fd = -1 } };
	walk(&c);
	*n = c.n;
}

FTM_EXPORT void show_alloc_mem(void) { ftm_show(STDOUT_FILENO, false); }
FTM_EXPORT void show_alloc_mem_ex(void) { ftm_show(STDOUT_FILENO, true); }
