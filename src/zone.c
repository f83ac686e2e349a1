/*
 * zone.c - TINY and SMALL zones: blocks cut from a mapping, found again by
 * best fit, merged with their free neighbours.
 *
 * Invariants (relied on below; the caller holds the arena lock):
 *  I1. No two free blocks are adjacent: free() merges at once.  So a block
 *      just taken from a free list has an allocated block (or the zone's
 *      start or sentinel) on each side.
 *  I2. A block's PREV_FREE flag is set exactly when the block before it is
 *      free, and then prev_size is that block's size.
 *  I3. Every header's check matches its fields (ftm_block_check): every
 *      header write goes through set_header().
 *  I4. A zone is empty exactly when its first block is free and reaches the
 *      sentinel; heap->nempty counts such zones.
 *  I5. An empty zone's block has FTM_B_DECAY exactly when it is on the
 *      heap's empty list, which is ordered by the time it went there; every
 *      empty zone is on it but for a new zone, which is used at once.
 */
#include "internal.h"
#include "freelist.h"

#include <string.h>

/* ---- header checks ------------------------------------------------ */

/* ftm_block_check(), the check of every header, and ftm_zone_check(), the
 * check of a zone's header, are inline in internal.h. */

/* The words a block's owner may read without the lock are written as
 * relaxed atomics (see FTM_LOAD in internal.h). */
static inline void set_checked(ftm_block *b, uint32_t prev_size, uint32_t size_flags)
{
	FTM_STORE(b->prev_size, prev_size);
	FTM_STORE(b->size_flags, size_flags);
	FTM_STORE(b->check, ftm_block_check_of(b, prev_size, size_flags));
}

/* (req: written here only while the block is not its owner's to touch) */
static inline void set_header(ftm_block *b, uint32_t prev_size, uint32_t size_flags, uint32_t req)
{
	set_checked(b, prev_size, size_flags);
	b->req = req;
}

static inline bool header_ok(const ftm_block *b) { return b->check == ftm_block_check(b); }

/* Set or clear PREV_FREE on b (the block after one whose state changed).
 * b may be live: its req is its owner's, who may be writing it now (a
 * cached block handed out), so it is left alone. */
static inline void set_prev(ftm_block *b, bool prev_free, uint32_t prev_size)
{
	uint32_t f = b->size_flags & ~FTM_B_PREV_FREE;
	set_checked(b, prev_size, prev_free ? f | FTM_B_PREV_FREE : f);
}

/* The block size that serves n bytes: header + n, rounded to 16, at least
 * FTM_MIN_BLOCK.  n is at most FTM_SMALL_MAX here: no overflow. */
size_t ftm_block_size_for(size_t n)
{
	size_t s = (n + FTM_HDR + FTM_ALIGN - 1) & ~(size_t)(FTM_ALIGN - 1);
	return s < FTM_MIN_BLOCK ? FTM_MIN_BLOCK : s;
}

static inline bool whole_zone(ftm_block *b)
{
	return (b->size_flags & FTM_B_FIRST) && ftm_bsize(ftm_bnext(b)) == 0;
}

static inline ftm_zone *zone_of_first(ftm_block *first) { return (ftm_zone *)first - 1; }

/* ---- idle pages ----------------------------------------------------------- */

/*
 * A free block of FTM_IDLE_MIN bytes or more (a zone that is largely free,
 * or an empty zone kept in reserve) that stays free FTM_DECAY_OPS (or
 * FT_MALLOC_DECAY_OPS)
 * operations of its heap gives the whole pages inside it back to the
 * kernel: they stay mapped and read as zeros, resident again only where
 * touched.  So a long-running program does not keep resident the part of
 * a zone it no longer uses, while a loop that frees and allocates the same
 * memory again soon never faults.  The block's first 64 bytes stay: its
 * header, list links, empty-list entry, and at offset 56 the time it
 * became free, whose top bit says its pages are not resident (given back,
 * or never touched: a new zone).  Every FTM_DECAY_OPS operations the heap
 * looks at its free blocks that big (a few lists of a few blocks).
 */
#define IDLE_GONE ((uint64_t)1 << 63)

static inline uint64_t *idle_word(ftm_block *b) { return (uint64_t *)((char *)b + 56); }

/* b, of any size, became free now (or, `gone`, holds no resident page). */
static inline void idle_since(ftm_heap *h, ftm_block *b, bool gone)
{
	if (ftm_bsize(b) >= FTM_IDLE_MIN)
		*idle_word(b) = gone ? IDLE_GONE : h->ops;
}

static void idle_sweep(ftm_heap *h)
{
	size_t page = ftm_g.page_size;
	for (unsigned c = ftm_freelist_class(FTM_IDLE_MIN); c < FTM_NCLASSES; c++)
		for (ftm_block *b = h->free.heads[c]; b; b = ftm_freelist_next(&h->free, b)) {
			uint64_t w = *idle_word(b);
			if ((w & IDLE_GONE) || h->ops - w < ftm_opt.decay_ops)
				continue;
			uintptr_t lo = ((uintptr_t)b + 64 + page - 1) & ~(uintptr_t)(page - 1);
			uintptr_t hi = ((uintptr_t)b + ftm_bsize(b)) & ~(uintptr_t)(page - 1);
			if (hi > lo)
				ftm_os_refresh((void *)lo, hi - lo);
			*idle_word(b) = IDLE_GONE;
		}
}

/* ---- heap and zone life cycle -------------------------------------- */

void ftm_heap_setup(ftm_heap *h, ftm_arena *a, enum ftm_kind kind,
                    uint32_t max_request, size_t zone_size, size_t reserve, size_t decay_max)
{
	h->arena = a;
	h->kind = kind;
	h->max_request = max_request;
	h->zone_size = zone_size;
	h->reserve = reserve;
	h->decay_max = decay_max;
}

/* Map a new zone and put its one big free block into the free lists. */
static bool zone_create(ftm_heap *h)
{
	ftm_zone *z = ftm_os_map(h->zone_size);   /* on failure the caller reclaims, retries */
	if (!z)
		return false;
	z->heap = h;
	z->size = (uint32_t)h->zone_size;
	z->check = ftm_zone_check(z);
	if (!ftm_pagemap_set(z, z->size, (uintptr_t)z)) {
		ftm_os_unmap(z, z->size);
		return false;
	}
	ftm_block *first = ftm_zone_first(z);
	uint32_t usable = z->size - (uint32_t)sizeof(ftm_zone) - FTM_HDR;
	if (ftm_unlikely(ftm_opt.check_freed))
		ftm_debug_fill(first, usable);     /* the freed-memory check: fresh too */
	set_header(first, 0, usable | FTM_B_FREE | FTM_B_FIRST, 0);
	set_header(ftm_zone_sentinel(z), usable, FTM_B_PREV_FREE, 0);  /* size 0, never free */
	idle_since(h, first, true);                /* never touched */
	ftm_freelist_insert(&h->free, first);
	h->nzones++;
	h->nempty++;
	if (FTM_STATS_ON())
		ftm_stats_zone(h->kind, 1);
	return true;
}

/* ---- the list of empty zones ------------------------------------------- */

/*
 * Every empty zone waits on its heap's empty list, oldest first.  The
 * youngest h->reserve of them stay for good; an older one that is not
 * reused within FTM_DECAY_OPS (FT_MALLOC_DECAY_OPS) operations of the heap
 * is unmapped, and so
 * is the oldest when more than reserve + decay_max wait.  The list lives in
 * the empty zone's own free block, after the free-list links (the block is
 * a whole zone: there is room).
 */
typedef struct ftm_decay {
	ftm_block *next, *prev;
	uint64_t since;         /* h->ops when the zone went on the list */
} ftm_decay;

static inline ftm_decay *decay_of(ftm_block *b) { return (ftm_decay *)(ftm_blinks(b) + 1); }

static void decay_push(ftm_heap *h, ftm_block *b)
{
	ftm_decay *d = decay_of(b);
	d->next = NULL;
	d->prev = h->decay_tail;
	d->since = h->ops;
	if (h->decay_tail)
		decay_of(h->decay_tail)->next = b;
	else
		h->decay_head = b;
	h->decay_tail = b;
	h->ndecay++;
	set_checked(b, b->prev_size, b->size_flags | FTM_B_DECAY);   /* req: its links' seal */
}

static void decay_unlink(ftm_heap *h, ftm_block *b)
{
	ftm_decay *d = decay_of(b);
	if (d->prev)
		decay_of(d->prev)->next = d->next;
	else
		h->decay_head = d->next;
	if (d->next)
		decay_of(d->next)->prev = d->prev;
	else
		h->decay_tail = d->prev;
	h->ndecay--;
	set_checked(b, b->prev_size, b->size_flags & ~FTM_B_DECAY);
}

/* b is the whole, free block of an empty zone, not in any free list. */
static void zone_release(ftm_heap *h, ftm_block *b)
{
	ftm_zone *z = zone_of_first(b);
	size_t size = z->size;
	ftm_pagemap_clear(z, size);
	ftm_os_unmap(z, size);
	h->nzones--;
	h->nempty--;
	if (FTM_STATS_ON())
		ftm_stats_zone(h->kind, -1);
}

/* Unmap the oldest waiting zone. */
static void decay_release_oldest(ftm_heap *h)
{
	ftm_block *b = h->decay_head;
	decay_unlink(h, b);
	ftm_freelist_remove(&h->free, b);
	zone_release(h, b);
}

/* One tick of the heap's clock: at most one zone that waited too long goes. */
static inline void heap_tick(ftm_heap *h)
{
	h->ops++;
	if (ftm_unlikely(h->ops >= h->idle_next)) {
		h->idle_next = h->ops + ftm_opt.decay_ops;
		if (!ftm_opt.check_freed)        /* idle pages read as zeros, not the fill */
			idle_sweep(h);
	}
	if (ftm_unlikely(h->ndecay > h->reserve) &&
	    h->ops - decay_of(h->decay_head)->since > ftm_opt.decay_ops)
		decay_release_oldest(h);
}

/* Every free block of the heap filled past our metadata (debug.c). */
void ftm_heap_fill_free(ftm_heap *h)
{
	for (unsigned c = 0; c < FTM_NCLASSES; c++)
		for (ftm_block *b = h->free.heads[c]; b; b = ftm_freelist_next(&h->free, b))
			ftm_debug_fill_free_block(b);
}

/* malloc_trim(): every empty zone goes now. */
bool ftm_heap_trim(ftm_heap *h)
{
	bool any = h->decay_head != NULL;
	while (h->decay_head)
		decay_release_oldest(h);
	return any;
}

/* Take the free block b out of the lists to be allocated from; if it was
 * an empty zone's whole block, the zone is no longer empty. */
static void take_free(ftm_heap *h, ftm_block *b)
{
	ftm_freelist_remove(&h->free, b);
	if (whole_zone(b)) {
		h->nempty--;               /* I4: the zone is no longer empty */
		if (b->size_flags & FTM_B_DECAY)
			decay_unlink(h, b);    /* I5 */
	}
}

/* ---- splitting ------------------------------------------------------ */

/*
 * Shrink the block b (allocated, or about to be) to `size` bytes when the
 * rest can stand as a block of its own; the rest becomes free, merged with
 * a free block after it (I1), and goes into the free lists.
 */
static void split_tail(ftm_heap *h, ftm_block *b, uint32_t size)
{
	uint32_t total = ftm_bsize(b);
	if (total - size < FTM_MIN_BLOCK)
		return;
	b->size_flags = size | (b->size_flags & FTM_B_FLAGS);
	b->check = ftm_block_check(b);
	ftm_block *rest = ftm_bnext(b);
	uint32_t rest_size = total - size;
	ftm_block *after = (ftm_block *)((char *)rest + rest_size);
	if (ftm_bfree(after)) {
		ftm_freelist_remove(&h->free, after);
		uint32_t asize = ftm_bsize(after);
		rest_size += asize;
		if (ftm_unlikely(ftm_opt.fill_free >= 0))   /* its header and links, now inside rest */
			ftm_debug_fill(after, asize < FTM_DEBUG_OURS ? asize : FTM_DEBUG_OURS);
		after = (ftm_block *)((char *)rest + rest_size);
	}
	set_header(rest, size, rest_size | FTM_B_FREE, 0);
	set_prev(after, true, rest_size);
	idle_since(h, rest, false);
	ftm_freelist_insert(&h->free, rest);
}

/*
 * b is free and out of the lists, big enough for `align` slack: give its
 * head back as a free block so that the user pointer of the returned block
 * is aligned.  The head is at least FTM_MIN_BLOCK so it can stand alone.
 */
static ftm_block *carve_aligned(ftm_heap *h, ftm_block *b, size_t align)
{
	uintptr_t u = (uintptr_t)ftm_buser(b);
	if (!(u & (align - 1)))
		return b;
	uintptr_t aligned = (u + FTM_MIN_BLOCK + align - 1) & ~(uintptr_t)(align - 1);
	uint32_t lead = (uint32_t)(aligned - u);
	uint32_t total = ftm_bsize(b);
	ftm_block *a = (ftm_block *)((char *)b + lead);
	set_header(b, b->prev_size, lead | FTM_B_FREE | (b->size_flags & (FTM_B_FIRST | FTM_B_PREV_FREE)), 0);
	set_header(a, lead, (total - lead) | FTM_B_FREE | FTM_B_PREV_FREE, 0);
	ftm_freelist_insert(&h->free, b);
	return a;
}

/* ---- allocation ----------------------------------------------------- */

/*
 * A block for n bytes (n <= h->max_request) whose user pointer is aligned
 * to `align` (a power of two, 16 <= align <= FTM_ZONE_MAX_ALIGN).
 * Best fit from the free lists; a new zone only when no free block fits.
 */
void *ftm_heap_alloc(ftm_heap *h, size_t n, size_t align)
{
	uint32_t size = (uint32_t)ftm_block_size_for(n);
	uint32_t need = align > FTM_ALIGN ? size + (uint32_t)align + FTM_MIN_BLOCK : size;
	ftm_block *b = ftm_freelist_find(&h->free, need);
	if (!b && ftm_xfer_drain(h->arena))   /* blocks waiting whole may merge into a fit */
		b = ftm_freelist_find(&h->free, need);
	if (!b) {
		if (!zone_create(h))
			return NULL;
		b = ftm_freelist_find(&h->free, need);
		if (!b)
			return NULL;
	}
	take_free(h, b);
	if (align > FTM_ALIGN)
		b = carve_aligned(h, b, align);
	/* b is out of the lists; mark it allocated, then give back the tail */
	set_header(b, b->prev_size, b->size_flags & ~FTM_B_FREE, (uint32_t)n);
	split_tail(h, b, size);
	ftm_block *next = ftm_bnext(b);
	set_prev(next, false, ftm_bsize(b));
	heap_tick(h);
	if (FTM_STATS_ON())
		ftm_stats_held(ftm_bsize(b) - FTM_HDR, 1);
	return ftm_buser(b);
}

/*
 * Cut up to k blocks of exactly `size` bytes, one after another, from the
 * start of the free block f (checked, in the lists), whose predecessor is
 * prev_size bytes long: one free-list removal and one insertion for the
 * whole batch.  Their user pointers go to out[]; returns how many.  The
 * blocks are allocated as far as the zone knows (req 0: the cache that
 * takes them writes it when it hands one out).
 */
static unsigned carve_free(ftm_heap *h, ftm_block *f, uint32_t size, unsigned k, void **out)
{
	uint32_t total = ftm_bsize(f);
	unsigned n = total / size < k ? total / size : k;
	if (n && total - n * size && total - n * size < FTM_MIN_BLOCK)
		n--;                               /* the rest must stand as a block */
	if (!n)
		return 0;
	take_free(h, f);
	ftm_block *after = (ftm_block *)((char *)f + total);   /* allocated (I1) */
	uint32_t prev_size = f->prev_size, first = f->size_flags & FTM_B_FIRST;
	char *c = (char *)f;
	for (unsigned i = 0; i < n; i++, c += size) {
		set_header((ftm_block *)c, prev_size, size | (i ? 0 : first), 0);
		prev_size = size;
		out[i] = ftm_buser((ftm_block *)c);
	}
	uint32_t rest = total - n * size;
	if (rest) {
		set_header((ftm_block *)c, size, rest | FTM_B_FREE, 0);
		idle_since(h, (ftm_block *)c, false);
		ftm_freelist_insert(&h->free, (ftm_block *)c);
	}
	set_prev(after, rest != 0, rest ? rest : size);
	h->ops += n - 1;
	heap_tick(h);
	if (FTM_STATS_ON())
		ftm_stats_held((int64_t)n * (size - FTM_HDR), n);
	return n;
}

/* A refill of a thread cache: up to k more blocks of `size` bytes cut from
 * the free block that follows `prev` (a block just allocated). */
unsigned ftm_heap_carve(ftm_heap *h, ftm_block *prev, uint32_t size, unsigned k, void **out)
{
	ftm_block *f = ftm_bnext(prev);
	if (!ftm_bfree(f) || !header_ok(f))
		return 0;
	return carve_free(h, f, size, k, out);
}

/*
 * A refill of a thread cache in one piece: k blocks of `size` bytes cut
 * from the best fit for all k together, or none when no free block is that
 * big (the caller then takes them one by one).  One search instead of k.
 */
unsigned ftm_heap_alloc_run(ftm_heap *h, uint32_t size, unsigned k, void **out)
{
	ftm_block *f = ftm_freelist_find(&h->free, size * k);
	return f ? carve_free(h, f, size, k, out) : 0;
}

/* ---- pointer validation ---------------------------------------------- */

/*
 * Is p the pointer of a live block of zone z?  Checked before anything is
 * touched, so a misuse is reported without damage.  The caller checked z
 * itself (ftm_owner_of, or the flush of a cached block) before it followed
 * z->heap to take the arena lock.
 */
ftm_err ftm_zone_lookup(ftm_zone *z, void *p, ftm_block **out)
{
	char *lo = (char *)ftm_buser(ftm_zone_first(z));
	char *hi = (char *)ftm_zone_sentinel(z);
	if ((char *)p < lo || (char *)p >= hi)
		return FTM_ERR_NOT_BLOCK;      /* the zone header or sentinel */
	ftm_block *b = ftm_bof(p);
	if (!header_ok(b))
		return FTM_ERR_NOT_BLOCK;      /* interior pointer or smashed header */
	if (ftm_bfree(b) || ftm_is_cached(p))
		return FTM_ERR_DOUBLE_FREE;    /* free, or sitting in a thread cache */
	*out = b;
	return FTM_OK;
}

/* ---- free ------------------------------------------------------------- */

/*
 * Free the live block b of zone z: merge it with free neighbours (I1), and
 * release the zone when it became empty and the heap holds enough reserve.
 * Every header read, and a free neighbour's links, are checked first; on
 * FTM_ERR_CORRUPT nothing changed.
 */
ftm_err ftm_zone_free(ftm_zone *z, ftm_block *b)
{
	ftm_heap *h = z->heap;
	ftm_block *next = ftm_bnext(b);
	ftm_block *prev = NULL;
	if (!header_ok(next) || (ftm_bfree(next) && (!header_ok(ftm_bnext(next)) ||
	                                              !ftm_freelist_sealed(next))))
		return FTM_ERR_CORRUPT;
	if (b->size_flags & FTM_B_PREV_FREE) {
		prev = (ftm_block *)((char *)b - b->prev_size);
		if (!header_ok(prev) || !ftm_bfree(prev) || ftm_bsize(prev) != b->prev_size ||
		    !ftm_freelist_sealed(prev))
			return FTM_ERR_CORRUPT;
	}

	uint32_t size = ftm_bsize(b);
	uint32_t keep = b->size_flags & (FTM_B_FIRST | FTM_B_PREV_FREE);
	if (FTM_STATS_ON())
		ftm_stats_held(-(int64_t)(size - FTM_HDR), -1);
	bool fill = ftm_unlikely(ftm_opt.fill_free >= 0);
	if (fill)                               /* FT_MALLOC_FILL_FREE (debug.c) */
		ftm_debug_fill(ftm_buser(b), size - FTM_HDR);
	if (prev) {
		ftm_freelist_remove_checked(&h->free, prev);   /* header, links checked above */
		size += ftm_bsize(prev);
		keep = prev->size_flags & (FTM_B_FIRST | FTM_B_PREV_FREE);
		set_header(b, 0, FTM_B_FREE, 0);   /* absorbed: a later free of it is caught */
		if (fill)
			ftm_debug_fill(b, FTM_HDR);
		b = prev;
	}
	if (ftm_bfree(next)) {
		ftm_freelist_remove_checked(&h->free, next);   /* header, links checked above */
		uint32_t nsize = ftm_bsize(next);
		size += nsize;
		set_header(next, 0, FTM_B_FREE, 0);
		if (fill)                          /* its header and links, now inside b */
			ftm_debug_fill(next, nsize < FTM_DEBUG_OURS ? nsize : FTM_DEBUG_OURS);
		next = (ftm_block *)((char *)b + size);
	}
	set_header(b, b->prev_size, size | FTM_B_FREE | keep, 0);
	set_prev(next, true, size);
	idle_since(h, b, false);

	ftm_freelist_insert(&h->free, b);
	if (whole_zone(b)) {
		/* I4, I5: an empty zone waits on the empty list */
		h->nempty++;
		decay_push(h, b);
		if (h->ndecay > h->reserve + h->decay_max)
			decay_release_oldest(h);
	}
	heap_tick(h);
	return FTM_OK;
}

/* ---- realloc in place ------------------------------------------------- */

/* Make the live block b serve n bytes without moving it, if it can:
 * shrink by splitting, grow into a free block that follows (*resized).
 * A free block after b, which either way may be merged, is checked first;
 * on FTM_ERR_CORRUPT nothing changed. */
ftm_err ftm_zone_resize(ftm_zone *z, ftm_block *b, size_t n, bool *resized)
{
	ftm_heap *h = z->heap;
	uint32_t want = (uint32_t)ftm_block_size_for(n);
	uint32_t have = ftm_bsize(b), old = have;
	ftm_block *next = ftm_bnext(b);
	*resized = false;
	if (ftm_bfree(next) && (!header_ok(next) || !ftm_freelist_sealed(next)))
		return FTM_ERR_CORRUPT;
	if (want > have) {
		if (!ftm_bfree(next) || have + ftm_bsize(next) < want)
			return FTM_OK;
		ftm_freelist_remove_checked(&h->free, next);   /* header, links checked above */
		have += ftm_bsize(next);
		set_header(next, 0, FTM_B_FREE, 0);
		set_header(b, b->prev_size, have | (b->size_flags & FTM_B_FLAGS), b->req);
	}
	set_header(b, b->prev_size, b->size_flags, (uint32_t)n);
	if (ftm_unlikely(ftm_opt.fill_free >= 0) && want + FTM_MIN_BLOCK <= have)
		ftm_debug_fill((char *)b + want, have - want);   /* the tail that goes free */
	split_tail(h, b, want);
	set_prev(ftm_bnext(b), false, ftm_bsize(b));
	if (FTM_STATS_ON())
		ftm_stats_held((int64_t)ftm_bsize(b) - (int64_t)old, 0);
	*resized = true;
	return FTM_OK;
}
