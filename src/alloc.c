/*
 * alloc.c - the public allocation functions.
 *
 * Each one checks its arguments (overflow, alignment), then hands a size
 * and an alignment to ftm_alloc() (arena.c).  errno is set as POSIX says:
 * ENOMEM when memory cannot be had, EINVAL for a bad alignment.
 */
#include "tcache.h"
#include "ft_malloc.h"   /* the public prototypes, checked against the definitions */

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* No object may exceed PTRDIFF_MAX bytes (pointer differences must work). */
#define FTM_MAX_REQUEST ((size_t)PTRDIFF_MAX)

static inline bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

/* FT_MALLOC_TRACE: the line of a call refused for its arguments (an
 * overflow, a bad alignment), which returns NULL without reaching the
 * allocator: "TID FUNC [PTR] A B -> 0x0". */
static void trace_refused(const char *func, bool has_ptr, const void *p, size_t a, size_t b)
{
	ftm_init();                         /* the variables are read */
	if (FTM_TRACING())
		ftm_trace(&(ftm_call){ func, has_ptr, p, 2, a, b, true, true, 0 });
}

static void *alloc_or_enomem(size_t n, size_t align)
{
	if (ftm_unlikely(n > FTM_MAX_REQUEST)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = ftm_alloc(n, align);
	if (ftm_unlikely(!p))
		errno = ENOMEM;
	else if (ftm_unlikely(ftm_debug_on))
		ftm_debug_new(p, n, "malloc");      /* fills, the freed-memory check */
	return p;
}

/* Everything malloc's fast path does not handle: a refill of this
 * thread's cache, or the arena. */
static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	if (n <= FTM_TCACHE_MAX_REQ && !ftm_debug_on) {
		void *p = ftm_tcache_pop_slow(&ftm_tc, ftm_tc_class(n), n);
		if (p)
			return p;
	}
	ftm_init();
	void *p = alloc_or_enomem(n, FTM_ALIGN);
	if (FTM_TRACING())
		ftm_trace(&(ftm_call){ "malloc", false, NULL, 1, n, 0, true, true, (uintptr_t)p });
	return p;
}

FTM_EXPORT void *malloc(size_t n)
{
	if (ftm_likely(n <= FTM_TCACHE_MAX_REQ)) {  /* the fast path: this thread's cache */
		void *p = ftm_tcache_pop(n);
		if (ftm_likely(p != NULL)) {
			FTM_COUNT(ftm_tc.st.malloc_hits);
			return p;
		}
	}
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_MALLOC]);
	return malloc_slow(n);
}

FTM_EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t n;
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_CALLOC]);
	ftm_init();
	if (__builtin_mul_overflow(nmemb, size, &n) || n > FTM_MAX_REQUEST) {
		trace_refused("calloc", false, NULL, nmemb, size);
		errno = ENOMEM;
		return NULL;
	}
	if (ftm_unlikely(ftm_debug_on)) {         /* checked like malloc's, then zeroed */
		void *p = alloc_or_enomem(n, FTM_ALIGN);
		if (p)
			memset(p, 0, n);
		if (FTM_TRACING())
			ftm_trace(&(ftm_call){ "calloc", false, NULL, 2, nmemb, size, true, true, (uintptr_t)p });
		return p;
	}
	if (n <= FTM_TCACHE_MAX_REQ) {
		void *p = ftm_tcache_pop(n);
		if (!p)
			p = ftm_tcache_pop_slow(&ftm_tc, ftm_tc_class(n), n);
		if (p)
			return memset(p, 0, n);
	}
	void *p = ftm_alloc_zeroed(n);
	if (!p)
		errno = ENOMEM;
	return p;
}

/* The usable size of the live block p; 0 if p is refused as misuse. */
static size_t usable_size(void *p, const char *func)
{
	uintptr_t o = ftm_owner_of(p, func);
	if (!o)
		return 0;
	if (o & FTM_OWNER_LARGE) {
		ftm_large *l = ftm_large_of(o, p, func);
		return l ? ftm_large_usable(l) : 0;
	}
	ftm_zone *z = (ftm_zone *)o;
	ftm_block *b = NULL;
	ftm_lock(&z->heap->arena->lock);
	ftm_err e = ftm_zone_lookup(z, p, &b);
	size_t n = e ? 0 : ftm_bsize(b) - FTM_HDR;
	ftm_unlock(&z->heap->arena->lock);
	if (e)
		ftm_refuse(func, e, p, 0);
	return n;
}

enum resize { RESIZED, NOT_RESIZED, REFUSED };

/* Try to serve n bytes at p itself; *old gets the usable size otherwise. */
static enum resize resize_in_place(void *p, size_t n, size_t *old)
{
	uintptr_t o = ftm_owner_of(p, "realloc");
	if (!o)
		return REFUSED;
	if (o & FTM_OWNER_LARGE) {
		ftm_large *l = ftm_large_of(o, p, "realloc");
		if (!l)
			return REFUSED;
		/* stays LARGE only while it is a LARGE request */
		if (n > FTM_SMALL_MAX && ftm_large_resize(l, n))
			return RESIZED;
		*old = ftm_large_usable(l);
		return NOT_RESIZED;
	}
	ftm_zone *z = (ftm_zone *)o;
	ftm_heap *h = z->heap;
	ftm_block *b = NULL;
	bool done = false;
	ftm_lock(&h->arena->lock);
	ftm_err e = ftm_zone_lookup(z, p, &b);
	if (!e) {
		/* a block stays in its zone only while the request keeps its kind */
		size_t floor = h->kind == FTM_TINY ? 0 : FTM_TINY_MAX;
		if (n > floor && n <= h->max_request)
			e = ftm_zone_resize(z, b, n, &done);
		*old = ftm_bsize(b) - FTM_HDR;
	}
	ftm_unlock(&h->arena->lock);
	if (e) {
		ftm_refuse("realloc", e, p, 0);
		return REFUSED;
	}
	return done ? RESIZED : NOT_RESIZED;
}

/*
 * realloc's fast path, for a live block up to 4 KiB resized to at most
 * 4 KiB: its header is read and checked as in free's fast path (tcache.h).
 * The block stays when n still fits, fills at least half of it and keeps
 * its class (TINY or SMALL); else it moves through this thread's cache,
 * with no lock.  False: the slow path decides (and diagnoses).
 */
static bool realloc_small(void *p, size_t n, void **out)
{
	if (n > FTM_TCACHE_MAX_REQ || !ftm_fast_ptr(p) || !ftm_cacheable(p) || ftm_is_cached(p))
		return false;
	ftm_block *b = ftm_bof(p);
	size_t usable = (FTM_LOAD(b->size_flags) & ~FTM_B_FLAGS) - FTM_HDR;   /* no lock held */
	if (n <= usable && 2 * n >= usable && (n > FTM_TINY_MAX) == (usable > FTM_TINY_MAX + FTM_ALIGN)) {
		FTM_STORE(b->req, (uint32_t)n);
		*out = p;
		return true;
	}
	void *q = ftm_tcache_pop(n);        /* malloc and free, not counted as calls */
	if (!q)
		q = malloc_slow(n);
	if (q) {                    /* else NULL with ENOMEM, and p stays as it was */
		memcpy(q, p, n < usable ? n : usable);
		ftm_tcache_free(p, false);
	}
	*out = q;
	return true;
}

static void *realloc_slow(void *p, size_t n);

/* realloc, for realloc and reallocarray. */
static void *resize(void *p, size_t n)
{
	void *q;
	if (p && n && !ftm_debug_on && realloc_small(p, n, &q))
		return q;
	q = realloc_slow(p, n);
	if (FTM_TRACING())
		ftm_trace(&(ftm_call){ "realloc", true, p, 1, n, 0, true, true, (uintptr_t)q });
	return q;
}

FTM_EXPORT void *realloc(void *p, size_t n)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_REALLOC]);
	return resize(p, n);
}

/* Everything realloc's fast path (realloc_small()) does not take. */
static __attribute__((noinline)) void *realloc_slow(void *p, size_t n)
{
	void *q;
	ftm_init();
	if (!p)
		return alloc_or_enomem(n, FTM_ALIGN);
	if (n == 0) {               /* glibc: frees and returns NULL */
		ftm_free_ptr(p, "realloc");
		return NULL;
	}
	size_t old = 0;
	switch (resize_in_place(p, n, &old)) {
	case RESIZED:
		return p;
	case REFUSED:               /* misuse, and the setting says go on */
		errno = EINVAL;
		return NULL;
	case NOT_RESIZED:
		break;
	}
	/* a block that grows into LARGE gets room to grow on (large.c) */
	bool growing = n > FTM_SMALL_MAX && n <= FTM_MAX_REQUEST && n > old;
	q = growing ? ftm_large_alloc_growing(n) : alloc_or_enomem(n, FTM_ALIGN);
	if (!q) {
		errno = ENOMEM;
		return NULL;            /* p stays valid and unchanged */
	}
	if (growing && ftm_unlikely(ftm_debug_on))
		ftm_debug_new(q, n, "realloc");   /* the fill, as alloc_or_enomem does */
	memcpy(q, p, old < n ? old : n);
	ftm_free_ptr(p, "realloc");
	return q;
}

FTM_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_REALLOCARRAY]);
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		trace_refused("reallocarray", true, p, nmemb, size);
		errno = ENOMEM;
		return NULL;
	}
	return resize(p, n);
}

/* An aligned allocation for func; align is any power of two. */
static void *aligned(const char *func, size_t align, size_t n)
{
	ftm_init();
	void *p = alloc_or_enomem(n, align < FTM_ALIGN ? FTM_ALIGN : align);
	if (FTM_TRACING())
		ftm_trace(&(ftm_call){ func, false, NULL, 2, align, n, true, true, (uintptr_t)p });
	return p;
}

FTM_EXPORT int posix_memalign(void **memptr, size_t align, size_t n)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_POSIX_MEMALIGN]);
	if (!is_pow2(align) || align % sizeof(void *)) {
		trace_refused("posix_memalign", false, NULL, align, n);
		return EINVAL;          /* *memptr is left alone */
	}
	int saved = errno;
	void *p = aligned("posix_memalign", align, n);
	errno = saved;
	if (!p)
		return ENOMEM;
	*memptr = p;
	return 0;
}

FTM_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_ALIGNED_ALLOC]);
	if (!is_pow2(align)) {
		trace_refused("aligned_alloc", false, NULL, align, n);
		errno = EINVAL;
		return NULL;
	}
	return aligned("aligned_alloc", align, n);
}

FTM_EXPORT void *memalign(size_t align, size_t n)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_MEMALIGN]);
	/* as glibc: a non-power-of-two alignment is rounded up */
	if (align > (SIZE_MAX >> 1) + 1) {
		trace_refused("memalign", false, NULL, align, n);
		errno = EINVAL;
		return NULL;
	}
	if (!is_pow2(align))
		align = align <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzll(align));
	return aligned("memalign", align, n);
}

FTM_EXPORT void *valloc(size_t n)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_VALLOC]);
	ftm_init();
	return aligned("valloc", ftm_g.page_size, n);
}

FTM_EXPORT void *pvalloc(size_t n)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_PVALLOC]);
	ftm_init();
	size_t page = ftm_g.page_size;
	if (n > SIZE_MAX - page) {
		trace_refused("pvalloc", false, NULL, page, n);
		errno = ENOMEM;
		return NULL;
	}
	n = n ? ftm_page_round(n) : page;
	return aligned("pvalloc", page, n);
}

FTM_EXPORT size_t malloc_usable_size(void *p)
{
	FTM_COUNT(ftm_tc.st.calls[FTM_FN_USABLE_SIZE]);
	ftm_init();
	size_t n = p ? usable_size(p, "malloc_usable_size") : 0;
	if (FTM_TRACING())
		ftm_trace(&(ftm_call){ "malloc_usable_size", true, p, 0, 0, 0, true, false, n });
	return n;
}
