/*
 * api_huge: requests no allocator can satisfy are NULL with errno ENOMEM,
 * and realloc(p, huge) leaves p valid and unchanged.
 */
#include "ftm_test.h"

static void test_malloc(void)
{
	static const struct { size_t n; const char *s; } big[] = {
		{ SIZE_MAX, "SIZE_MAX" },
		{ SIZE_MAX - 4096, "SIZE_MAX-4096" },
		{ SIZE_MAX - 4095, "SIZE_MAX-4095" },
		{ SIZE_MAX - 16, "SIZE_MAX-16" },
		{ SIZE_MAX - 15, "SIZE_MAX-15" },
		{ (size_t)PTRDIFF_MAX + 1, "PTRDIFF_MAX+1" },
		{ (size_t)PTRDIFF_MAX + 4097, "PTRDIFF_MAX+4097" },
	};
	size_t i;

	for (i = 0; i < sizeof big / sizeof big[0]; i++) {
		void *p;
		errno = 0;
		p = ftm_opaque(malloc(ftm_size(big[i].n)));
		ftm_check(p == NULL && errno == ENOMEM,
		    ftm_name("malloc(%s): NULL, ENOMEM", big[i].s),
		    "got %p errno %d", p, errno);
		free(p);
	}
	/* calloc(1, SIZE_MAX) is in api_calloc.c; the allocator still works */
	{
		void *p = ftm_opaque(malloc(100));
		ftm_check(p != NULL, "malloc(100) after the huge requests", "NULL");
		free(p);
	}
}

static void test_realloc(void)
{
	static const size_t n[] = { 0, 40, 1000, 5000, 30000, 100000, 1 << 21 };
	static const struct { size_t n; const char *s; } big[] = {
		{ SIZE_MAX, "SIZE_MAX" },
		{ SIZE_MAX - 4096, "SIZE_MAX-4096" },
		{ (size_t)PTRDIFF_MAX + 1, "PTRDIFF_MAX+1" },
	};
	size_t i, j;

	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		for (j = 0; j < sizeof big / sizeof big[0]; j++) {
			void *p = ftm_opaque(malloc(n[i])), *q;
			if (p == NULL) {
				ftm_check(0, ftm_name("realloc(%zu, %s)", n[i], big[j].s), "malloc failed");
				continue;
			}
			ftm_fill(p, n[i], 1000 + i);
			errno = 0;
			q = ftm_opaque(realloc(p, ftm_size(big[j].n)));
			ftm_check(q == NULL && errno == ENOMEM,
			    ftm_name("realloc(malloc(%zu) %s, %s): NULL, ENOMEM", n[i],
				ftm_class(n[i]), big[j].s),
			    "got %p errno %d", q, errno);
			ftm_check(ftm_verify(p, n[i], 1000 + i) == (size_t)-1 &&
			    malloc_usable_size(p) >= n[i],
			    ftm_name("realloc(malloc(%zu), %s) leaves the block unchanged", n[i], big[j].s),
			    "contents or usable size changed");
			/* p is still a valid block: it can grow and be freed */
			q = ftm_opaque(realloc(p, n[i] + 10));
			ftm_check(q != NULL && ftm_verify(q, n[i], 1000 + i) == (size_t)-1,
			    ftm_name("block of %zu still valid after failed realloc(%s)", n[i], big[j].s),
			    "realloc(p, %zu) gave %p", n[i] + 10, q);
			free(q ? q : p);
		}
	}
}

static void test_aligned(void)
{
	void *p, *m = (void *)0x1234;
	int rc;

	rc = posix_memalign(&m, 64, ftm_size(SIZE_MAX));
	ftm_check(rc == ENOMEM && m == (void *)0x1234,
	    "posix_memalign(64, SIZE_MAX) is ENOMEM, *memptr unchanged", "rc %d memptr %p", rc, m);
	rc = posix_memalign(&m, 4096, ftm_size(SIZE_MAX - 4096));
	ftm_check(rc == ENOMEM && m == (void *)0x1234,
	    "posix_memalign(4096, SIZE_MAX-4096) is ENOMEM, *memptr unchanged",
	    "rc %d memptr %p", rc, m);
	rc = posix_memalign(&m, 16, ftm_size((size_t)PTRDIFF_MAX + 1));
	ftm_check(rc == ENOMEM && m == (void *)0x1234,
	    "posix_memalign(16, PTRDIFF_MAX+1) is ENOMEM, *memptr unchanged",
	    "rc %d memptr %p", rc, m);
	errno = 0;
	p = ftm_opaque(memalign(4096, ftm_size(SIZE_MAX - 100)));
	ftm_check(p == NULL && errno == ENOMEM, "memalign(4096, SIZE_MAX-100): NULL, ENOMEM",
	    "got %p errno %d", p, errno);
	free(p);
	errno = 0;
	p = ftm_opaque(aligned_alloc(64, ftm_size(SIZE_MAX - 32)));
	ftm_check(p == NULL && errno == ENOMEM, "aligned_alloc(64, SIZE_MAX-32): NULL, ENOMEM",
	    "got %p errno %d", p, errno);
	free(p);
}

int main(void)
{
	ftm_begin("api_huge");
	test_malloc();
	test_realloc();
	test_aligned();
	return ftm_end();
}
