/*
 * api_realloc: realloc(NULL, n), realloc(p, 0), contents kept up to
 * min(old, new) when growing and shrinking inside TINY, SMALL and LARGE
 * and across the classes; reallocarray.
 */
#include "ftm_test.h"

static const size_t sizes[] = {
	1, 16, 17, 100, 512, 1000, 1024,                  /* TINY  */
	1025, 2000, 4096, 10000, 32768,                   /* SMALL */
	32769, 40000, 100000, 1 << 20, 3 << 20,           /* LARGE */
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void test_pairs(void)
{
	size_t i, j;
	int fails = 0, total = 0;

	for (i = 0; i < NSIZES; i++) {
		for (j = 0; j < NSIZES; j++) {
			size_t a = sizes[i], b = sizes[j], keep = a < b ? a : b, bad;
			uint64_t seed = i * 100 + j;
			void *p = ftm_opaque(malloc(a)), *q;
			const char *name = ftm_name("realloc %s %zu -> %s %zu",
			    ftm_class(a), a, ftm_class(b), b);

			total++;
			if (p == NULL) {
				fails++;
				ftm_check(0, name, "malloc(%zu) failed", a);
				continue;
			}
			ftm_fill(p, a, seed);
			q = ftm_opaque(realloc(p, b));
			if (q == NULL) {
				fails++;
				ftm_check(0, name, "realloc returned NULL (errno %d)", errno);
				free(p);
				continue;
			}
			bad = ftm_verify(q, keep, seed);
			if (bad != (size_t)-1 || !ftm_aligned(q, FTM_ALIGN) ||
			    malloc_usable_size(q) < b) {
				fails++;
				ftm_check(0, name, "byte %zd of %zu differs, ptr %p, usable %zu",
				    (ssize_t)bad, keep, q, malloc_usable_size(q));
			}
			memset(q, 0x5A, malloc_usable_size(q));
			free(ftm_opaque(q));
		}
	}
	ftm_check(fails == 0, ftm_name("realloc keeps min(old,new) bytes, %d size pairs", total),
	    "%d of %d pairs wrong (see above)", fails, total);
}

/* One block grown step by step through all classes, then shrunk back. */
static void test_walk(void)
{
	size_t n = 1, prev = 1, bad;
	unsigned char *p = ftm_opaque(malloc(1)), *q;
	int ok = 1, steps = 0;

	if (!ftm_check(p != NULL, "realloc walk: first malloc", "NULL"))
		return;
	p[0] = 0;
	/* grow: every byte i holds (unsigned char)(i * 7) */
	while (n < (2u << 20)) {
		n = n + n / 3 + 13;
		q = ftm_opaque(realloc(p, n));
		steps++;
		if (q == NULL) {
			ok = 0;
			ftm_check(0, "realloc walk up keeps contents", "NULL at %zu", n);
			free(p);
			return;
		}
		p = q;
		for (size_t i = 0; i < prev; i++)
			if (p[i] != (unsigned char)(i * 7)) {
				ok = 0;
				ftm_check(0, "realloc walk up keeps contents",
				    "byte %zu wrong after growing %zu -> %zu", i, prev, n);
				goto up_done;
			}
		for (size_t i = prev; i < n; i++)
			p[i] = (unsigned char)(i * 7);
		prev = n;
	}
up_done:
	if (ok)
		ftm_check(1, "realloc walk up keeps contents", NULL);
	ok = 1;
	while (n > 1) {
		n = n / 2;
		q = ftm_opaque(realloc(p, n));
		if (q == NULL) {
			ftm_check(0, "realloc walk down keeps contents", "NULL at %zu", n);
			free(p);
			return;
		}
		p = q;
		for (bad = 0; bad < n; bad++)
			if (p[bad] != (unsigned char)(bad * 7))
				break;
		if (bad < n && ok) {
			ok = 0;
			ftm_check(0, "realloc walk down keeps contents",
			    "byte %zu wrong after shrinking to %zu", bad, n);
		}
	}
	if (ok)
		ftm_check(1, "realloc walk down keeps contents", NULL);
	free(p);
	(void)steps;
}

/* Grow in place when the neighbour is free, shrink in place: contents. */
static void test_neighbours(void)
{
	static const size_t base[] = { 64, 2048, 40000 };
	size_t k;

	for (k = 0; k < 3; k++) {
		size_t n = base[k];
		void *a = ftm_opaque(malloc(n)), *b = ftm_opaque(malloc(n)),
		     *c = ftm_opaque(malloc(n)), *q;
		const char *name = ftm_name("realloc grows over a freed neighbour (%s)", ftm_class(n));

		if (!a || !b || !c) {
			ftm_check(0, name, "malloc failed");
			continue;
		}
		ftm_fill(a, n, 1);
		ftm_fill(c, n, 3);
		free(b);
		q = ftm_opaque(realloc(a, n + n / 2));
		ftm_check(q != NULL && ftm_verify(q, n, 1) == (size_t)-1 &&
		    ftm_verify(c, n, 3) == (size_t)-1, name,
		    "q=%p, a or c damaged", q);
		if (q) {
			ftm_fill(q, n + n / 2, 4);
			a = q;
		}
		q = ftm_opaque(realloc(a, n / 4));
		ftm_check(q != NULL && ftm_verify(q, n / 4, 4) == (size_t)-1 &&
		    ftm_verify(c, n, 3) == (size_t)-1,
		    ftm_name("realloc shrink keeps contents (%s)", ftm_class(n)), "q=%p", q);
		free(q ? q : a);
		free(c);
	}
}

static void test_null_zero(void)
{
	static const size_t n[] = { 0, 1, 100, 5000, 100000 };
	size_t i;

	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		unsigned char *p = ftm_opaque(realloc(NULL, n[i]));
		ftm_check(p != NULL && ftm_aligned(p, FTM_ALIGN) && malloc_usable_size(p) >= n[i],
		    ftm_name("realloc(NULL, %zu) is malloc(%zu)", n[i], n[i]),
		    "got %p usable %zu", (void *)p, p ? malloc_usable_size(p) : 0);
		if (p)
			memset(p, 0x33, n[i]);
		free(ftm_opaque(p));
	}
	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		void *p = ftm_opaque(malloc(n[i])), *q;
		if (p)
			memset(p, 0x44, n[i]);
		q = ftm_opaque(realloc(p, 0));
		ftm_check(p != NULL && q == NULL,
		    ftm_name("realloc(malloc(%zu), 0) returns NULL", n[i]),
		    "p=%p realloc gave %p", p, q);
		if (q != NULL)
			free(q);
	}
	/* realloc(p, 0) freed p: the allocator keeps working and
	 * (checked in ft_malloc.misuse) a later free(p) is a double free. */
	{
		void *p = ftm_opaque(malloc(50));
		ftm_check(p != NULL, "malloc after realloc(p, 0)", "NULL");
		free(p);
	}
}

static void test_reallocarray(void)
{
	unsigned char *p = ftm_opaque(malloc(100)), *q;
	size_t i;

	if (!ftm_check(p != NULL, "reallocarray setup", "malloc failed"))
		return;
	ftm_fill(p, 100, 77);
	errno = 0;
	q = ftm_opaque(reallocarray(p, ftm_size(SIZE_MAX / 2 + 1), 2));
	ftm_check(q == NULL && errno == ENOMEM,
	    "reallocarray(p, SIZE_MAX/2+1, 2) overflow is NULL with ENOMEM",
	    "got %p errno %d", (void *)q, errno);
	errno = 0;
	q = ftm_opaque(reallocarray(p, ftm_size((size_t)1 << 33), ftm_size((size_t)1 << 32)));
	ftm_check(q == NULL && errno == ENOMEM,
	    "reallocarray(p, 2^33, 2^32) overflow is NULL with ENOMEM",
	    "got %p errno %d", (void *)q, errno);
	ftm_check(ftm_verify(p, 100, 77) == (size_t)-1 && malloc_usable_size(p) >= 100,
	    "reallocarray overflow leaves the block untouched", "contents changed");
	q = ftm_opaque(reallocarray(p, 10, 1000));
	ftm_check(q != NULL && ftm_verify(q, 100, 77) == (size_t)-1 &&
	    malloc_usable_size(q) >= 10000,
	    "reallocarray(p, 10, 1000) grows and keeps contents", "got %p", (void *)q);
	if (q == NULL) {
		free(p);
		return;
	}
	for (i = 0; i < 10000; i++)
		q[i] = (unsigned char)i;
	FTM_CLOBBER();
	p = ftm_opaque(reallocarray(q, 3, 7));
	ftm_check(p != NULL && p[0] == 0 && p[20] == 20,
	    "reallocarray(p, 3, 7) shrinks and keeps contents", "got %p", (void *)p);
	free(p ? p : q);
	p = ftm_opaque(reallocarray(NULL, 25, 4));
	ftm_check(p != NULL && malloc_usable_size(p) >= 100 && ftm_aligned(p, FTM_ALIGN),
	    "reallocarray(NULL, 25, 4) is malloc(100)", "got %p", (void *)p);
	if (p)
		memset(p, 0, 100);
	free(ftm_opaque(p));
}

int main(void)
{
	ftm_begin("api_realloc");
	test_pairs();
	test_walk();
	test_neighbours();
	test_null_zero();
	test_reallocarray();
	return ftm_end();
}
