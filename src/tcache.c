/*
 * tcache.c - per-thread caches of freed blocks up to 4 KiB: the fast path.
 *
 * A thread keeps the blocks up to 4 KiB it frees in small LIFO lists, one
 * per block size (16-byte steps), and serves its next requests of that size
 * from them without a lock; at most 4 KiB per list, 256 KiB in all.  A cached block stays allocated as far as its zone knows (its
 * header is untouched), so nothing else changes: when a list is full or
 * empty, or the thread ends, blocks move to and from the arena in batches
 * under one lock.
 *
 * A cached block's first 16 bytes hold:
 *   [0] the next block of the list, mangled (see mangle())
 *   [1] ftm_g.cache_key, a per-process random value: "this block is cached".
 * The key lets free() catch a double free of a cached block, and lets
 * show_alloc_mem() and realloc() tell cached blocks from live ones.  A live
 * block whose user data holds the key at offset 8 is a 2^-64 accident.
 *
 * TLS uses the initial-exec model: no TLS access can call into malloc.
 */
#include "internal.h"

#include <pthread.h>

__thread ftm_tcache ftm_tc __attribute__((tls_model("initial-exec")));

static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;

/* The list link is stored mangled with its own address and the secret, so
 * a use-after-free write or a stray pointer cannot steer malloc silently. */
static inline void *mangle(void *slot_addr, void *next)
{
	return (void *)((uintptr_t)next ^ ((uintptr_t)slot_addr >> 12) ^ ftm_g.secret);
}

/* How many blocks of block size `bsize` a list may keep (about 4 KiB). */
static inline unsigned bin_limit(uint32_t bsize)
{
	unsigned n = FTM_TCACHE_BIN_BYTES / bsize;
	return n < 2 ? 2 : n > 64 ? 64 : n;
}

/* Put the block q (of block size idx * 16) at the head of list idx. */
static inline void list_push(ftm_tcache *tc, unsigned idx, void **q)
{
	q[0] = mangle(q, tc->head[idx]);
	q[1] = (void *)ftm_g.cache_key;
	tc->head[idx] = q;
	tc->count[idx]++;
	tc->bytes += idx << 4;
}

/* Take the head of the non-empty list idx; it is no longer marked cached. */
static inline void **list_pop(ftm_tcache *tc, unsigned idx, const char *func)
{
	void **p = tc->head[idx];
	void *next = mangle(p, p[0]);
	if (ftm_unlikely((uintptr_t)next & (FTM_ALIGN - 1)))
		ftm_misuse(func, FTM_ERR_CORRUPT, p, 0);   /* the link was overwritten */
	tc->head[idx] = next;
	tc->count[idx]--;
	tc->bytes -= idx << 4;
	p[1] = NULL;
	return p;
}

static void *pop_slow(ftm_tcache *tc, unsigned idx, size_t n);

/* Pop a cached block for n bytes, or NULL.  The fast path of malloc. */
void *ftm_tcache_pop(size_t n)
{
	ftm_tcache *tc = &ftm_tc;
	unsigned idx = (unsigned)(ftm_block_size_for(n) >> 4);
	if (ftm_unlikely(!tc->head[idx]))
		return pop_slow(tc, idx, n);
	void **p = list_pop(tc, idx, "malloc");
	ftm_bof(p)->req = (uint32_t)n;      /* not covered by the header check */
	return p;
}

/* At thread exit: every cached block back to the arena, and the cache off. */
static void tcache_destroy(void *arg)
{
	ftm_tcache *tc = arg;
	ftm_arena *a = ftm_arena_get();
	pthread_mutex_lock(&a->lock);
	ftm_tcache_flush_all_locked(tc);
	pthread_mutex_unlock(&a->lock);
	tc->disabled = true;                /* later frees of this thread go straight back */
}

static bool tcache_key_ok;

static void tcache_key_create(void)
{
	tcache_key_ok = pthread_key_create(&tcache_key, tcache_destroy) == 0;
}

/* The first time a thread caches a block: arrange the flush at its exit.
 * (pthread_setspecific may allocate for a high key number: the cache is
 * consistent here, so a nested malloc is fine.) */
static void tcache_register(ftm_tcache *tc)
{
	tc->registered = true;
	pthread_once(&tcache_once, tcache_key_create);
	if (!tcache_key_ok) {               /* no key left: no flush at exit, so no cache */
		tc->disabled = true;
		return;
	}
	pthread_setspecific(tcache_key, tc);
}

/*
 * Cache the TINY block p if it is one of ours and the list has room: the
 * fast path of free.  Returns false when the slow path must handle p (not a
 * TINY zone block, a bad pointer to diagnose, a full list).
 */
bool ftm_tcache_push(void *p)
{
	ftm_tcache *tc = &ftm_tc;
	if (ftm_unlikely(((uintptr_t)p & (FTM_ALIGN - 1)) || tc->disabled))
		return false;
	uintptr_t o = ftm_pagemap_get(p);
	if (ftm_unlikely(!o || (o & FTM_OWNER_LARGE)))
		return false;
	/* the zone's first user pointer is its lowest: below it, no header to read */
	if (ftm_unlikely((char *)p < (char *)ftm_buser(ftm_zone_first((ftm_zone *)o))))
		return false;
	ftm_block *b = ftm_bof(p);
	uint32_t sf = b->size_flags;
	uint32_t bsize = sf & ~FTM_B_FLAGS;
	/* a live TINY block with an intact header; anything else: slow path */
	if (bsize > FTM_TCACHE_MAX_BLOCK || (sf & FTM_B_FREE) || b->check != ftm_block_check(b))
		return false;
	unsigned idx = bsize >> 4;
	void **q = p;
	if (ftm_unlikely(q[1] == (void *)ftm_g.cache_key))   /* in this or another cache */
		ftm_misuse("free", FTM_ERR_DOUBLE_FREE, p, bsize - FTM_HDR);
	if (ftm_unlikely(tc->count[idx] >= bin_limit(bsize) ||
	                 tc->bytes + bsize > FTM_TCACHE_BYTES)) {
		/* make room, in one lock: half this list (all of it if the thread is full) */
		ftm_tcache_flush(tc, idx, tc->count[idx] >= bin_limit(bsize) ? (tc->count[idx] + 1) / 2
		                                                             : tc->count[idx]);
		if (tc->count[idx] >= bin_limit(bsize) || tc->bytes + bsize > FTM_TCACHE_BYTES)
			return false;
	}
	if (ftm_unlikely(!tc->registered))
		tcache_register(tc);
	list_push(tc, idx, q);
	return true;
}

/* Give the first k blocks of list idx back to the arena, in one lock. */
void ftm_tcache_flush(ftm_tcache *tc, unsigned idx, unsigned k)
{
	if (!k)
		return;
	ftm_arena *a = ftm_arena_get();
	pthread_mutex_lock(&a->lock);
	ftm_tcache_flush_locked(tc, idx, k);
	pthread_mutex_unlock(&a->lock);
}

/* The same, with the arena lock held by the caller. */
void ftm_tcache_flush_locked(ftm_tcache *tc, unsigned idx, unsigned k)
{
	while (k-- && tc->head[idx]) {
		void **p = list_pop(tc, idx, "free");
		/* checked again: an overflow may have hit the header while it waited */
		uintptr_t o = ftm_pagemap_get(p);
		ftm_zone *z = (ftm_zone *)o;
		ftm_block *b = NULL;
		ftm_err e = !o || (o & FTM_OWNER_LARGE) ? FTM_ERR_CORRUPT : ftm_zone_lookup(z, p, &b);
		if (!e)
			e = ftm_zone_free(z, b);
		if (e)
			ftm_misuse("free", e, p, 0);
	}
}

/* Every list, with the arena lock held (thread exit, reclaim). */
void ftm_tcache_flush_all_locked(ftm_tcache *tc)
{
	for (unsigned i = 0; i < FTM_TCACHE_BINS; i++)
		ftm_tcache_flush_locked(tc, i, tc->count[i]);
}

/*
 * The list for n bytes is empty: fetch a batch of blocks of that size from
 * the arena in one lock, return one, cache the rest.
 */
static void *pop_slow(ftm_tcache *tc, unsigned idx, size_t n)
{
	if (ftm_unlikely(atomic_load_explicit(&ftm_g.state, memory_order_acquire) != 2) ||
	    tc->disabled)
		return NULL;                    /* the plain slow path initialises */
	uint32_t bsize = idx << 4;
	unsigned want = bin_limit(bsize) / 2;
	ftm_arena *a = ftm_arena_get();
	void *first = NULL;
	ftm_heap *h = ftm_heap_for(a, n);
	pthread_mutex_lock(&a->lock);
	first = ftm_heap_alloc(h, n, FTM_ALIGN);
	for (unsigned i = 1; first && i < want && tc->bytes + bsize <= FTM_TCACHE_BYTES; i++) {
		void **q = ftm_heap_alloc(h, bsize - FTM_HDR, FTM_ALIGN);
		if (!q)
			break;
		/* a block can come out a little bigger (no room to split): its own list */
		list_push(tc, ftm_bsize(ftm_bof(q)) >> 4, q);
	}
	pthread_mutex_unlock(&a->lock);
	if (first && !tc->registered)
		tcache_register(tc);
	return first;
}
