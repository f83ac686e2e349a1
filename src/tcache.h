/*
 * tcache.h - the fast paths of malloc and free: this thread's cache.
 *
 * Inline, so that malloc and free of a block up to 4 KiB that hits the
 * cache are a couple dozen instructions with no call, no lock and no
 * atomic operation.  Everything else (refill, flush, registration, thread
 * exit) is in tcache.c.
 *
 * A cached block's first 16 bytes hold:
 *   [0] the next block of the list, mangled (see ftm_tc_mangle())
 *   [1] ftm_g.cache_key, a per-process random value: "this block is cached".
 * The key lets free() catch a double free of a cached block, and lets
 * show_alloc_mem() and realloc() tell cached blocks from live ones.  A live
 * block whose user data holds the key at offset 8 is a 2^-64 accident.
 */
#ifndef FTM_TCACHE_H
#define FTM_TCACHE_H

#include "internal.h"

/* The size classes (internal.h): the class of a request's block size / 16
 * (the smallest class that holds it), the class of a block's size / 16 (the
 * largest it can serve; 0: not cached), and each class's block size. */
extern uint8_t ftm_tc_need_class[FTM_TC_SLOTS];
extern uint8_t ftm_tc_block_class[FTM_TC_SLOTS];
extern uint32_t ftm_tc_class_size[FTM_TC_CLASSES];
/* How many blocks list c may hold: about FTM_TCACHE_BIN_BYTES, 4 to 64.
 * All zero until ftm_tcache_setup(): then every push takes the slow path. */
extern uint8_t ftm_tcache_limit[FTM_TC_CLASSES];
void ftm_tcache_setup(void);
void *ftm_tcache_pop_slow(ftm_tcache *tc, unsigned c, size_t n);
bool ftm_tcache_push_slow(ftm_tcache *tc, unsigned c, void **q);
void ftm_free_slow(void *p);        /* free.c */

/* The list link is stored mangled with its own address and the secret, so
 * a use-after-free write or a stray pointer cannot steer malloc silently. */
static inline void *ftm_tc_mangle(void *slot_addr, void *next)
{
	return (void *)((uintptr_t)next ^ ((uintptr_t)slot_addr >> 12) ^ ftm_g.secret);
}

/* The class of a request of n bytes (n <= FTM_TCACHE_MAX_REQ). */
static inline unsigned ftm_tc_class(size_t n)
{
	return ftm_tc_need_class[(n + FTM_HDR + FTM_ALIGN - 1) >> 4];
}

/* Chains: a thread cache's list or an arena's transfer list. */
static inline void ftm_chain_push(void **head, void **q)
{
	q[0] = ftm_tc_mangle(q, *head);
	FTM_STORE(q[1], (void *)ftm_g.cache_key);   /* see ftm_is_cached() */
	*head = q;
}

/* Take the head of a non-empty chain; it is no longer marked cached.  A
 * lock the caller holds (or NULL) is released before a misuse report. */
static inline void **ftm_chain_pop(void **head, const char *func, pthread_mutex_t *held)
{
	void **p = *head;
	void *next = ftm_tc_mangle(p, p[0]);
	/* an overflow from the block before p reaches its link, then its key */
	if (ftm_unlikely(((uintptr_t)next & (FTM_ALIGN - 1)) || p[1] != (void *)ftm_g.cache_key)) {
		if (held)                                  /* the link was overwritten */
			ftm_unlock(held);
		ftm_misuse(func, FTM_ERR_CORRUPT, p, 0);
	}
	*head = next;
	FTM_STORE(p[1], NULL);
	return p;
}

/* Put the block q (of class c) at the head of list c. */
static inline void ftm_tc_push(ftm_tcache *tc, unsigned c, void **q)
{
	ftm_chain_push(&tc->head[c], q);
	tc->room[c]--;
}

/* Can list c take one more block now?  Never while the cache is off. */
static inline bool ftm_tc_has_room(const ftm_tcache *tc, unsigned c)
{
	return tc->room[c] != 0;
}

/* How many blocks list c holds (the cache is active). */
static inline unsigned ftm_tc_count(const ftm_tcache *tc, unsigned c)
{
	return (unsigned)ftm_tcache_limit[c] - tc->room[c];
}

/* Take the head of the non-empty list c (`held`: see ftm_chain_pop). */
static inline void **ftm_tc_pop(ftm_tcache *tc, unsigned c, const char *func,
                                pthread_mutex_t *held)
{
	tc->room[c]++;
	return ftm_chain_pop(&tc->head[c], func, held);
}

/* malloc's fast path: a cached block for n bytes (n <= 4 KiB), or NULL
 * when the list is empty (then ftm_tcache_pop_slow() refills it). */
static inline void *ftm_tcache_pop(size_t n)
{
	ftm_tcache *tc = &ftm_tc;
	unsigned c = ftm_tc_class(n);
	if (ftm_unlikely(!tc->head[c]))
		return NULL;
	void **p = ftm_tc_pop(tc, c, "malloc", NULL);
	FTM_STORE(ftm_bof(p)->req, (uint32_t)n);   /* not covered by the header check */
	return p;
}

/*
 * Keep leaf l (number key) as this thread's last page map leaf.  A free in
 * a signal handler may run between any two of these stores and keep its
 * own pair: the key is voided while the leaf changes, and the pair is
 * written again until no handler changed the leaf meanwhile, so the key
 * never names another leaf than the one kept.
 */
static inline void ftm_tc_remember_leaf(ftm_tcache *tc, uintptr_t key, ftm_pm_leaf *l)
{
	do {
		tc->pm_key = 0;
		atomic_signal_fence(memory_order_seq_cst);
		tc->pm_leaf = l;
		atomic_signal_fence(memory_order_seq_cst);
		tc->pm_key = key + 1;
		atomic_signal_fence(memory_order_seq_cst);
	} while (ftm_unlikely(tc->pm_leaf != l));
}

/*
 * Is p a pointer whose header free's and realloc's fast paths may read: 16-
 * aligned, in a zone (the page map says so: not unmapped memory, not a
 * LARGE block), and not the first address of a page, so that its header,
 * 16 bytes below, is inside the zone?  Everything else takes the slow path,
 * which diagnoses.  The page map leaf of the last call is kept per thread:
 * then the lookup is one load instead of three dependent ones (fast-fixed
 * in bench/: 0.27 -> 0.24 s, best of 9).
 */
static inline bool ftm_fast_ptr(void *p)
{
	uintptr_t u = (uintptr_t)p;
	if ((u & (FTM_ALIGN - 1)) || !(u & ((1u << FTM_MAP_SHIFT) - 1)))
		return false;
	uintptr_t k = u >> FTM_MAP_SHIFT;
	ftm_tcache *tc = &ftm_tc;
	ftm_pm_leaf *l = tc->pm_leaf;
	if (ftm_unlikely((k >> FTM_PM_LEAF_BITS) + 1 != tc->pm_key)) {
		if (!(l = ftm_pagemap_leaf(k)))    /* also rejects addresses above 2^47 */
			return false;
		ftm_tc_remember_leaf(tc, k >> FTM_PM_LEAF_BITS, l);
	}
	uintptr_t o = ftm_pagemap_entry(l, k);
	return o && !(o & FTM_OWNER_LARGE);
}

/*
 * The class of p if p is a live block up to 4 KiB with an intact header,
 * else 0.  Its header must be readable (see ftm_fast_ptr()).  The keyed
 * check proves the header is one we wrote at that address; anything else
 * (user data, an interior pointer, a free block) gets 0, and the slow path
 * diagnoses.  Cached or not is not looked at.
 */
static inline unsigned ftm_cacheable(void *p)
{
	ftm_block *b = ftm_bof(p);
	uint32_t sf = FTM_LOAD(b->size_flags), ps = FTM_LOAD(b->prev_size);   /* no lock held */
	unsigned slot = sf >> 4;            /* the flags are the low 4 bits */
	if (slot >= FTM_TC_SLOTS || (sf & FTM_B_FREE) || FTM_LOAD(b->check) != ftm_block_check_of(b, ps, sf))
		return 0;
	return ftm_tc_block_class[slot];
}

/*
 * Cache p if it is a live block up to 4 KiB (its header readable, see
 * ftm_fast_ptr()), for free's and realloc's slow paths: a double free of a
 * cached block is misuse (refused: true, nothing done), a full list is made
 * room in.  False when p must go back to its zone instead (or is not a
 * block at all: diagnosed there).
 */
static inline bool ftm_tcache_push_block(void *p, const char *func)
{
	unsigned c = ftm_cacheable(p);
	if (!c)
		return false;
	void **q = p;
	if (ftm_is_cached(q)) {                    /* in this or another cache */
		ftm_refuse(func, FTM_ERR_DOUBLE_FREE, p, ftm_bsize(ftm_bof(p)) - FTM_HDR);
		return true;                         /* refused: nothing more to do */
	}
	ftm_tcache *tc = &ftm_tc;
	if (!ftm_tc_has_room(tc, c))
		return ftm_tcache_push_slow(tc, c, q);
	ftm_tc_push(tc, c, q);
	return true;
}

/*
 * free's fast path, for a non-NULL p: a live block up to 4 KiB with an
 * intact header, not cached already, goes onto this thread's list if the
 * list has room.  Anything else (a bad pointer, a double free, a full or
 * inactive cache) goes to ftm_free_slow(), which checks it all again and
 * diagnoses: so this path has no call but that one tail call.  `counted`:
 * a call of free() (stats.c), not realloc's own.
 */
static inline void ftm_tcache_free(void *p, bool counted)
{
	ftm_tcache *tc = &ftm_tc;
	if (ftm_likely(ftm_fast_ptr(p))) {
		unsigned c = ftm_cacheable(p);
		void **q = p;
		if (ftm_likely(c && !ftm_is_cached(q) && ftm_tc_has_room(tc, c))) {
			ftm_tc_push(tc, c, q);
			if (counted)
				FTM_COUNT(tc->st.free_hits);
			return;
		}
	}
	if (counted)
		FTM_COUNT(tc->st.calls[FTM_FN_FREE]);
	ftm_free_slow(p);
}

#endif /* FTM_TCACHE_H */
