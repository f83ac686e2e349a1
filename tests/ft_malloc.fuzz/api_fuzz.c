/*
 * api_fuzz: random sequences of every allocation function, checked against
 * a shadow model.
 *
 * An input is read 4 bytes a step: an operation, a slot (64 of them), and
 * a size whose top two bits pick its range (TINY, SMALL, up to 64 KiB, up
 * to 256 KiB).  Every slot remembers its block's size, alignment and fill
 * byte; before a slot is touched its block is checked (alignment,
 * malloc_usable_size, every byte), realloc must keep the old bytes, calloc
 * must give zeros.  Anything wrong aborts, which the fuzzer reports.
 *
 * Two ways to run it:
 *  - `make fuzz` builds it with clang's libFuzzer (-DFTM_LIBFUZZER) and the
 *    allocator's sources in one binary, and fuzzes for FUZZ_SECONDS,
 *    growing the corpus in tests/ft_malloc.fuzz/corpus;
 *  - the test suite builds it as an ordinary program whose main() replays
 *    every input of that corpus.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE        /* ftm_test.h (the replay) wants it before any header */
#endif
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 64

typedef struct {
	unsigned char *p;
	size_t n;               /* bytes asked */
	size_t align;
	unsigned char fill;     /* every byte of the block */
} slot_t;

static slot_t slot[SLOTS];

static void fail(const char *what)
{
	static const char pre[] = "api_fuzz: ";
	(void)!write(2, pre, sizeof pre - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	abort();
}

static void check(const slot_t *s)
{
	if (!s->p)
		return;
	if ((uintptr_t)s->p % s->align)
		fail("a block is not aligned as asked");
	if (malloc_usable_size(s->p) < s->n)
		fail("malloc_usable_size is smaller than the request");
	static unsigned char pattern[4096];
	memset(pattern, s->fill, sizeof pattern);
	for (size_t i = 0; i < s->n; i += sizeof pattern) {
		size_t k = s->n - i < sizeof pattern ? s->n - i : sizeof pattern;
		if (memcmp(s->p + i, pattern, k))
			fail("a block's contents changed");
	}
}

static size_t size_of(const uint8_t *d)
{
	size_t n = d[0] | (size_t)(d[1] & 0x3f) << 8;
	switch (d[1] >> 6) {
	case 0: return n % 1025;               /* TINY */
	case 1: return n;                      /* up to 16 KiB */
	case 2: return n * 4;                  /* up to 64 KiB */
	default: return n * 16;                /* up to 256 KiB: LARGE */
	}
}

/* The block q of n bytes now fills slot s (its first `keep` bytes hold the
 * old fill, checked), aligned to `align`. */
static void take(slot_t *s, void *q, size_t n, size_t align, size_t keep, unsigned char fill)
{
	unsigned char *c = q;
	for (size_t i = 0; i < keep; i++)
		if (c[i] != s->fill)
			fail("realloc lost the old contents");
	memset(c, fill, n);
	*s = (slot_t){ c, n, align, fill };
}

static void step(const uint8_t *d)
{
	slot_t *s = &slot[d[1] % SLOTS];
	size_t n = size_of(d + 2);
	unsigned char fill = (unsigned char)(d[0] ^ d[2]);
	size_t align = (size_t)1 << (4 + d[3] % 9);     /* 16 .. 4096 */
	void *q = NULL;
	check(s);
	switch (d[0] % 11) {
	case 0:
	case 1:
		free(s->p);
		s->p = NULL;
		if ((q = malloc(n)))
			take(s, q, n, 16, 0, fill);
		break;
	case 2:
		free(s->p);
		s->p = NULL;
		if ((q = calloc(1, n))) {
			for (size_t i = 0; i < n; i++)
				if (((unsigned char *)q)[i])
					fail("calloc's memory is not zero");
			take(s, q, n, 16, 0, fill);
		}
		break;
	case 3:
	case 4: {                                     /* realloc, up or down */
		size_t keep = n < s->n ? n : s->n;
		if (!s->p) {
			if ((q = realloc(NULL, n)))
				take(s, q, n, 16, 0, fill);
		} else if (n == 0) {
			if (realloc(s->p, 0) != NULL)
				fail("realloc(p, 0) did not free");
			s->p = NULL;
		} else if ((q = realloc(s->p, n))) {
			take(s, q, n, 16, keep, fill);
		} else {
			check(s);                         /* NULL: p untouched */
		}
		break;
	}
	case 5:
		free(s->p);
		s->p = NULL;
		if ((q = memalign(align, n)))
			take(s, q, n, align, 0, fill);
		break;
	case 6:
		free(s->p);
		s->p = NULL;
		if ((q = aligned_alloc(align, n)))
			take(s, q, n, align, 0, fill);
		break;
	case 7:
		free(s->p);
		s->p = NULL;
		if (posix_memalign(&q, align, n) == 0 && q)
			take(s, q, n, align, 0, fill);
		break;
	case 8:                                       /* reallocarray: realloc's rules */
		if (!s->p)
			break;
		if ((q = reallocarray(s->p, n, 1)))
			take(s, q, n, 16, n < s->n ? n : s->n, fill);
		else if (n == 0)
			s->p = NULL;                      /* freed, as realloc(p, 0) */
		else
			check(s);
		break;
	case 9:                                       /* valloc, or pvalloc: whole pages */
		free(s->p);
		s->p = NULL;
		if ((q = d[3] & 1 ? pvalloc(n) : valloc(n)))
			take(s, q, n, (size_t)sysconf(_SC_PAGESIZE), 0, fill);
		break;
	default:
		free(s->p);
		s->p = NULL;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i += 4)
		step(d + i);
	for (unsigned k = 0; k < SLOTS; k++) {        /* each input on its own */
		check(&slot[k]);
		free(slot[k].p);
		slot[k].p = NULL;
	}
	return 0;
}

#ifndef FTM_LIBFUZZER
/* The test suite: replay every input of the corpus next to this file. */
#include "ftm_test.h"

#include <dirent.h>

int main(void)
{
	static char dir[4096], path[8192];
	static uint8_t buf[1 << 20];
	ftm_begin("api_fuzz");
	snprintf(dir, sizeof dir, "%s", __FILE__);
	char *slash = strrchr(dir, '/');
	snprintf(slash ? slash + 1 : dir, sizeof dir - (size_t)(slash ? slash + 1 - dir : 0), "corpus");
	DIR *dp = opendir(dir);
	if (!dp) {
		ftm_check(0, "the corpus can be read", "%s: %s", dir, strerror(errno));
		return ftm_end();
	}
	unsigned inputs = 0;
	size_t steps = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		ssize_t n = ftm_read_file(path, (char *)buf, sizeof buf);
		if (n < 0)
			continue;
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		inputs++;
		steps += (size_t)n / 4;
	}
	closedir(dp);
	ftm_check(inputs >= 10, ftm_name("every corpus input replays cleanly (%u inputs, %zu calls)",
	                                 inputs, steps), "only %u inputs in %s", inputs, dir);
	return ftm_end();
}
#endif
