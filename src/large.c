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
 * after the block when they are free, with room to spare (a block it moves
 * to a fresh mapping gets free address space above it, spaced_map()), and
 * shrinks by unmapping the tail.
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

/* ---- the cache of freed spans -------------------------------------------- */

/*
 * Freed LARGE mappings stay mapped for a while as "spans": page-aligned
 * address ranges, resident already, so a loop of large malloc/free neither
 * maps nor faults fresh pages each turn, and no munmap (with its TLB
 * shootdown in a threaded program) happens per free.
 *  - A span that comes back merges with a cached span right before or
 *    after it in the address space.
 *  - An allocation takes the smallest span that is big enough: whole when
 *    the rest would be small (it is room to grow), else it is cut in two and
 *    the tail stays cached.
 *  - The cache holds at most FTM_LARGE_CACHE_SLOTS spans and `budget`
 *    bytes: what live LARGE bytes leave of their recent peak (so caching
 *    adds no peak RSS), at most 3/4 of that peak; at least
 *    FTM_LARGE_CACHE_BYTES, never more than FTM_LARGE_CACHE_MAX_BYTES
 *    (FT_MALLOC_LARGE_CACHE_MB) or
 *    1/8 of the memory limit.  Beyond that the oldest spans go.
 *  - A span unused for FTM_LARGE_CACHE_OPS LARGE operations goes.
 * Cached spans are out of the page map, so a double free is still caught.
 */
typedef struct cached_span {
	char *base;
	size_t size;
	uint64_t since;         /* cache.ops when it was cached */
} cached_span;

static struct {
	pthread_mutex_t lock;
	cached_span s[FTM_LARGE_CACHE_SLOTS];
	unsigned n;
	size_t bytes;           /* in all spans */
	uint64_t ops;           /* LARGE allocations and frees: the clock */
	size_t live;            /* bytes of LARGE mappings in use */
	size_t peak;            /* recent peak of live: decays by 1/4 every 256 ops */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Spans to unmap once the lock is dropped. */
typedef struct span_list {
	unsigned n;
	cached_span s[FTM_LARGE_CACHE_SLOTS + 2];
} span_list;

static void unmap_all(const span_list *out)
{
	for (unsigned i = 0; i < out->n; i++)
		ftm_os_unmap(out->s[i].base, out->s[i].size);
}

/* Forget span i (the caller unmaps or uses it). */
static cached_span take_span(unsigned i)
{
	cached_span m = cache.s[i];
	cache.s[i] = cache.s[--cache.n];
	cache.bytes -= m.size;
	return m;
}

static size_t budget(void)
{
	/* what the live blocks left of the recent peak, so that live and
	 * cached bytes together stay under it, but at most 3/4 of it */
	size_t room = cache.peak > cache.live ? cache.peak - cache.live : 0;
	size_t b = cache.peak - cache.peak / 4, limit = ftm_g.vm_limit / 8;
	if (b > room)
		b = room;
	if (b < FTM_LARGE_CACHE_BYTES)
		b = FTM_LARGE_CACHE_BYTES;
	if (b > ftm_opt.large_cache_max)         /* FT_MALLOC_LARGE_CACHE_MB; 0: no cache */
		b = ftm_opt.large_cache_max;
	return b < limit ? b : limit;
}

/* Forget the span cached longest ago (lock held, the cache not empty). */
static cached_span take_oldest(void)
{
	unsigned oldest = 0;
	for (unsigned i = 1; i < cache.n; i++)
		if (cache.s[i].since < cache.s[oldest].since)
			oldest = i;
	return take_span(oldest);
}

/* One tick of the clock (lock held): spans too old go to *out. */
static void tick(span_list *out)
{
	cache.ops++;
	if (!(cache.ops & 255)) {
		size_t decayed = cache.peak - cache.peak / 4;
		cache.peak = decayed > cache.live ? decayed : cache.live;
	}
	for (unsigned i = 0; i < cache.n && out->n < FTM_LARGE_CACHE_SLOTS;)
		if (cache.ops - cache.s[i].since > FTM_LARGE_CACHE_OPS)
			out->s[out->n++] = take_span(i);
		else
			i++;
}

/* len more bytes of LARGE mappings are in use (cache lock held). */
static void count_live(size_t len)
{
	cache.live += len;
	cache.peak = cache.live > cache.peak ? cache.live : cache.peak;
}

/* A cached span of at least len bytes (*got of them), or NULL.  `growing`:
 * for a block that realloc grows, which takes a span whole unless it is 64
 * times the need: its pages are resident already, and the block grows into
 * them instead of mapping fresh ones (the realloc benchmark: 10% fewer
 * page faults, 5% less peak RSS). */
static char *cache_get(size_t len, size_t *got, bool growing)
{
	span_list out = { 0 };
	char *base = NULL;
	ftm_lock(&cache.lock);
	int best = -1;
	for (unsigned i = 0; i < cache.n; i++)
		if (cache.s[i].size >= len && (best < 0 || cache.s[i].size < cache.s[best].size))
			best = (int)i;
	if (best >= 0) {
		cached_span *m = &cache.s[best];
		size_t rest = m->size - len;
		base = m->base;
		if (rest >= FTM_LARGE_SPLIT_MIN && rest >= (growing ? 63 * len : len / 4)) {
			m->base += len;              /* cut: the tail stays cached */
			m->size = rest;
			cache.bytes -= len;
		} else {
			len = take_span((unsigned)best).size;   /* whole: the rest is room */
		}
		*got = len;
		count_live(len);
	}
	tick(&out);
	ftm_unlock(&cache.lock);
	unmap_all(&out);
	return base;
}

/*
 * No cached span is big enough for len bytes: take the biggest, if it is
 * at least a quarter of the need, and map the pages it lacks right after
 * it or right before it (never over anything: MAP_FIXED_NOREPLACE), so
 * that only those are fresh.  NULL if there is none or no room around it;
 * the span then goes back.
 */
static char *cache_grow(size_t len, size_t *got)
{
	cached_span m = { 0 };
	ftm_lock(&cache.lock);
	int big = -1;
	for (unsigned i = 0; i < cache.n; i++)
		if (big < 0 || cache.s[i].size > cache.s[big].size)
			big = (int)i;
	if (big >= 0 && cache.s[big].size >= len / 4 && cache.s[big].size < len)
		m = take_span((unsigned)big);
	ftm_unlock(&cache.lock);
	if (!m.base)
		return NULL;
	size_t need = len - m.size;
	char *base = NULL;
	if (ftm_os_map_at(m.base + m.size, need))
		base = m.base;
	else if ((uintptr_t)m.base > need + ftm_g.page_size && ftm_os_map_at(m.base - need, need))
		base = m.base - need;
	ftm_lock(&cache.lock);
	if (base) {
		count_live(len);
	} else if (cache.n < FTM_LARGE_CACHE_SLOTS) {
		cache.s[cache.n++] = m;          /* back, as it was */
		cache.bytes += m.size;
		m.base = NULL;
	}
	ftm_unlock(&cache.lock);
	if (!base) {
		if (m.base)                      /* the cache filled up meanwhile */
			ftm_os_unmap(m.base, m.size);
		return NULL;
	}
	*got = len;
	return base;
}

/*
 * No cached span could serve a request of len bytes, which fresh pages
 * will: unmap the oldest spans, about len bytes of them, first.  Resident
 * memory then does not grow by the request on top of a cache that could
 * not serve it (the large benchmark's peak: 136 -> 111 MiB).
 */
static void cache_release(size_t len)
{
	span_list out = { 0 };
	ftm_lock(&cache.lock);
	size_t freed = 0;
	while (freed < len && cache.n) {
		out.s[out.n] = take_oldest();
		freed += out.s[out.n++].size;
	}
	ftm_unlock(&cache.lock);
	unmap_all(&out);
}

/* A fresh mapping of len bytes is in use: count it. */
static void cache_note_mapped(size_t len)
{
	ftm_lock(&cache.lock);
	count_live(len);
	ftm_unlock(&cache.lock);
}

/*
 * Take the bytes [addr, addr + len) out of a cached span that starts at
 * addr, if there is one that long: realloc grows into the span that
 * follows its block.  True if taken.
 */
static bool cache_take_at(char *addr, size_t len)
{
	bool ok = false;
	ftm_lock(&cache.lock);
	for (unsigned i = 0; i < cache.n; i++)
		if (cache.s[i].base == addr && cache.s[i].size >= len) {
			if (cache.s[i].size == len) {
				take_span(i);
			} else {
				cache.s[i].base += len;
				cache.s[i].size -= len;
				cache.bytes -= len;
			}
			count_live(len);
			ok = true;
			break;
		}
	ftm_unlock(&cache.lock);
	return ok;
}

/* `size` bytes at base are no longer in use: cache them (merged with their
 * neighbours) or, beyond the bounds, unmap the oldest spans. */
static void cache_put(char *base, size_t size)
{
	span_list out = { 0 };
	ftm_lock(&cache.lock);
	cache.live -= size;
	uint64_t since = cache.ops + 1;
	for (unsigned i = 0; i < cache.n;) {
		cached_span *m = &cache.s[i];
		if (m->base + m->size == base || base + size == m->base) {
			cached_span t = take_span(i);       /* merged into the new span */
			base = t.base < base ? t.base : base;
			size += t.size;
		} else {
			i++;
		}
	}
	size_t cap = budget();
	if (size > cap) {
		out.s[out.n++] = (cached_span){ base, size, 0 };
	} else {
		while (cache.n == FTM_LARGE_CACHE_SLOTS || cache.bytes + size > cap)
			out.s[out.n++] = take_oldest();
		cache.s[cache.n++] = (cached_span){ base, size, since };
		cache.bytes += size;
	}
	tick(&out);
	ftm_unlock(&cache.lock);
	unmap_all(&out);
}

void ftm_large_cache_lock(void) { ftm_lock(&cache.lock); }
void ftm_large_cache_unlock(void) { ftm_unlock(&cache.lock); }
void ftm_large_cache_atfork_child(bool held)
{
	if (held)
		pthread_mutex_unlock(&cache.lock);
}

/* malloc_trim(): every cached span goes. */
bool ftm_large_cache_trim(void)
{
	bool any = false;
	for (;;) {
		ftm_lock(&cache.lock);
		cached_span m = cache.n ? take_span(0) : (cached_span){ 0 };
		ftm_unlock(&cache.lock);
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
/*
 * Whether a fresh mapping of len bytes asks for transparent huge pages.
 * They save a page fault per 4 KiB of a buffer that is written whole, but
 * a page touched once then costs 2 MiB of memory: only for buffers of
 * 4 to 64 MiB, which malloc (not calloc, that often makes big tables used
 * sparsely) asked for, and never for realloc's untouched room.
 */
static bool huge_ok(size_t len, bool zeroed)
{
	return !zeroed && len >= FTM_LARGE_HUGE_MIN && len <= FTM_LARGE_HUGE_MAX;
}

/*
 * A fresh mapping of len bytes for a block that realloc grows, with free
 * address space above it (four times len, at least FTM_LARGE_GAP) so that
 * when it outgrows its room it grows in place (ftm_large_resize()) instead
 * of moving, with a copy, to fresh pages.  It goes below the lowest such
 * mapping so far, where the kernel, which places mappings top down, has
 * not come yet; the kernel puts it elsewhere if that range is taken, and
 * the next one is tried lower.  Eight strings and eight arrays grown
 * interleaved (the realloc benchmark): in-place growth failed, and the
 * block moved, 1,010 times a run instead of 86; page faults 31,000-35,000
 * instead of 23,000; peak RSS 68 instead of 60 MiB.
 */
static _Atomic uintptr_t growing_floor;

static void *spaced_map(size_t len)
{
	uintptr_t floor = atomic_load_explicit(&growing_floor, memory_order_relaxed);
	size_t gap = len < FTM_LARGE_GAP / 4 ? FTM_LARGE_GAP : 4 * len;
	uintptr_t hint = 0;
	if (floor > gap + len + ((uintptr_t)1 << 32) && len <= FTM_LARGE_GAP)
		hint = (floor - gap - len) & ~(uintptr_t)(ftm_g.page_size - 1);
	char *map = ftm_os_map_near((void *)hint, len);
	uintptr_t low = map && (uintptr_t)map != hint && hint ? hint : (uintptr_t)map;
	if (map && (!floor || low < floor))
		atomic_store_explicit(&growing_floor, low, memory_order_relaxed);
	return map;
}

/*
 * FT_MALLOC_GUARD: a mapping of its own whose last page is inaccessible.
 * FT_MALLOC_GUARD=large: the block at the mapping's start as usual, with
 * `room` to grow into (realloc), so a write past the mapping's last page
 * faults.  FT_MALLOC_GUARD=all (every block comes here): the block ends
 * right before the guard (as near as the alignment lets: 15 bytes at most
 * for malloc), so a write past its end faults at once; it cannot grow in
 * place.  Never cached: freed, it is unmapped.  Fresh, so zeroed.
 */
/* FT_MALLOC_STATS: the LARGE block l was handed out (+1) or freed (-1). */
static void stats_block(const ftm_large *l, int delta)
{
	ftm_stats_held(delta * (int64_t)ftm_large_usable(l), delta);
	ftm_stats_zone(FTM_LARGE, delta);
}

/* FT_MALLOC_STATS: a LARGE block was looked for in the cache, and found
 * there (hit) or not. */
static void stats_cache(bool hit)
{
	atomic_fetch_add_explicit(hit ? &ftm_gst.large_hits : &ftm_gst.large_misses, 1,
	                          memory_order_relaxed);
}

static void *guarded_alloc(size_t n, size_t align, size_t room)
{
	size_t page = ftm_g.page_size, extent = n ? n : 1, need;
	if (__builtin_add_overflow(extent, FTM_LARGE_HDR + align + 2 * page, &need) ||
	    need > vm_limit(need)) {
		errno = ENOMEM;
		return NULL;
	}
	if (room > SIZE_MAX - need || need + room > vm_limit(need + room))
		room = 0;
	size_t len = ftm_page_round(FTM_LARGE_HDR + align + extent + room) + page;
	char *map = ftm_os_map(len);
	if (!map && !(ftm_reclaim_all() && (map = ftm_os_map(len))))
		return NULL;
	char *guard = map + len - page;
	uintptr_t mask = ~(uintptr_t)(align - 1);
	char *user = ftm_opt.guard == FTM_GUARD_ALL
	             ? (char *)(((uintptr_t)guard - extent) & mask)
	             : (char *)(((uintptr_t)map + FTM_LARGE_HDR + align - 1) & mask);
	ftm_large *l = (ftm_large *)map;
	l->map_size = len | FTM_LARGE_GUARDED;
	l->req = n;
	l->user = user;
	seal(l);
	if (!ftm_os_guard(guard, page) || !ftm_pagemap_set(user, 1, (uintptr_t)l | FTM_OWNER_LARGE)) {
		ftm_os_unmap(map, len);
		return NULL;
	}
	if (FTM_STATS_ON())
		stats_block(l, 1);
	return user;
}

static void *large_alloc(size_t n, size_t align, size_t room, bool zeroed, bool *fresh)
{
	if (ftm_unlikely(ftm_opt.guard != FTM_GUARD_OFF)) {
		*fresh = true;
		return guarded_alloc(n, align, room);
	}
	size_t page = ftm_g.page_size;
	size_t off = (FTM_LARGE_HDR + align - 1) & ~(align - 1);  /* user offset if align <= page */
	size_t slack = align > page ? align : 0;                  /* room to find an aligned spot */
	size_t extent = n ? n : 1;         /* a 0-byte block still owns the byte at its pointer */
	size_t need;
	if (off < FTM_LARGE_HDR ||       /* align near 2^63: the rounding wrapped */
	    __builtin_add_overflow(off, slack, &need) ||
	    __builtin_add_overflow(need, extent, &need) ||
	    __builtin_add_overflow(need, page, &need) ||
	    need > vm_limit(need)) {
		errno = ENOMEM;
		return NULL;
	}
	if (room > SIZE_MAX - need || need + room > vm_limit(need + room))
		room = 0;
	size_t len = ftm_page_round(off + slack + extent + room);
	char *map = slack ? NULL : cache_get(len, &len, room != 0);
	if (!map && !slack && !room && !zeroed)
		/* a cached span and fresh pages beside it (not for calloc: it
		 * would clear the fresh pages, which are zero already) */
		map = cache_grow(len, &len);
	*fresh = !map;
	if (!map && room) {
		/* the room is a bonus: without it if it does not fit */
		if (!(map = spaced_map(len))) {
			len = ftm_page_round(off + extent);
			if ((map = cache_get(len, &len, false)))
				*fresh = false;
		}
	}
	if (!map && !room && !slack)    /* the cache was asked, and could not serve */
		cache_release(len);
	if (!map && !(map = ftm_os_map(len)) &&
	    !(ftm_reclaim_all() && (map = ftm_os_map(len))))
		return NULL;                    /* even after dropping every reserve */
	char *user = map + off;
	if (slack) {
		/* keep only the pages from the header before `user` to its end */
		user = (char *)(((uintptr_t)map + FTM_LARGE_HDR + align - 1) & ~(uintptr_t)(align - 1));
		char *start = (char *)((uintptr_t)(user - FTM_LARGE_HDR) & ~(uintptr_t)(page - 1));
		char *end = map + ftm_page_round((size_t)(user - map) + extent);
		ftm_os_unmap(map, (size_t)(start - map));
		ftm_os_unmap(end, (size_t)(map + len - end));
		len = (size_t)(end - start);
		map = start;
	}
	if (*fresh)
		cache_note_mapped(len);
	if (!room && huge_ok(len, zeroed))
		ftm_os_hint_huge(map, len);  /* fresh, or a reused span that was not asked yet */
	ftm_large *l = (ftm_large *)map;
	l->map_size = len;
	l->req = n;
	l->user = user;
	seal(l);
	if (!ftm_pagemap_set(user, 1, (uintptr_t)l | FTM_OWNER_LARGE)) {
		cache_put(map, len);
		return NULL;
	}
	if (FTM_STATS_ON()) {
		stats_block(l, 1);
		if (!slack)
			stats_cache(!*fresh);
	}
	return user;
}

void *ftm_large_alloc(size_t n, size_t align)
{
	bool fresh;
	return large_alloc(n, align, 0, false, &fresh);
}

/* n zeroed bytes: only memory from the cache needs clearing. */
void *ftm_large_alloc_zeroed(size_t n)
{
	bool fresh;
	void *p = large_alloc(n, FTM_ALIGN, 0, true, &fresh);
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
	return large_alloc(n, FTM_ALIGN, n / 2, false, &fresh);
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
	size_t guard = l->map_size & FTM_LARGE_GUARDED ? ftm_g.page_size : 0;
	return (size_t)((const char *)l + ftm_large_len(l) - guard - (const char *)l->user);
}

void ftm_large_free(ftm_large *l)
{
	/* leave the page map first: from then on nobody can reach the header */
	ftm_pagemap_clear(l->user, 1);
	if (FTM_STATS_ON())
		stats_block(l, -1);
	size_t size = ftm_large_len(l);
	bool guarded = l->map_size & FTM_LARGE_GUARDED;
	l->check = 0;                       /* a stale pointer to it fails the check */
	if (guarded)
		ftm_os_unmap(l, size);          /* never cached: it holds a guard page */
	else
		cache_put((char *)l, size);
}

/* Serve n bytes (n > FTM_SMALL_MAX) from the same address if possible. */
bool ftm_large_resize(ftm_large *l, size_t n)
{
	size_t head = (size_t)((char *)l->user - (char *)l);
	if (l->map_size & FTM_LARGE_GUARDED) {
		/* up to its guard page, never past it: else it moves */
		if (n > ftm_large_usable(l))
			return false;
		FTM_STORE(l->req, n);
		return true;
	}
	size_t old = ftm_large_usable(l);
	if (n > SIZE_MAX - head - ftm_g.page_size)
		return false;
	size_t want = ftm_page_round(head + n);
	if (want > l->map_size) {
		/* grow with half as much again to spare, or else just enough */
		size_t roomy = want + (n / 2 < SIZE_MAX - want ? ftm_page_round(n / 2) : 0);
		char *end = (char *)l + l->map_size;
		if (cache_take_at(end, roomy - l->map_size))      /* a cached span follows */
			want = roomy;
		else if (cache_take_at(end, want - l->map_size))
			;
		else if (ftm_os_map_at(end, roomy - l->map_size))
			cache_note_mapped((want = roomy) - l->map_size);
		else if (ftm_os_map_at(end, want - l->map_size))
			cache_note_mapped(want - l->map_size);
		else
			return false;
	} else if (want + 2 * ftm_g.page_size <= l->map_size && want < l->map_size - l->map_size / 4) {
		/* shrink by a quarter or more: the tail goes to the cache (small
		 * shrinks keep their room) */
		cache_put((char *)l + want, l->map_size - want);
	} else {
		want = l->map_size;
	}
	l->map_size = want;
	FTM_STORE(l->req, n);
	seal(l);
	if (FTM_STATS_ON())
		ftm_stats_held((int64_t)ftm_large_usable(l) - (int64_t)old, 0);
	return true;
}
