/*
 * large.c - LARGE blocks: each in a mapping of its own.
 *
 * Layout of a mapping:  [ftm_large header][padding for alignment][user block]
 * Without an alignment request the user block starts right after the
 * 32-byte header.  The page map registers only the granule of the user
 * pointer, with the header as owner (tagged FTM_OWNER_LARGE).
 * Free keeps a few recently freed mappings in a small cache (below) so a
 * loop of large malloc/free neither maps nor faults fresh pages each turn;
 * the rest are unmapped at once.  realloc grows by mapping the pages right
 * after the block when they are free, with room to spare, and shrinks by
 * unmapping the tail.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

uint64_t ftm_large_check(const ftm_large *l)
{
	uint64_t x = (uintptr_t)l ^ ftm_g.secret ^ ((uint64_t)l->map_size << 1) ^ (uintptr_t)l->user;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline void seal(ftm_large *l) { l->check = ftm_large_check(l); }

/* ---- the cache of freed mappings ---------------------------------------- */

/*
 * Up to FTM_LARGE_CACHE_SLOTS mappings, FTM_LARGE_CACHE_BYTES in all, stay
 * mapped after free.  An allocation takes the smallest one that is big
 * enough, whole if it is at most twice the need (the rest is room to grow:
 * no munmap, so no TLB shootdown in a threaded program), else cut to the
 * need; a mapping that waited
 * FTM_LARGE_CACHE_OPS LARGE operations unused is unmapped.  Cached mappings
 * are out of the page map, so a double free is still caught.
 */
typedef struct cached_map {
	char *base;
	size_t size;
	uint64_t since;         /* cache_ops when it was cached */
} cached_map;

static struct {
	pthread_mutex_t lock;
	cached_map slot[FTM_LARGE_CACHE_SLOTS];
	unsigned n;
	size_t bytes;
	uint64_t ops;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Forget slot i (the caller unmaps or uses the mapping). */
static cached_map take_slot(unsigned i)
{
	cached_map m = cache.slot[i];
	cache.slot[i] = cache.slot[--cache.n];
	cache.bytes -= m.size;
	return m;
}

/* A cached mapping of at least len bytes (*got of them: more than twice
 * len is cut to len), or NULL. */
static char *cache_get(size_t len, size_t *got)
{
	cached_map m = { 0 }, old[FTM_LARGE_CACHE_SLOTS];
	unsigned nold = 0;
	pthread_mutex_lock(&cache.lock);
	cache.ops++;
	int best = -1;
	for (unsigned i = 0; i < cache.n; i++)
		if (cache.slot[i].size >= len && (best < 0 || cache.slot[i].size < cache.slot[best].size))
			best = (int)i;
	if (best >= 0)
		m = take_slot((unsigned)best);
	for (unsigned i = 0; i < cache.n;)         /* and let old ones go */
		if (cache.ops - cache.slot[i].since > FTM_LARGE_CACHE_OPS)
			old[nold++] = take_slot(i);
		else
			i++;
	pthread_mutex_unlock(&cache.lock);
	for (unsigned i = 0; i < nold; i++)
		ftm_os_unmap(old[i].base, old[i].size);
	if (m.base && m.size / 2 > len) {   /* much too big: cut the tail off */
		ftm_os_unmap(m.base + len, m.size - len);
		m.size = len;
	}
	if (m.base)
		*got = m.size;
	return m.base;
}

/* Keep a freed mapping if it fits; else, or for what it pushes out, unmap. */
static void cache_put(char *base, size_t size)
{
	cached_map out[FTM_LARGE_CACHE_SLOTS + 1];
	unsigned nout = 0;
	pthread_mutex_lock(&cache.lock);
	cache.ops++;
	if (size <= FTM_LARGE_CACHE_BYTES) {
		while (cache.n == FTM_LARGE_CACHE_SLOTS || cache.bytes + size > FTM_LARGE_CACHE_BYTES) {
			unsigned oldest = 0;
			for (unsigned i = 1; i < cache.n; i++)
				if (cache.slot[i].since < cache.slot[oldest].since)
					oldest = i;
			out[nout++] = take_slot(oldest);
		}
		cache.slot[cache.n++] = (cached_map){ base, size, cache.ops };
		cache.bytes += size;
	} else {
		out[nout++] = (cached_map){ base, size, 0 };
	}
	pthread_mutex_unlock(&cache.lock);
	for (unsigned i = 0; i < nout; i++)
		ftm_os_unmap(out[i].base, out[i].size);
}

void ftm_large_cache_lock(void) { pthread_mutex_lock(&cache.lock); }
void ftm_large_cache_unlock(void) { pthread_mutex_unlock(&cache.lock); }
void ftm_large_cache_atfork_child(void) { pthread_mutex_init(&cache.lock, NULL); }

/* malloc_trim(): every cached mapping goes. */
bool ftm_large_cache_trim(void)
{
	bool any = false;
	for (;;) {
		pthread_mutex_lock(&cache.lock);
		cached_map m = cache.n ? take_slot(0) : (cached_map){ 0 };
		pthread_mutex_unlock(&cache.lock);
		if (!m.base)
			return any;
		ftm_os_unmap(m.base, m.size);
		any = true;
	}
}

/* ---- allocation ----------------------------------------------------------- */

/* The RLIMIT_AS / RLIMIT_DATA limit, as last read.  Read again (two system
 * calls) only for a request beyond it: the limit may have been raised. */
static size_t vm_limit(size_t request)
{
	size_t limit = __atomic_load_n(&ftm_g.vm_limit, __ATOMIC_RELAXED);
	if (request > limit) {
		limit = ftm_os_vm_limit();
		__atomic_store_n(&ftm_g.vm_limit, limit, __ATOMIC_RELAXED);
	}
	return limit;
}

/*
 * A mapping for n bytes with the user pointer aligned to `align` (a power
 * of two >= 16), with `room` more bytes mapped after it for realloc to
 * grow into.  *fresh says whether the memory is new (zero-filled) or came
 * from the cache.
 */
static void *large_alloc(size_t n, size_t align, size_t room, bool *fresh)
{
	size_t page = ftm_g.page_size;
	size_t off = (FTM_LARGE_HDR + align - 1) & ~(align - 1);  /* user offset if align <= page */
	size_t slack = align > page ? align : 0;                  /* room to find an aligned spot */
	size_t span = n ? n : 1;         /* a 0-byte block still owns the byte at its pointer */
	size_t need;
	if (off < FTM_LARGE_HDR ||       /* align near 2^63: the rounding wrapped */
	    __builtin_add_overflow(off, slack, &need) ||
	    __builtin_add_overflow(need, span, &need) ||
	    __builtin_add_overflow(need, page, &need) ||
	    need > vm_limit(need)) {
		errno = ENOMEM;
		return NULL;
	}
	if (room > SIZE_MAX - need || need + room > vm_limit(need + room))
		room = 0;
	size_t len = ftm_page_round(off + slack + span + room);
	char *map = slack ? NULL : cache_get(len, &len);
	*fresh = !map;
	if (!map && room) {
		/* the room is a bonus: without it if it does not fit (and errno
		 * stays as it was: a request that succeeds leaves no trace) */
		int saved = errno;
		if (!(map = ftm_os_map(len))) {
			len = ftm_page_round(off + span);
			if ((map = cache_get(len, &len)))
				*fresh = false;
		}
		errno = saved;
	}
	if (!map && !(map = ftm_os_map(len)) &&
	    !(ftm_arena_reclaim(ftm_arena_get(), false) && (map = ftm_os_map(len))))
		return NULL;                    /* even after dropping every reserve */
	char *user = map + off;
	if (slack) {
		/* keep only the pages from the header before `user` to its end */
		user = (char *)(((uintptr_t)map + FTM_LARGE_HDR + align - 1) & ~(uintptr_t)(align - 1));
		char *start = (char *)((uintptr_t)(user - FTM_LARGE_HDR) & ~(uintptr_t)(page - 1));
		char *end = map + ftm_page_round((size_t)(user - map) + span);
		ftm_os_unmap(map, (size_t)(start - map));
		ftm_os_unmap(end, (size_t)(map + len - end));
		len = (size_t)(end - start);
		map = start;
	}
	ftm_large *l = (ftm_large *)map;
	l->map_size = len;
	l->req = n;
	l->user = user;
	seal(l);
	if (!ftm_pagemap_set(user, 1, (uintptr_t)l | FTM_OWNER_LARGE)) {
		ftm_os_unmap(map, len);
		return NULL;
	}
	return user;
}

void *ftm_large_alloc(size_t n, size_t align)
{
	bool fresh;
	return large_alloc(n, align, 0, &fresh);
}

/* n zeroed bytes: only memory from the cache needs clearing. */
void *ftm_large_alloc_zeroed(size_t n)
{
	bool fresh;
	void *p = large_alloc(n, FTM_ALIGN, 0, &fresh);
	if (p && !fresh)
		memset(p, 0, n);
	return p;
}

/* For realloc moving a block to n bytes: with half as much again mapped
 * after it (address space only, until touched), so that growing step by
 * step moves O(log n) times, not once a page. */
void *ftm_large_alloc_growing(size_t n)
{
	bool fresh;
	return large_alloc(n, FTM_ALIGN, n / 2, &fresh);
}

/* Is p the pointer of the LARGE block whose header is l? */
ftm_err ftm_large_lookup(ftm_large *l, void *p)
{
	if (l->check != ftm_large_check(l))
		return FTM_ERR_CORRUPT;
	return l->user == p ? FTM_OK : FTM_ERR_NOT_BLOCK;
}

size_t ftm_large_usable(const ftm_large *l)
{
	return (size_t)((const char *)l + l->map_size - (const char *)l->user);
}

void ftm_large_free(ftm_large *l)
{
	/* leave the page map first: from then on nobody can reach the header */
	ftm_pagemap_clear(l->user, 1);
	size_t size = l->map_size;
	l->check = 0;                       /* a stale pointer to it fails the check */
	if ((char *)l->user - (char *)l == (ptrdiff_t)FTM_LARGE_HDR)
		cache_put((char *)l, size);     /* plain layout: reusable as it is */
	else
		ftm_os_unmap(l, size);
}

/* Serve n bytes (n > FTM_SMALL_MAX) from the same address if possible. */
bool ftm_large_resize(ftm_large *l, size_t n)
{
	size_t head = (size_t)((char *)l->user - (char *)l);
	if (n > SIZE_MAX - head - ftm_g.page_size)
		return false;
	size_t want = ftm_page_round(head + n);
	if (want > l->map_size) {
		/* grow with half as much again to spare, or else just enough */
		size_t roomy = want + (n / 2 < SIZE_MAX - want ? ftm_page_round(n / 2) : 0);
		if (ftm_os_map_at((char *)l + l->map_size, roomy - l->map_size))
			want = roomy;
		else if (!ftm_os_map_at((char *)l + l->map_size, want - l->map_size))
			return false;
	} else if (want + 2 * ftm_g.page_size <= l->map_size && want < l->map_size - l->map_size / 4) {
		/* shrink by a quarter or more: the tail goes back (small shrinks keep their room) */
		ftm_os_unmap((char *)l + want, l->map_size - want);
	} else {
		want = l->map_size;
	}
	l->map_size = want;
	l->req = n;
	seal(l);
	return true;
}
