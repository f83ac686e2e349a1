/*
 * api_align: posix_memalign, aligned_alloc, memalign, valloc, pvalloc.
 */
#include "ftm_test.h"

static const size_t sizes[] = { 0, 1, 100, 5000, 100000 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void check_block(void *p, size_t align, size_t n, const char *name)
{
	size_t u;

	if (!ftm_check(p != NULL, ftm_name("%s is not NULL", name), "NULL, errno %d", errno))
		return;
	ftm_check(ftm_aligned(p, align) && ftm_aligned(p, FTM_ALIGN),
	    ftm_name("%s is %zu-aligned", name, align < FTM_ALIGN ? FTM_ALIGN : align),
	    "got %p", p);
	u = malloc_usable_size(p);
	ftm_check(u >= n, ftm_name("%s usable size >= %zu", name, n), "usable %zu", u);
	if (u < n)
		n = u;	/* already failed: do not write past the block */
	memset(p, 0xC3, n);
	FTM_CLOBBER();
	ftm_check(ftm_find_not(p, n, 0xC3) == (size_t)-1,
	    ftm_name("%s writable over %zu bytes", name, n), "readback differs");
}

static void test_memalign(void)
{
	size_t a, i;
	for (a = 1; a <= ((size_t)1 << 24); a <<= 1)
		for (i = 0; i < NSIZES; i++) {
			void *p = ftm_opaque(memalign(a, sizes[i]));
			check_block(p, a, sizes[i], ftm_name("memalign(%zu, %zu)", a, sizes[i]));
			free(ftm_opaque(p));
		}
	/* a non-power-of-two alignment is rounded up to the next power of two */
	{
		static const size_t odd[] = { 3, 24, 48, 100, 1000, 5000, 65537 };
		for (i = 0; i < sizeof odd / sizeof odd[0]; i++) {
			void *p = ftm_opaque(memalign(odd[i], 200));
			ftm_check(p != NULL && ftm_aligned(p, FTM_ALIGN) && malloc_usable_size(p) >= 200,
			    ftm_name("memalign(%zu, 200) non-power-of-two: non-NULL, 16-aligned", odd[i]),
			    "got %p", p);
			ftm_check(p != NULL && ftm_aligned(p, ftm_next_pow2(odd[i])),
			    ftm_name("memalign(%zu, 200) rounds the alignment up to %zu", odd[i],
				ftm_next_pow2(odd[i])),
			    "got %p", p);
			if (p)
				memset(p, 1, 200);
			free(ftm_opaque(p));
		}
	}
	/* several aligned blocks alive together keep their contents */
	{
		void *p[16];
		int k, bad = 0;
		for (k = 0; k < 16; k++) {
			p[k] = ftm_opaque(memalign((size_t)64 << (k % 8), 300 + 700 * k));
			if (p[k])
				ftm_fill(p[k], 300 + 700 * k, k);
		}
		for (k = 0; k < 16; k++)
			if (!p[k] || !ftm_aligned(p[k], (size_t)64 << (k % 8)) ||
			    ftm_verify(p[k], 300 + 700 * k, k) != (size_t)-1)
				bad++;
		ftm_check(bad == 0, "16 live memalign blocks aligned and intact", "%d bad", bad);
		for (k = 0; k < 16; k++)
			free(p[k]);
	}
}

static void test_posix_memalign(void)
{
	static const size_t badal[] = { 0, 1, 2, 3, 4, 12, 24, 48, 100, 4097 };
	size_t i, a;

	for (i = 0; i < sizeof badal / sizeof badal[0]; i++) {
		void *m = (void *)0x4321;
		int rc = posix_memalign(&m, ftm_size(badal[i]), 64);
		/* 1, 2, 4 are powers of two but not multiples of sizeof(void *) */
		ftm_check(rc == EINVAL && m == (void *)0x4321,
		    ftm_name("posix_memalign(align %zu) is EINVAL, *memptr unchanged", badal[i]),
		    "rc %d memptr %p", rc, m);
		if (rc == 0 && m != (void *)0x4321)
			free(m);
	}
	for (a = sizeof(void *); a <= ((size_t)1 << 22); a <<= 1)
		for (i = 0; i < NSIZES; i++) {
			void *m = (void *)0x4321;
			int rc = posix_memalign(&m, a, sizes[i]);
			ftm_check(rc == 0, ftm_name("posix_memalign(%zu, %zu) returns 0", a, sizes[i]),
			    "rc %d", rc);
			if (rc == 0)
				check_block(m, a, sizes[i],
				    ftm_name("posix_memalign(%zu, %zu)", a, sizes[i]));
			if (rc == 0)
				free(ftm_opaque(m));
		}
}

static void test_aligned_alloc(void)
{
	static const size_t badal[] = { 3, 24, 6, 12, 100, 1000 };
	size_t i, a;

	for (a = 1; a <= ((size_t)1 << 20); a <<= 1)
		for (i = 0; i < NSIZES; i++) {
			/* C11 wants n a multiple of a; test that case and the others */
			size_t n = sizes[i];
			void *p = ftm_opaque(aligned_alloc(a, n));
			check_block(p, a, n, ftm_name("aligned_alloc(%zu, %zu)", a, n));
			free(ftm_opaque(p));
		}
	for (i = 0; i < sizeof badal / sizeof badal[0]; i++) {
		void *p;
		errno = 0;
		p = ftm_opaque(aligned_alloc(ftm_size(badal[i]), 240));
		ftm_check(p == NULL && errno == EINVAL,
		    ftm_name("aligned_alloc(%zu, 240) non-power-of-two: NULL, EINVAL", badal[i]),
		    "got %p errno %d", p, errno);
		free(p);
	}
}

static void test_valloc_pvalloc(void)
{
	size_t pg = ftm_page(), i;

	for (i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		void *p = ftm_opaque(valloc(n));
		check_block(p, pg, n, ftm_name("valloc(%zu)", n));
		free(ftm_opaque(p));
	}
	for (i = 0; i < NSIZES; i++) {
		size_t n = sizes[i], want = (n + pg - 1) / pg * pg;
		void *p;
		if (want == 0)
			want = pg;
		p = ftm_opaque(pvalloc(n));
		check_block(p, pg, want, ftm_name("pvalloc(%zu)", n));
		ftm_check(p != NULL && malloc_usable_size(p) >= want,
		    ftm_name("pvalloc(%zu) usable size >= %zu (whole pages)", n, want),
		    "usable %zu", p ? malloc_usable_size(p) : 0);
		free(ftm_opaque(p));
	}
}

int main(void)
{
	ftm_begin("api_align");
	test_memalign();
	test_posix_memalign();
	test_aligned_alloc();
	test_valloc_pvalloc();
	return ftm_end();
}
