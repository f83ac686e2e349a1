/*
 * free.c - free(), and the pointer validation that free, realloc and
 * malloc_usable_size share.
 *
 * A pointer is ours when the page map knows its granule; it is a live block
 * when its zone header or LARGE header says so (zone.c, large.c).  Every
 * check runs before anything is changed, and misuse is refused by
 * ftm_refuse() (diag.c): the call then changes nothing.
 */
#include "tcache.h"
#include "ft_malloc.h"   /* the public prototypes, checked against the definitions */

#include <errno.h>

/* The owner of p: a zone or a tagged LARGE header; 0 (misuse refused) if
 * neither. */
uintptr_t ftm_owner_of(void *p, const char *func)
{
	ftm_err e = FTM_OK;
	uintptr_t o = 0;
	if ((uintptr_t)p & (FTM_ALIGN - 1))
		e = FTM_ERR_UNALIGNED;
	else if (!(o = ftm_pagemap_get(p)))
		e = FTM_ERR_FOREIGN;
	else if (!(o & FTM_OWNER_LARGE) &&
	         ((ftm_zone *)o)->check != ftm_zone_check((ftm_zone *)o))
		e = FTM_ERR_CORRUPT;                 /* checked before we follow z->heap */
	if (e) {
		ftm_refuse(func, e, p, 0);
		return 0;
	}
	return o;
}

/* The LARGE block whose header the owner tags, if p is its pointer; NULL
 * (misuse refused) if not. */
ftm_large *ftm_large_of(uintptr_t owner, void *p, const char *func)
{
	ftm_large *l = (ftm_large *)(owner & ~FTM_OWNER_LARGE);
	ftm_err e = ftm_large_lookup(l, p);
	if (e) {
		ftm_refuse(func, e, p, 0);
		return NULL;
	}
	return l;
}

/* Free p, or refuse it as misuse (then nothing changes). */
void ftm_free_ptr(void *p, const char *func)
{
	uintptr_t o = ftm_owner_of(p, func);
	if (!o)
		return;
	if (o & FTM_OWNER_LARGE) {
		ftm_large *l = ftm_large_of(o, p, func);
		if (l)
			ftm_large_free(l);
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
		e = ftm_zone_free(z, b);          /* refuses before it changes anything */
	}
	/* (a block freed twice has no size of its own left to tell: it may
	 * have merged with its neighbours) */
	ftm_unlock(&a->lock);
	if (e)
		ftm_refuse(func, e, p, size);
}

/* Everything free's fast path (tcache.h) does not handle. */
__attribute__((noinline)) void ftm_free_slow(void *p)
{
	int saved = errno;          /* free() never changes errno */
	ftm_init();
	if (FTM_TRACING())          /* before: the line tells what was freed */
		ftm_trace(&(ftm_call){ "free", true, p, 0, 0, 0, false, false, 0 });
	ftm_free_ptr(p, "free");
	errno = saved;
}

FTM_EXPORT void free(void *p)
{
	if (ftm_likely(p != NULL)) {
		ftm_tcache_free(p, true);   /* into this thread's cache, or the slow path */
		return;
	}
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_FREE]);
	if (FTM_TRACING())
		ftm_trace(&(ftm_call){ "free", true, NULL, 0, 0, 0, false, false, 0 });
}
