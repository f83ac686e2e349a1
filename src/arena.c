/*
 * arena.c - the arena object and the choice between TINY, SMALL and LARGE.
 *
 * An arena is a lock and one heap per zone kind.  Every thread uses the
 * main arena today; ftm_arena_get() is where per-thread arenas will plug in.
 * Lock order: arena lock, then the page map lock (taken inside pagemap.c),
 * then the LARGE cache's lock (large.c).
 */
#include "internal.h"

#include <string.h>

/* An adaptive mutex spins a little before it sleeps: arena critical
 * sections are short, so waiting threads rarely need the futex. */
ftm_arena ftm_main_arena = { .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP };

ftm_arena *ftm_arena_get(void) { return &ftm_main_arena; }

/* How many zones of zone_size fit in bytes; at least one. */
static size_t zones_in(size_t bytes, size_t zone_size)
{
	return bytes / zone_size ? bytes / zone_size : 1;
}

/* Zone sizes are page multiples, whatever page size the machine has. */
void ftm_arena_setup(ftm_arena *a)
{
	size_t tiny_zone = ftm_page_round(FTM_TINY_ZONE_SIZE);
	size_t small_zone = ftm_page_round(FTM_SMALL_ZONE_SIZE);
	/* empty zones kept, never more than 1/16 of the memory limit each */
	size_t reserve = FTM_RESERVE_BYTES, decay = FTM_DECAY_MAX_BYTES;
	if (ftm_g.vm_limit / 16 < reserve)
		reserve = ftm_g.vm_limit / 16;
	if (ftm_g.vm_limit / 16 < decay)
		decay = ftm_g.vm_limit / 16;
	ftm_heap_setup(&a->tiny, a, FTM_TINY, FTM_TINY_MAX, tiny_zone,
	               zones_in(reserve, tiny_zone), decay / tiny_zone);
	ftm_heap_setup(&a->small, a, FTM_SMALL, FTM_SMALL_MAX, small_zone,
	               zones_in(reserve, small_zone), decay / small_zone);
}

/* The heap that serves n bytes, or NULL for LARGE. */
ftm_heap *ftm_heap_for(ftm_arena *a, size_t n)
{
	if (n <= FTM_TINY_MAX)
		return &a->tiny;
	if (n <= FTM_SMALL_MAX)
		return &a->small;
	return NULL;
}

/*
 * n bytes aligned to `align` (a power of two, at least FTM_ALIGN), or NULL
 * (errno is then ENOMEM).  Zones serve alignments up to FTM_ZONE_MAX_ALIGN;
 * larger ones, like large sizes, get a mapping of their own.
 */
void *ftm_alloc(size_t n, size_t align)
{
	ftm_arena *a = ftm_arena_get();
	ftm_heap *h = ftm_heap_for(a, n);
	if (h && align <= FTM_ZONE_MAX_ALIGN) {
		pthread_mutex_lock(&a->lock);
		void *p = ftm_heap_alloc(h, n, align);
		pthread_mutex_unlock(&a->lock);
		return p;
	}
	return ftm_large_alloc(n, align);
}

/* n zeroed bytes: a fresh LARGE mapping is zero already. */
void *ftm_alloc_zeroed(size_t n)
{
	ftm_arena *a = ftm_arena_get();
	ftm_heap *h = ftm_heap_for(a, n);
	if (!h)
		return ftm_large_alloc_zeroed(n);
	pthread_mutex_lock(&a->lock);
	void *p = ftm_heap_alloc(h, n, FTM_ALIGN);
	pthread_mutex_unlock(&a->lock);
	if (p)
		memset(p, 0, n);
	return p;
}

/* Fork: hold every lock across fork() so the child inherits a consistent
 * heap, then release them in the parent and in the child. */
void ftm_arenas_lock_all(void)
{
	pthread_mutex_lock(&ftm_main_arena.lock);
	ftm_pagemap_lock();
	ftm_large_cache_lock();
}

void ftm_arenas_unlock_all(void)
{
	ftm_large_cache_unlock();
	ftm_pagemap_unlock();
	pthread_mutex_unlock(&ftm_main_arena.lock);
}

/*
 * Give every reserve back: this thread's cached blocks, empty zones and
 * cached LARGE mappings.  For malloc_trim(), and when a mapping fails:
 * under RLIMIT_AS or RLIMIT_DATA,
 * what we hold in reserve must not make a request fail.  The caller holds
 * the arena lock when `locked`.  True if anything was unmapped.
 */
bool ftm_arena_reclaim(ftm_arena *a, bool locked)
{
	if (!locked)
		pthread_mutex_lock(&a->lock);
	ftm_tcache_flush_all_locked(&ftm_tc);   /* this thread's cached blocks may pin zones */
	bool any = ftm_heap_trim(&a->tiny);
	any |= ftm_heap_trim(&a->small);
	if (!locked)
		pthread_mutex_unlock(&a->lock);
	any |= ftm_large_cache_trim();
	return any;
}

bool ftm_arenas_trim(void)
{
	return ftm_arena_reclaim(&ftm_main_arena, false);
}

void ftm_arenas_atfork_child(void)
{
	ftm_pagemap_atfork_child();
	ftm_large_cache_atfork_child();
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&ftm_main_arena.lock, &attr);
}
