/*
 * free.c - free(), and the pointer validation that free, realloc and
 * malloc_usable_size share.
 *
 * A pointer is ours when the page map knows its granule; it is a live block
 * when its zone header or LARGE header says so (zone.c, large.c).  Every
 * check runs before anything is changed, and misuse ends in ftm_misuse().
 */
#include "tcache.h"
#include "ft_malloc.h"   /* the public prototypes, checked against the definitions */

#include <errno.h>

/* The owner of p: a zone or a tagged LARGE header; misuse if neither. */
uintptr_t ftm_owner_of(void *p, const char *func)
{
	if ((uintptr_t)p & (FTM_ALIGN - 1))
		ftm_misuse(func, FTM_ERR_UNALIGNED, p, 0);
	uintptr_t o = ftm_pagemap_get(p);
	if (!o)
		ftm_misuse(func, FTM_ERR_FOREIGN, p, 0);
	if (!(o & FTM_OWNER_LARGE)) {
		ftm_zone *z = (ftm_zone *)o;
		if (z->check != ftm_zone_check(z))   /* before we follow z->heap */
			ftm_misuse(func, FTM_ERR_CORRUPT, p, 0);
	}
	return o;
}

ftm_large *ftm_large_of(uintptr_t owner, void *p, const char *func)
{
	ftm_large *l = (ftm_large *)(owner & ~FTM_OWNER_LARGE);
	ftm_err e = ftm_large_lookup(l, p);
	if (e)
		ftm_misuse(func, e, p, 0);
	return l;
}

void ftm_free_ptr(void *p, const char *func)
{
	uintptr_t o = ftm_owner_of(p, func);
	if (o & FTM_OWNER_LARGE) {
		ftm_large_free(ftm_large_of(o, p, func));
		return;
	}
	ftm_zone *z = (ftm_zone *)o;
	/* a block of the zone (its header, above the zone's start, is
	 * readable) may go to the thread cache: a double free of a cached
	 * block is caught there, a full list is made room in */
	if ((char *)p > (char *)ftm_buser(ftm_zone_first(z)) && ftm_tcache_push_block(p, func))
		return;
	ftm_arena *a = z->heap->arena;
	ftm_block *b = NULL;
	size_t size = 0;
	ftm_lock(&a->lock);
	ftm_err e = ftm_zone_lookup(z, p, &b);
	if (e == FTM_OK) {
		size = ftm_bsize(b) - FTM_HDR;
		e = ftm_zone_free(z, b);
	} else if (e == FTM_ERR_DOUBLE_FREE) {
		size = ftm_bsize(ftm_bof(p)) ? ftm_bsize(ftm_bof(p)) - FTM_HDR : 0;
	}
	ftm_unlock(&a->lock);
	if (e)
		ftm_misuse(func, e, p, size);
}

/* Everything free's fast path (tcache.h) does not handle. */
__attribute__((noinline)) void ftm_free_slow(void *p)
{
	int saved = errno;          /* free() never changes errno */
	ftm_init();
	ftm_free_ptr(p, "free");
	errno = saved;
}

FTM_EXPORT void free(void *p)
{
	if (p)
		ftm_tcache_free(p);     /* into this thread's cache, or the slow path */
}
