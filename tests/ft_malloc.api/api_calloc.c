/*
 * api_calloc: calloc zeroes, also memory that was used and freed before;
 * calloc(n, m) with n*m overflowing is NULL with ENOMEM.
 */
#include "ftm_test.h"

static const size_t sizes[] = {
	1, 8, 16, 24, 100, 512, 1000, 1024,
	1025, 3000, 8192, 20000, 32768,
	32769, 50000, 200000, 1 << 20,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* malloc K blocks of n, fill with 0xAA, free them all, calloc K blocks of
 * the same size: every byte must be zero (the memory is most likely the
 * very memory just dirtied). */
static void test_reused(void)
{
	enum { K = 64 };
	size_t i, k;

	for (i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		int kk = n > FTM_SMALL_MAX ? 4 : K;
		void *p[K];
		size_t bad = (size_t)-1;
		int badk = -1, nulls = 0;

		for (k = 0; k < (size_t)kk; k++) {
			p[k] = ftm_opaque(malloc(n));
			if (p[k])
				memset(p[k], 0xAA, malloc_usable_size(p[k]));
			FTM_CLOBBER();
		}
		for (k = kk; k-- > 0;)
			free(ftm_opaque(p[k]));
		for (k = 0; k < (size_t)kk; k++) {
			/* alternate calloc(1, n) and calloc(n / 8, 8)-ish */
			p[k] = ftm_opaque((k & 1) && n % 8 == 0 ? calloc(n / 8, 8) : calloc(1, n));
			if (p[k] == NULL) {
				nulls++;
				continue;
			}
			if (bad == (size_t)-1) {
				bad = ftm_find_not(p[k], n, 0);
				if (bad != (size_t)-1)
					badk = (int)k;
			}
		}
		ftm_check(nulls == 0 && bad == (size_t)-1,
		    ftm_name("calloc(%zu) after malloc/0xAA/free is all zero (%s)", n, ftm_class(n)),
		    "%d NULL; block %d byte %zd not zero", nulls, badk, (ssize_t)bad);
		for (k = 0; k < (size_t)kk; k++)
			free(p[k]);
	}
}

/* Free a block in the middle of live neighbours, calloc the same size. */
static void test_hole(void)
{
	size_t i;
	for (i = 0; i < NSIZES; i++) {
		size_t n = sizes[i];
		void *a = ftm_opaque(malloc(n)), *b = ftm_opaque(malloc(n)),
		     *c = ftm_opaque(malloc(n)), *d;
		if (!a || !b || !c) {
			ftm_check(0, ftm_name("calloc(%zu) in a hole is zero", n), "malloc failed");
			continue;
		}
		memset(a, 0xAA, n);
		memset(b, 0xAA, malloc_usable_size(b));
		memset(c, 0xAA, n);
		free(ftm_opaque(b));
		d = ftm_opaque(calloc(n, 1));
		ftm_check(d != NULL && ftm_find_not(d, n, 0) == (size_t)-1 &&
		    ftm_find_not(a, n, 0xAA) == (size_t)-1 && ftm_find_not(c, n, 0xAA) == (size_t)-1,
		    ftm_name("calloc(%zu, 1) in a hole is zero, neighbours intact", n),
		    "d=%p", d);
		ftm_check(d == NULL || ftm_aligned(d, FTM_ALIGN),
		    ftm_name("calloc(%zu, 1) is 16-aligned", n), "d=%p", d);
		free(d);
		free(a);
		free(c);
	}
}

static void test_overflow(void)
{
	static const struct { size_t n, m; const char *s; } ov[] = {
		{ SIZE_MAX, 2, "SIZE_MAX, 2" },
		{ 2, SIZE_MAX, "2, SIZE_MAX" },
		{ SIZE_MAX / 2 + 1, 2, "SIZE_MAX/2+1, 2" },
		{ (size_t)1 << 32, (size_t)1 << 32, "2^32, 2^32" },
		{ (size_t)1 << 33, (size_t)1 << 31, "2^33, 2^31" },
		{ SIZE_MAX / 16 + 1, 16, "SIZE_MAX/16+1, 16" },
		{ 65537, SIZE_MAX / 65536, "65537, SIZE_MAX/65536" },
	};
	size_t i;

	for (i = 0; i < sizeof ov / sizeof ov[0]; i++) {
		void *p;
		errno = 0;
		p = ftm_opaque(calloc(ftm_size(ov[i].n), ftm_size(ov[i].m)));
		ftm_check(p == NULL && errno == ENOMEM,
		    ftm_name("calloc(%s) overflows: NULL, ENOMEM", ov[i].s),
		    "got %p errno %d", p, errno);
		free(p);
	}
	{
		void *p;
		errno = 0;
		p = ftm_opaque(calloc(1, ftm_size(SIZE_MAX)));
		ftm_check(p == NULL && errno == ENOMEM, "calloc(1, SIZE_MAX): NULL, ENOMEM",
		    "got %p errno %d", p, errno);
		free(p);
	}
}

int main(void)
{
	ftm_begin("api_calloc");
	test_reused();
	test_hole();
	test_overflow();
	return ftm_end();
}
