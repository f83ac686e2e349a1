/*
 * api_basic: malloc, free, malloc(0), free(NULL), alignment,
 * malloc_usable_size, and errno kept by free().
 */
#include "ftm_test.h"

static const size_t sizes[] = {
	0, 1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100, 127,
	128, 255, 256, 500, 512, 1000, 1008, 1016, 1023, 1024, 1025, 1040,
	2000, 2048, 4095, 4096, 4097, 8000, 10000, 16384, 30000, 32752,
	32767, 32768, 32769, 32784, 40000, 65536, 100000, 131072, 1000000,
	4194304, 16777216,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void test_sizes(void)
{
	void *p[NSIZES];
	size_t i, bad;

	for (i = 0; i < NSIZES; i++) {
		size_t n = sizes[i], u;
		const char *cls = ftm_class(n);

		p[i] = ftm_opaque(malloc(n));
		if (!ftm_check(p[i] != NULL, ftm_name("malloc(%zu) %s is not NULL", n, cls),
		    "malloc returned NULL (errno %d)", errno))
			continue;
		ftm_check(ftm_aligned(p[i], FTM_ALIGN),
		    ftm_name("malloc(%zu) %s is 16-aligned", n, cls), "got %p", p[i]);
		u = malloc_usable_size(p[i]);
		ftm_check(u >= n, ftm_name("malloc_usable_size(malloc(%zu)) >= %zu", n, n),
		    "usable size %zu", u);
		/* The whole usable area is ours to write. */
		memset(p[i], (int)(0x40 + i), u);
		FTM_CLOBBER();
	}
	/* Blocks do not overlap: each still holds its own byte. */
	for (i = 0; i < NSIZES; i++) {
		if (p[i] == NULL)
			continue;
		bad = ftm_find_not(p[i], malloc_usable_size(p[i]), (int)(0x40 + i));
		ftm_check(bad == (size_t)-1,
		    ftm_name("malloc(%zu) block keeps its contents", sizes[i]),
		    "byte %zu of %p changed", bad, p[i]);
	}
	for (i = 0; i < NSIZES; i++)
		free(p[i]);
	ftm_check(1, "free of every block returns", NULL);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static void test_malloc0(void)
{
	enum { N = 200 };
	void *p[N], *s[N];
	int i, nonnull = 1, aligned = 1, distinct = 1;

	for (i = 0; i < N; i++) {
		p[i] = ftm_opaque(malloc(0));
		nonnull &= p[i] != NULL;
		aligned &= ftm_aligned(p[i], FTM_ALIGN);
	}
	memcpy(s, p, sizeof s);
	qsort(s, N, sizeof s[0], cmp_ptr);
	for (i = 1; i < N; i++)
		if (s[i] == s[i - 1])
			distinct = 0;
	ftm_check(nonnull, "malloc(0) is not NULL", "got NULL");
	ftm_check(aligned, "malloc(0) is 16-aligned", NULL);
	ftm_check(distinct, "malloc(0) pointers are unique (200 live)", "two equal pointers");
	for (i = 0; i < N; i++)
		free(p[i]);
	ftm_check(1, "free(malloc(0)) is accepted", NULL);

	/* realloc(NULL, 0) is malloc(0) */
	p[0] = ftm_opaque(realloc(NULL, 0));
	ftm_check(p[0] != NULL && ftm_aligned(p[0], FTM_ALIGN),
	    "realloc(NULL, 0) is like malloc(0)", "got %p", p[0]);
	free(p[0]);
}

static void test_free_null(void)
{
	errno = 4321;
	free(NULL);
	ftm_check(errno == 4321, "free(NULL) does nothing (errno kept)", "errno %d", errno);
	free(ftm_opaque(NULL));
	ftm_check(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) == 0",
	    "got %zu", malloc_usable_size(NULL));
}

static void test_free_errno(void)
{
	static const size_t n[] = { 10, FTM_TINY_MAX, FTM_TINY_MAX + 1, 5000,
		FTM_SMALL_MAX, FTM_LARGE_MIN, 200000, 0 };
	size_t i;

	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		void *p = ftm_opaque(malloc(n[i]));
		if (p == NULL) {
			ftm_check(0, ftm_name("free keeps errno (%s %zu)", ftm_class(n[i]), n[i]),
			    "malloc failed");
			continue;
		}
		memset(p, 1, n[i]);
		errno = 1234;
		free(ftm_opaque(p));
		ftm_check(errno == 1234,
		    ftm_name("free keeps errno (%s %zu)", ftm_class(n[i]), n[i]),
		    "errno became %d", errno);
	}
	/* the same for the last block of a LARGE class that likely unmaps */
	{
		void *a = ftm_opaque(malloc(3 << 20)), *b = ftm_opaque(malloc(3 << 20));
		errno = 1234;
		free(b);
		free(a);
		ftm_check(errno == 1234, "free keeps errno (two 3 MiB LARGE)", "errno %d", errno);
	}
}

/* Many live blocks of every class at once: nothing overlaps. */
static void test_many_live(void)
{
	enum { N = 3000 };
	static void *p[N];
	static size_t sz[N];
	uint64_t rng = 12345;
	int i, bad = 0, badalign = 0;

	for (i = 0; i < N; i++) {
		size_t r = ftm_rand(&rng) % 100;
		sz[i] = r < 70 ? ftm_rand_range(&rng, 0, FTM_TINY_MAX)
		    : r < 97 ? ftm_rand_range(&rng, FTM_TINY_MAX + 1, FTM_SMALL_MAX)
		    : ftm_rand_range(&rng, FTM_LARGE_MIN, 300000);
		p[i] = ftm_opaque(malloc(sz[i]));
		if (p[i] == NULL) {
			bad++;
			continue;
		}
		badalign += !ftm_aligned(p[i], FTM_ALIGN);
		ftm_fill(p[i], sz[i], (uint64_t)i);
	}
	ftm_check(bad == 0, "3000 live mixed blocks allocated", "%d NULL", bad);
	ftm_check(badalign == 0, "3000 live mixed blocks are 16-aligned", "%d misaligned", badalign);
	bad = 0;
	for (i = 0; i < N; i++)
		if (p[i] && ftm_verify(p[i], sz[i], (uint64_t)i) != (size_t)-1)
			bad++;
	ftm_check(bad == 0, "3000 live mixed blocks keep their contents", "%d damaged", bad);
	for (i = 0; i < N; i += 2)
		free(p[i]);
	bad = 0;
	for (i = 1; i < N; i += 2)
		if (p[i] && ftm_verify(p[i], sz[i], (uint64_t)i) != (size_t)-1)
			bad++;
	ftm_check(bad == 0, "freeing every other block leaves the others intact", "%d damaged", bad);
	for (i = 1; i < N; i += 2)
		free(p[i]);
}

int main(void)
{
	ftm_begin("api_basic");
	test_sizes();
	test_malloc0();
	test_free_null();
	test_free_errno();
	test_many_live();
	return ftm_end();
}
