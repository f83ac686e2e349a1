/*
 * api_edge: alignments at the edge of the address space, and 0-byte
 * blocks with alignments above the page size.
 */
#include "ftm_test.h"

static void huge_alignments(void)
{
	int shift;
	for (shift = 40; shift <= 63; shift++) {
		size_t a = (size_t)1 << shift;
		void *p = (void *)0x1234;
		int r = posix_memalign(&p, a, 16);
		ftm_check(r == ENOMEM && p == (void *)0x1234,
		    ftm_name("posix_memalign(2^%d, 16): ENOMEM, *memptr untouched", shift),
		    "returned %d, p %p", r, p);
		errno = 0;
		p = ftm_opaque(aligned_alloc(a, 16));
		ftm_check(p == NULL && errno == ENOMEM, ftm_name("aligned_alloc(2^%d, 16): NULL, ENOMEM", shift),
		    "got %p errno %d", p, errno);
		errno = 0;
		p = ftm_opaque(memalign(a - 1, 16));
		ftm_check(p == NULL && errno == ENOMEM, ftm_name("memalign(2^%d - 1, 16): NULL, ENOMEM", shift),
		    "got %p errno %d", p, errno);
	}
}

/* A 0-byte block owns at least the byte at its pointer: its usable size
 * is > 0 and writing all of it, then mapping LARGE blocks around it and
 * freeing everything, works. */
static void zero_bytes_aligned(void)
{
	size_t a;
	for (a = ftm_page(); a <= ((size_t)1 << 22); a <<= 1) {
		void *p = NULL, *q = ftm_opaque(aligned_alloc(a, 0));
		int r = posix_memalign(&p, a, 0);
		size_t uq = q ? malloc_usable_size(q) : 0, up = p ? malloc_usable_size(p) : 0;
		ftm_check(q && ftm_aligned(q, a) && uq > 0 && r == 0 && p && ftm_aligned(p, a) && up > 0,
		    ftm_name("aligned_alloc/posix_memalign(%zu, 0): aligned, usable size > 0", a),
		    "q %p (%zu) p %p (%zu) r %d", q, uq, p, up, r);
		if (q)
			memset(q, 0x5A, uq);
		if (p)
			memset(p, 0xA5, up);
		void *big[8];
		int i;
		for (i = 0; i < 8; i++)
			big[i] = malloc(FTM_SMALL_MAX + 1 + (size_t)i * 4096);
		free(ftm_opaque(q));
		free(ftm_opaque(p));
		for (i = 0; i < 8; i++)
			free(ftm_opaque(big[i]));
	}
	ftm_check(1, "0-byte aligned blocks and LARGE blocks around them are all freed", NULL);
}

/* A realloc that succeeds leaves errno alone, even when growing in place
 * failed and the block moved. */
static void realloc_errno(void)
{
	size_t n = 40000;
	char *a = malloc(n), *b = malloc(n);
	errno = 0;
	char *c = realloc(a, 8 * n);
	ftm_check(c != NULL && errno == 0, "a successful LARGE realloc leaves errno 0", "got %p errno %d", c, errno);
	free(ftm_opaque(b));
	free(ftm_opaque(c));
}

int main(void)
{
	ftm_begin("api_edge");
	huge_alignments();
	zero_bytes_aligned();
	realloc_errno();
	return ftm_end();
}
