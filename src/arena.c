/*
 * arena.c - arenas, and the choice between TINY, SMALL and LARGE.
 *
 * An arena is a lock and one heap per zone kind.  A thread is attached to
 * one arena the first time it needs one (ftm_arena_get()): the arena with
 * the fewest threads, or a new one while there are fewer than
 * FTM_ARENAS_PER_CPU per processor.  So threads rarely share a lock, a
 * thread that never allocates costs nothing, and the arena of a thread
 * that exited goes to the next new thread with its memory.
 *
 * A block is always freed into the arena that owns its zone (zone ->
 * heap -> arena), whichever thread frees it.
 *
 * Lock order: arenas_lock, then arena locks in table order, then the
 * page map lock (inside pagemap.c), then the LARGE cache lock (large.c).
 * No path holds two arena locks but ftm_arenas_lock_all().
 */
#include "internal.h"

#include <string.h>

/* Arena locks are adaptive mutexes (glibc spins a little in them);
 * ftm_lock_slow() below tries longer before a thread waits in one. */
ftm_arena ftm_main_arena = { .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP };

/* arenas[0 .. narenas) exist; arenas are never unmapped. */
static ftm_arena *arenas[FTM_MAX_ARENAS] = { &ftm_main_arena };
static _Atomic unsigned narenas = 1;
static unsigned arena_limit = 1;        /* set by ftm_arena_setup() */
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;

/* How many zones of zone_size fit in bytes; at least one. */
static size_t zones_in(size_t bytes, size_t zone_size)
{
	return bytes / zone_size ? bytes / zone_size : 1;
}

static void init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(m, &attr);
}

/*
 * A lock that was taken: try again for a while before sleeping.  An
 * arena's critical sections (a best-fit search and a merge, with their
 * cache misses) often outlast the few spins of glibc's adaptive mutex, and
 * a thread that sleeps costs two context switches: `server` in bench/
 * made 450-610 voluntary switches a run, 90-210 with this; a variant of
 * it with only 4-64 KiB blocks on 2 threads made 30,000-52,000, 1,700-
 * 2,700 with this, and took 1.3-1.8 s instead of 1.9-2.8 s.
 */
void ftm_lock_slow(pthread_mutex_t *m)
{
	for (unsigned i = 0; i < FTM_LOCK_SPINS; i++) {
		ftm_cpu_relax();
		if (pthread_mutex_trylock(m) == 0)
			return;
	}
	pthread_mutex_lock(m);
}

/* Zone sizes are page multiples, whatever page size the machine has. */
static void arena_init(ftm_arena *a)
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

/* Once, from ftm_init_slow(): the main arena and the arena limit. */
void ftm_arena_setup(void)
{
	arena_init(&ftm_main_arena);
	size_t limit = ftm_os_cpu_count() * FTM_ARENAS_PER_CPU;
	arena_limit = limit < FTM_MAX_ARENAS ? (unsigned)limit : FTM_MAX_ARENAS;
}

/*
 * The slow path of ftm_arena_get(): attach this thread to the arena with
 * the fewest threads, making a new one when every arena has a thread and
 * the limit allows.  Detached again at thread exit (tcache.c).
 */
ftm_arena *ftm_arena_attach(void)
{
	ftm_tcache *tc = &ftm_tc;
	/* a thread whose cache is off (exiting, or no thread key) has no exit
	 * hook left to detach it: it uses an arena without being counted */
	bool counted = !tc->disabled;
	ftm_lock(&arenas_lock);
	unsigned n = atomic_load_explicit(&narenas, memory_order_relaxed), best = 0;
	for (unsigned i = 1; i < n; i++)
		if (atomic_load_explicit(&arenas[i]->nthreads, memory_order_relaxed) <
		    atomic_load_explicit(&arenas[best]->nthreads, memory_order_relaxed))
			best = i;
	if (atomic_load_explicit(&arenas[best]->nthreads, memory_order_relaxed) > 0 && n < arena_limit) {
		ftm_arena *a = ftm_os_map(ftm_page_round(sizeof(ftm_arena)));
		if (a) {                         /* else: share one, as when at the limit */
			init_lock(&a->lock);
			arena_init(a);
			arenas[n] = a;
			atomic_store_explicit(&narenas, n + 1, memory_order_release);
			best = n;
		}
	}
	ftm_arena *a = arenas[best];
	if (counted)
		atomic_fetch_add_explicit(&a->nthreads, 1, memory_order_relaxed);
	ftm_unlock(&arenas_lock);
	tc->arena = a;
	if (!counted) {
		tc->detached = true;
		return a;
	}
	ftm_tcache_register(tc);             /* to be detached at thread exit */
	if (tc->disabled)                    /* no thread key: no exit hook */
		ftm_arena_detach(tc);
	return a;
}

/* At thread exit, after its cache went back: the arena is free for others.
 * tc->arena stays set for the frees and mallocs of later destructors. */
void ftm_arena_detach(ftm_tcache *tc)
{
	if (!tc->arena || tc->detached)
		return;
	ftm_lock(&arenas_lock);
	atomic_fetch_sub_explicit(&tc->arena->nthreads, 1, memory_order_relaxed);
	ftm_unlock(&arenas_lock);
	tc->detached = true;
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

/* One try in this thread's arena, and one more after every reserve went
 * back if a mapping failed (near RLIMIT_AS or RLIMIT_DATA). */
static void *heap_alloc(ftm_heap *h, size_t n, size_t align)
{
	ftm_arena *a = h->arena;
	ftm_lock(&a->lock);
	void *p = ftm_heap_alloc(h, n, align);
	ftm_unlock(&a->lock);
	if (ftm_unlikely(!p) && ftm_reclaim_all()) {
		ftm_lock(&a->lock);
		p = ftm_heap_alloc(h, n, align);
		ftm_unlock(&a->lock);
	}
	return p;
}

/*
 * n bytes aligned to `align` (a power of two, at least FTM_ALIGN), or NULL
 * (errno is then ENOMEM).  Zones serve alignments up to FTM_ZONE_MAX_ALIGN;
 * larger ones, like large sizes, get a mapping of their own.
 */
/*
 * A zone block from heap h of this thread's arena a.  SMALL requests above
 * the thread caches' limit (4-64 KiB: few calls, most of the bytes of a
 * threaded server) are pooled in the main arena while its lock is free, so
 * that every arena does not keep a partly used SMALL zone of its own; when
 * the lock is taken, the thread's own arena serves them: contended threads
 * still spread out.
 */
static void *zone_alloc(ftm_arena *a, ftm_heap *h, size_t n, size_t align)
{
	ftm_arena *m = &ftm_main_arena;
	if (h->kind == FTM_SMALL && n > FTM_TCACHE_MAX_REQ && a != m && ftm_trylock(&m->lock)) {
		void *p = ftm_heap_alloc(&m->small, n, align);
		ftm_unlock(&m->lock);
		if (p)
			return p;
	}
	return heap_alloc(h, n, align);
}

void *ftm_alloc(size_t n, size_t align)
{
	if (ftm_unlikely(ftm_opt.guard == FTM_GUARD_ALL))
		return ftm_large_alloc(n, align);   /* every block before a guard page */
	ftm_arena *a = ftm_arena_get();
	ftm_heap *h = ftm_heap_for(a, n);
	if (h && align <= FTM_ZONE_MAX_ALIGN)
		return zone_alloc(a, h, n, align);
	return ftm_large_alloc(n, align);
}

/* n zeroed bytes: a fresh LARGE mapping is zero already. */
void *ftm_alloc_zeroed(size_t n)
{
	ftm_arena *a = ftm_arena_get();
	ftm_heap *h = ftm_heap_for(a, n);
	if (!h || ftm_unlikely(ftm_opt.guard == FTM_GUARD_ALL))
		return ftm_large_alloc_zeroed(n);
	void *p = zone_alloc(a, h, n, FTM_ALIGN);
	if (p)
		memset(p, 0, n);
	return p;
}

/* Fork, show_alloc_mem: hold every lock, in the lock order, so the heap
 * stands still (and a fork child inherits it consistent). */
void ftm_arenas_lock_all(void)
{
	ftm_lock(&arenas_lock);
	unsigned n = atomic_load_explicit(&narenas, memory_order_relaxed);
	for (unsigned i = 0; i < n; i++)
		ftm_lock(&arenas[i]->lock);
	ftm_pagemap_lock();
	ftm_large_cache_lock();
}

void ftm_arenas_unlock_all(void)
{
	ftm_large_cache_unlock();
	ftm_pagemap_unlock();
	unsigned n = atomic_load_explicit(&narenas, memory_order_relaxed);
	for (unsigned i = n; i-- > 0;)
		ftm_unlock(&arenas[i]->lock);
	ftm_unlock(&arenas_lock);
}

/* The fork child has one thread, this one; if `held`, it holds every lock
 * (ftm_arenas_lock_all() before the fork) and releases them as their
 * owner (not pthread_mutex_init() over a held lock: ThreadSanitizer then
 * still counts it held, and its next lock is a "double lock").  No arena
 * is used by a thread but this one. */
void ftm_arenas_atfork_child(bool held)
{
	ftm_pagemap_atfork_child(held);
	ftm_large_cache_atfork_child(held);
	unsigned n = atomic_load_explicit(&narenas, memory_order_relaxed);
	for (unsigned i = n; i-- > 0;) {
		if (held)
			pthread_mutex_unlock(&arenas[i]->lock);
		atomic_store_explicit(&arenas[i]->nthreads, 0, memory_order_relaxed);
	}
	if (held)
		pthread_mutex_unlock(&arenas_lock);
	if (ftm_tc.arena && !ftm_tc.detached)
		atomic_store_explicit(&ftm_tc.arena->nthreads, 1, memory_order_relaxed);
}

/* FT_MALLOC_FILL_FREE turned on: every free block of every arena filled
 * (debug.c), each arena under its lock. */
void ftm_arenas_fill_free(void)
{
	unsigned n = atomic_load_explicit(&narenas, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		ftm_arena *a = arenas[i];
		ftm_lock(&a->lock);
		ftm_xfer_drain(a);              /* cached blocks waiting here go free first */
		ftm_heap_fill_free(&a->tiny);
		ftm_heap_fill_free(&a->small);
		ftm_unlock(&a->lock);
	}
}

/*
 * Give every reserve back: this thread's cached blocks, every arena's
 * empty zones and the cached LARGE mappings.  For malloc_trim(), and when
 * a mapping fails: under RLIMIT_AS or RLIMIT_DATA, what we hold in reserve
 * must not make a request fail.  No lock may be held by the caller.  True
 * if anything was unmapped.
 */
bool ftm_reclaim_all(void)
{
	ftm_tcache_flush_all(&ftm_tc, true);   /* this thread's cached blocks may pin zones */
	bool any = false;
	unsigned n = atomic_load_explicit(&narenas, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		ftm_arena *a = arenas[i];
		ftm_lock(&a->lock);
		ftm_xfer_drain(a);
		any |= ftm_heap_trim(&a->tiny);
		any |= ftm_heap_trim(&a->small);
		ftm_unlock(&a->lock);
	}
	any |= ftm_large_cache_trim();
	return any;
}
