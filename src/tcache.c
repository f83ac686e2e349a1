/*
 * tcache.c - per-thread caches of freed blocks up to 4 KiB: the slow paths.
 *
 * A thread keeps the blocks up to 4 KiB it frees in small LIFO lists, one
 * per size class (internal.h), and serves its next requests of that class
 * from them without a lock (the inline fast paths in tcache.h); about
 * 8 KiB per list, 4 to 64 blocks, so at most about 450 KiB in all.  A
 * cached block stays allocated as far as its zone knows (its header is
 * untouched), so nothing else changes: when a list is full or empty, or
 * the thread ends, blocks move to and from the arenas in batches under
 * one lock.
 *
 * TLS uses the initial-exec model: no TLS access can call into malloc.
 */
#include "tcache.h"

#include <pthread.h>

__thread ftm_tcache ftm_tc __attribute__((tls_model("initial-exec")));
uint8_t ftm_tc_need_class[FTM_TC_SLOTS];
uint8_t ftm_tc_block_class[FTM_TC_SLOTS];
uint32_t ftm_tc_class_size[FTM_TC_CLASSES];
uint8_t ftm_tcache_limit[FTM_TC_CLASSES];

static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;

/* Open the (empty) cache for pushes: every list its room.  The limits are
 * set: ftm_init() ran before any thread registers. */
static void tc_open(ftm_tcache *tc)
{
	for (unsigned c = 0; c < FTM_TC_CLASSES; c++)
		tc->room[c] = ftm_tcache_limit[c];
}

/* Close the (empty) cache: every push takes the slow path, which refuses. */
static void tc_close(ftm_tcache *tc)
{
	for (unsigned c = 0; c < FTM_TC_CLASSES; c++)
		tc->room[c] = 0;
}

/*
 * The block size after s in the class list (see internal.h).  Above 528,
 * a class is a size on the grid of 8 steps per power of two plus the
 * 16-byte header, so that requests of a grid size (1 KiB, 2 KiB, 4 KiB:
 * common buffer sizes) fit their class exactly.
 */
static uint32_t next_class_size(uint32_t s)
{
	if (s < 512 + FTM_HDR)
		return s + 16;
	uint32_t g = s - FTM_HDR;
	uint32_t step = (uint32_t)1 << (28 - __builtin_clz(g));   /* 1/8 of the power of two */
	return (g & ~(step - 1)) + step + FTM_HDR;
}

/* How many blocks each list may hold: FT_MALLOC_TCACHE_BYTES (default
 * FTM_TCACHE_BIN_BYTES) worth, 4 to 64; none for the classes above
 * FT_MALLOC_TCACHE_MAX bytes. */
static void set_limits(void)
{
	for (unsigned c = 1; c < FTM_TC_CLASSES; c++) {
		uint32_t s = ftm_tc_class_size[c];
		size_t n = ftm_opt.tcache_bytes / s;
		ftm_tcache_limit[c] = s - FTM_HDR > ftm_opt.tcache_max ? 0
		                    : (uint8_t)(n < 4 ? 4 : n > 64 ? 64 : n);
	}
}

/* Once, from ftm_init_slow(): the classes, their tables and list limits. */
void ftm_tcache_setup(void)
{
	unsigned c = 0;
	for (uint32_t s = FTM_MIN_BLOCK; s <= FTM_TCACHE_MAX_BLOCK && c + 1 < FTM_TC_CLASSES;
	     s = next_class_size(s))
		ftm_tc_class_size[++c] = s;
	set_limits();
	/* by construction c == FTM_TC_CLASSES - 1, the last class 4112 */
	for (unsigned slot = 0, k = 1; slot < FTM_TC_SLOTS; slot++) {
		uint32_t s = slot << 4;
		while (k < c && ftm_tc_class_size[k] < s)
			k++;
		ftm_tc_need_class[slot] = (uint8_t)k;            /* smallest class >= s */
		unsigned fl = ftm_tc_class_size[k] == s ? k : k - 1;   /* largest class <= s */
		/* a block between 1040 and the next class is SMALL's, but its
		 * largest class would be TINY's: not cached, so classes never mix */
		if (s > FTM_TINY_MAX + FTM_HDR && ftm_tc_class_size[fl] == FTM_TINY_MAX + FTM_HDR)
			fl = 0;
		ftm_tc_block_class[slot] = (uint8_t)(s >= FTM_MIN_BLOCK ? fl : 0);
	}
}

/* FT_MALLOC_TCACHE_MAX or _BYTES read after the set-up (the first call
 * came from the loader): the limits again, and this thread's cache emptied
 * and opened with them.  (Before main: other threads are unlikely.) */
void ftm_tcache_tune(void)
{
	set_limits();
	ftm_tcache *tc = &ftm_tc;
	if (tc->active) {
		ftm_tcache_flush_all(tc, true);
		tc_open(tc);
	}
}

/* The debugging switches (debug.c) need every malloc and free to take the
 * slow paths: no list may take a block any more, and this thread's cached
 * blocks go back to their zones.  (Set when the switches are read, before
 * main: threads that exist already keep caching what fits their room.) */
void ftm_tcache_off(void)
{
	for (unsigned c = 0; c < FTM_TC_CLASSES; c++)
		ftm_tcache_limit[c] = 0;
	ftm_tcache *tc = &ftm_tc;
	if (tc->active)
		ftm_tcache_flush_all(tc, true);
	tc_close(tc);
}

/* At thread exit: every cached block back to its arena, the cache off, and
 * the thread's arena free for the next thread. */
static void tcache_destroy(void *arg)
{
	ftm_tcache *tc = arg;
	ftm_tcache_flush_all(tc, false);
	tc->disabled = true;                /* later frees of this thread go straight back */
	tc->active = false;
	tc_close(tc);
	ftm_arena_detach(tc);
	ftm_stats_thread_end(tc);           /* its counts outlive its TLS */
}

static bool tcache_key_ok;

static void tcache_key_create(void)
{
	tcache_key_ok = pthread_key_create(&tcache_key, tcache_destroy) == 0;
}

/* Arrange the flush and detach at this thread's exit; done the first time
 * the thread caches a block or takes an arena.  (pthread_setspecific may
 * allocate for a high key number: the cache is consistent here, so a
 * nested malloc is fine.) */
void ftm_tcache_register(ftm_tcache *tc)
{
	if (tc->registered)
		return;
	tc->registered = true;
	pthread_once(&tcache_once, tcache_key_create);
	if (!tcache_key_ok) {               /* no key left: no flush at exit, so no cache */
		tc->disabled = true;
		return;
	}
	pthread_setspecific(tcache_key, tc);
	ftm_stats_thread_start(tc);         /* ended by tcache_destroy() */
	tc->active = !tc->disabled;
	if (tc->active)
		tc_open(tc);
}

/*
 * free's slow path for a block of ours that the fast path could not cache
 * (tcache.h): its list is full, or the thread is not registered yet.
 * False if the block must go back to its zone instead.
 */
bool ftm_tcache_push_slow(ftm_tcache *tc, unsigned c, void **q)
{
	if (!tc->registered)
		ftm_tcache_register(tc);
	if (!tc->active || !ftm_tcache_limit[c])
		return false;                   /* exiting, or not initialised yet */
	if (!ftm_tc_has_room(tc, c)) {
		ftm_tcache_flush(tc, c, (ftm_tc_count(tc, c) + 1) / 2);   /* half the list, in one go */
		if (!ftm_tc_has_room(tc, c))
			return false;
	}
	ftm_tc_push(tc, c, q);
	return true;
}

/* ---- transfer lists: blocks between threads, under the arena lock ---- */

/*
 * Misuse found while the lock of arena `held` (or none: NULL) is held: the
 * lock goes first, so that a SIGABRT handler that allocates cannot hang.
 */
static FTM_NORETURN void misuse_held(ftm_arena *held, ftm_err e, void *p)
{
	if (held)
		ftm_unlock(&held->lock);
	ftm_misuse("free", e, p, 0);
}

/* Keep the checked, allocated block q (of class c) on a's transfer list if
 * it has room. */
static bool xfer_put(ftm_arena *a, unsigned c, void **q)
{
	if (a->nxfer[c] >= FTM_XFER_LISTS * ftm_tcache_limit[c] ||
	    a->xfer_bytes + ftm_tc_class_size[c] > FTM_XFER_BYTES)
		return false;
	ftm_chain_push(&a->xfer[c], q);
	a->nxfer[c]++;
	a->xfer_bytes += ftm_tc_class_size[c];
	return true;
}

static void **xfer_take(ftm_arena *a, unsigned c)
{
	a->nxfer[c]--;
	a->xfer_bytes -= ftm_tc_class_size[c];
	return ftm_chain_pop(&a->xfer[c], "malloc", &a->lock);
}

/* The class of the checked block b, which was cached: the largest its size
 * serves (0: none, not a cacheable block). */
static unsigned class_of(const ftm_block *b)
{
	uint32_t slot = ftm_bsize(b) >> 4;
	return slot < FTM_TC_SLOTS ? ftm_tc_block_class[slot] : 0;
}

/* Free the allocated block p into its zone z (its arena a's lock held),
 * checked first; b is its header when the caller looked it up already. */
static void zone_put(ftm_arena *a, ftm_zone *z, void *p, ftm_block *b)
{
	ftm_err e = b ? FTM_OK : ftm_zone_lookup(z, p, &b);
	if (!e)
		e = ftm_zone_free(z, b);
	if (e)
		misuse_held(a, e, p);
}

/* The zone of the block p, which sat in a cache: checked again, since an
 * overflow may have hit it while it waited.  `held`: see misuse_held(). */
static ftm_zone *zone_of_cached(void *p, ftm_arena *held)
{
	uintptr_t o = ftm_pagemap_get(p);
	ftm_zone *z = (ftm_zone *)o;
	if (!o || (o & FTM_OWNER_LARGE) || z->check != ftm_zone_check(z))
		misuse_held(held, FTM_ERR_CORRUPT, p);
	return z;
}

/* ---- remote lists: blocks for another arena, pushed lock-free ---- */

/*
 * A flush gathers consecutive blocks of one other arena into a batch and
 * pushes the whole chain onto that arena's remote list with one
 * compare-and-swap: the freeing thread takes no lock of the owner's.  The
 * owner's threads take the whole list at once (an exchange, so no ABA) and
 * check and sort every block under their own lock (remote_drain()).
 */
typedef struct remote_batch {
	ftm_arena *a;           /* NULL: empty */
	void *head;
	void **tail;            /* its link is set when the batch is pushed */
	size_t bytes;
} remote_batch;

static void batch_send(remote_batch *rb)
{
	if (!rb->a)
		return;
	/* counted first: a drain that comes between never takes off more
	 * than was added */
	atomic_fetch_add_explicit(&rb->a->remote_bytes, rb->bytes, memory_order_relaxed);
	void *old = atomic_load_explicit(&rb->a->remote, memory_order_relaxed);
	do
		rb->tail[0] = ftm_tc_mangle(rb->tail, old);
	while (!atomic_compare_exchange_weak_explicit(&rb->a->remote, &old, rb->head,
	                                              memory_order_release, memory_order_relaxed));
	rb->a = NULL;
}

static void batch_add(remote_batch *rb, ftm_arena *a, void **p, size_t bytes)
{
	if (rb->a != a) {
		batch_send(rb);
		*rb = (remote_batch){ .a = a, .tail = p };
	}
	ftm_chain_push(&rb->head, p);
	rb->bytes += bytes;
}

/* Sort a's remote list into its transfer lists, or its zones when they are
 * full (a's lock held).  Every block is checked here, under the lock that
 * keeps its neighbours still. */
static void remote_drain(ftm_arena *a)
{
	if (!atomic_load_explicit(&a->remote, memory_order_relaxed))
		return;
	void *chain = atomic_exchange_explicit(&a->remote, NULL, memory_order_acquire);
	size_t bytes = 0;
	while (chain) {
		void **p = ftm_chain_pop(&chain, "free", &a->lock);
		ftm_zone *z = zone_of_cached(p, a);
		ftm_block *b = NULL;
		ftm_err e = z->heap->arena == a ? ftm_zone_lookup(z, p, &b) : FTM_ERR_CORRUPT;
		if (e)
			misuse_held(a, e, p);
		unsigned c = class_of(b);
		if (!c)                 /* no cache could have held it */
			misuse_held(a, FTM_ERR_CORRUPT, p);
		bytes += ftm_tc_class_size[c];
		if (!xfer_put(a, c, p))
			zone_put(a, z, p, b);
	}
	atomic_fetch_sub_explicit(&a->remote_bytes, bytes, memory_order_relaxed);
}

/* Every transfer list of a back into the zones (a's lock held): before a new
 * zone is mapped, and when memory is reclaimed.  True if there were any. */
bool ftm_xfer_drain(ftm_arena *a)
{
	remote_drain(a);
	if (!a->xfer_bytes)
		return false;
	for (unsigned i = 0; i < FTM_TC_CLASSES; i++)
		while (a->xfer[i]) {
			void **p = xfer_take(a, i);
			ftm_zone *z = zone_of_cached(p, a);
			if (z->heap->arena != a)
				misuse_held(a, FTM_ERR_CORRUPT, p);
			zone_put(a, z, p, NULL);
		}
	return true;
}

/*
 * Give the block p (list idx), just taken from this thread's cache, back to
 * the arena that owns its zone.  Another thread's arena gets it through its
 * remote list (*rb), unless nobody would take it from there: the arena has
 * no thread, or its remote list is long.  This thread's arena, or such an
 * arena, gets it under its lock, onto its transfer list, or into its zone
 * when the list is full or `to_zones`.  *held is the arena whose lock we
 * hold, switched as needed.
 */
static void flush_block(ftm_tcache *tc, void **p, unsigned idx, ftm_arena **held,
                        remote_batch *rb, bool to_zones)
{
	ftm_zone *z = zone_of_cached(p, *held);
	ftm_arena *a = z->heap->arena;
	if (!to_zones && a != tc->arena &&
	    atomic_load_explicit(&a->nthreads, memory_order_relaxed) > 0 &&
	    atomic_load_explicit(&a->remote_bytes, memory_order_relaxed) < FTM_REMOTE_BYTES) {
		batch_add(rb, a, p, ftm_tc_class_size[idx]);
		return;
	}
	if (a != *held) {
		if (*held)
			ftm_unlock(&(*held)->lock);
		ftm_lock(&a->lock);
		*held = a;
		remote_drain(a);
	}
	ftm_block *b = NULL;
	ftm_err e = ftm_zone_lookup(z, p, &b);
	if (e)
		misuse_held(a, e, p);
	if (to_zones || class_of(b) != idx || !xfer_put(a, idx, p))
		zone_put(a, z, p, b);
}

/* Give the first k blocks of list idx back to their arenas. */
void ftm_tcache_flush(ftm_tcache *tc, unsigned idx, unsigned k)
{
	ftm_arena *held = NULL;
	remote_batch rb = { 0 };
	while (k-- && tc->head[idx])
		flush_block(tc, ftm_tc_pop(tc, idx, "free", held ? &held->lock : NULL), idx, &held, &rb, false);
	batch_send(&rb);
	if (held)
		ftm_unlock(&held->lock);
}

/* Every list: at thread exit to the arenas, for reclaim into the zones.
 * No arena lock may be held. */
void ftm_tcache_flush_all(ftm_tcache *tc, bool to_zones)
{
	ftm_arena *held = NULL;
	remote_batch rb = { 0 };
	for (unsigned i = 0; i < FTM_TC_CLASSES; i++)
		while (tc->head[i])
			flush_block(tc, ftm_tc_pop(tc, i, "free", held ? &held->lock : NULL), i, &held, &rb,
			            to_zones);
	batch_send(&rb);
	if (held)
		ftm_unlock(&held->lock);
}

/*
 * The list of class c (n bytes asked) is empty: fetch a batch of blocks of
 * that class from the arena in one lock, from its transfer list first
 * (after sorting its remote list in), else from the heap, cut to the
 * class's size; return one, cache the rest.
 */
void *ftm_tcache_pop_slow(ftm_tcache *tc, unsigned c, size_t n)
{
	if (ftm_unlikely(atomic_load_explicit(&ftm_g.state, memory_order_acquire) != 2) ||
	    tc->disabled)
		return NULL;                    /* the plain slow path initialises */
	uint32_t csize = ftm_tc_class_size[c];
	unsigned want = ftm_tcache_limit[c] / 2;
	ftm_arena *a = ftm_arena_get();
	void *first = NULL;
	ftm_heap *h = ftm_heap_for(a, n);
	ftm_lock(&a->lock);
	remote_drain(a);
	if (a->xfer[c]) {
		first = xfer_take(a, c);
		for (unsigned i = 1; a->xfer[c] && i < want && ftm_tc_has_room(tc, c); i++)
			ftm_tc_push(tc, c, xfer_take(a, c));
	} else if ((first = ftm_heap_alloc(h, csize - FTM_HDR, FTM_ALIGN))) {
		/* the rest of the batch cut in one go from the free block after it */
		void *more[64];
		unsigned k = want - 1 < tc->room[c] ? want - 1 : tc->room[c];
		unsigned got = want > 1 ? ftm_heap_carve(h, ftm_bof(first), csize, k < 64 ? k : 64, more) : 0;
		/* else the rest in one piece: one search instead of one each */
		if (!got && k > 1)
			got = ftm_heap_alloc_run(h, csize, k < 64 ? k : 64, more);
		for (unsigned i = 0; i < got; i++)
			ftm_tc_push(tc, c, more[i]);
		for (unsigned i = 1 + got; i < want && ftm_tc_has_room(tc, c); i++) {
			void **q = ftm_heap_alloc(h, csize - FTM_HDR, FTM_ALIGN);
			if (!q)
				break;
			/* a block can come out a little bigger (no room to split):
			 * its own class's list, or back if that one is full */
			unsigned qc = class_of(ftm_bof(q));
			if (qc && ftm_tc_has_room(tc, qc)) {
				ftm_tc_push(tc, qc, q);
			} else {
				zone_put(a, (ftm_zone *)ftm_pagemap_get(q), q, ftm_bof(q));
				break;
			}
		}
	}
	if (first)
		FTM_STORE(ftm_bof(first)->req, (uint32_t)n);
	ftm_unlock(&a->lock);
	return first;                       /* ftm_arena_get() registered tc */
}

