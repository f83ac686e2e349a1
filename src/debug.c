/*
 * debug.c - the debugging switches: fill patterns and the freed-memory check.
 *
 *   FT_MALLOC_FILL_ALLOC=B    every block malloc, realloc (a moved block's
 *                             new part) and the aligned functions hand out
 *                             is filled with byte B (not calloc's: zeros)
 *   FT_MALLOC_FILL_FREE=B     every zone block is filled with B when freed
 *   FT_MALLOC_CHECK_FREED=1   a zone block about to be handed out is checked
 *                             to still hold the free fill (0xDF unless
 *                             FILL_FREE says otherwise): a write into freed
 *                             memory (a use after free) is reported
 *   FT_MALLOC_GUARD=all       every block in a mapping of its own, before a
 *                             guard page (large.c, guarded_alloc())
 *   FT_MALLOC_TRACE=FD|PATH   a line for every call: ftm_trace() below
 *
 * Any of them turns the thread caches off, so that every malloc and free
 * goes through the paths below; the default configuration pays one
 * predictable branch in those slow paths, one flag test in realloc's fast
 * path, and nothing in malloc's and free's.
 *
 * While a zone block is free its first 64 bytes (header, list links, the
 * empty-zone links, the idle stamp) are ours; the rest holds the free fill.
 * So the check looks at a block's user bytes from offset 48 on (header
 * 16 + 48 = 64), every free block's bytes past 64 are kept filled (a
 * neighbour merged into a free block gets its first 64 bytes filled again),
 * fresh zones are filled whole, and idle free pages are not given back
 * (they would read as zeros).  LARGE blocks are filled on malloc only.
 */
#include "tcache.h"

#include <string.h>

bool ftm_debug_on;

#define OURS FTM_DEBUG_OURS
/* Once the switches are read (init.c, env.c): the thread caches off, and
 * every free block that exists already filled, so the check finds no
 * stale bytes in memory freed before now. */
void ftm_debug_setup(void)
{
	if (ftm_opt.check_freed && ftm_opt.fill_free < 0)
		ftm_opt.fill_free = 0xDF;
	bool every_call = ftm_opt.fill_alloc >= 0 || ftm_opt.fill_free >= 0 ||
	                  ftm_opt.guard == FTM_GUARD_ALL || ftm_opt.trace_fd >= 0;
	if (ftm_opt.tcache_max != FTM_TCACHE_MAX_REQ || ftm_opt.tcache_bytes != FTM_TCACHE_BIN_BYTES)
		ftm_tcache_tune();                  /* FT_MALLOC_TCACHE_MAX, _BYTES */
	if (every_call || ftm_opt.no_tcache)   /* FT_MALLOC_TCACHE=0 too */
		ftm_tcache_off();
	if (!every_call)
		return;
	ftm_debug_on = true;
	if (ftm_opt.fill_free >= 0)
		ftm_arenas_fill_free();
}

/* Fill the free zone block b (its lock held) past our metadata. */
void ftm_debug_fill_free_block(ftm_block *b)
{
	uint32_t size = ftm_bsize(b);
	if (size > OURS)
		memset((char *)b + OURS, ftm_opt.fill_free, size - OURS);
}

/* The bytes [from, from + n) of free zone memory: filled (a merged
 * neighbour's header and links, a freed block's user bytes). */
void ftm_debug_fill(void *from, size_t n)
{
	memset(from, ftm_opt.fill_free, n);
}

/* A block of n bytes at p is about to be handed out: check the free fill
 * (zone blocks), then write the allocation fill. */
void *ftm_debug_new(void *p, size_t n, const char *func)
{
	uintptr_t o = ftm_pagemap_get(p);
	if (ftm_opt.check_freed && o && !(o & FTM_OWNER_LARGE)) {
		size_t usable = ftm_bsize(ftm_bof(p)) - FTM_HDR;
		const unsigned char *c = p;
		for (size_t i = OURS - FTM_HDR; i < usable; i++)
			if (c[i] != (unsigned char)ftm_opt.fill_free) {
				ftm_refuse(func, FTM_ERR_WRITTEN_FREED, c + i, usable);
				break;
			}
	}
	if (ftm_opt.fill_alloc >= 0)
		memset(p, ftm_opt.fill_alloc, n);
	return p;
}

/*
 * "4711 malloc 100 -> 0x55D0C1A2B010", "4711 free 0x55D0C1A2B010",
 * "4711 realloc 0x55D0C1A2B010 200 -> 0x55D0C1A2C000": the thread, the
 * function, its arguments (pointers in hex, sizes in decimal), and what it
 * returned; one write(2) a line, so threads' lines do not mix.
 */
void ftm_trace(const ftm_call *c)
{
	ftm_out o = { .fd = ftm_opt.trace_fd };
	ftm_out_dec(&o, (size_t)ftm_os_tid());
	ftm_out_str(&o, " ");
	ftm_out_str(&o, c->func);
	if (c->has_ptr) {
		ftm_out_str(&o, " ");
		ftm_out_hex(&o, (uintptr_t)c->ptr);
	}
	for (int i = 0; i < c->nargs; i++) {
		ftm_out_str(&o, " ");
		ftm_out_dec(&o, i ? c->b : c->a);
	}
	if (c->has_result) {
		ftm_out_str(&o, " -> ");
		if (c->result_is_ptr)
			ftm_out_hex(&o, c->result);
		else
			ftm_out_dec(&o, c->result);
	}
	ftm_out_str(&o, "\n");
	ftm_out_flush(&o);
}
