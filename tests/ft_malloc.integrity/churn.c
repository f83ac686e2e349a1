/*
 * churn: seeded random malloc/calloc/realloc/memalign/posix_memalign/
 * aligned_alloc/free of mixed sizes against a shadow model.  Each live
 * block is a slot {ptr, size, seed, align}; its bytes hold the pattern of
 * its seed, checked before every free and realloc, and at the end.  Each
 * result is checked for alignment and malloc_usable_size >= size, and the
 * whole usable area of a block is written just before it is freed.
 */
#include "ftm_test.h"

typedef struct {
	unsigned char *ptr;
	size_t size;
	uint64_t seed;
	size_t align;
} slot_t;

typedef struct {
	const char *name;
	uint64_t seed;
	long ops;
	int nslots;
	int pct_tiny, pct_small;   /* the rest is LARGE */
	size_t large_max;
} phase_t;

enum { MAXSLOTS = 8192 };
static slot_t slots[MAXSLOTS];

static struct {
	long null, misaligned, usable, corrupt, calloc_dirty, ops, frees, reallocs;
	char first[512];
} st;

static void note(long *counter, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(long *counter, const char *fmt, ...)
{
	va_list ap;
	(*counter)++;
	if (st.first[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(st.first, sizeof st.first, fmt, ap);
		va_end(ap);
	}
}

static size_t pick_size(uint64_t *r, const phase_t *ph)
{
	unsigned k = (unsigned)(ftm_rand(r) % 100);
	if ((int)k < ph->pct_tiny) {
		/* favour very small sizes, but cover all of TINY */
		if (ftm_rand(r) & 1)
			return ftm_rand_range(r, 0, 128);
		return ftm_rand_range(r, 0, FTM_TINY_MAX);
	}
	if ((int)k < ph->pct_tiny + ph->pct_small)
		return ftm_rand_range(r, FTM_TINY_MAX + 1, FTM_SMALL_MAX);
	if (ftm_rand(r) % 4 != 0)
		return ftm_rand_range(r, FTM_LARGE_MIN, FTM_LARGE_MIN + 100000);
	return ftm_rand_range(r, FTM_LARGE_MIN, ph->large_max);
}

static void check_new(slot_t *s, const char *how)
{
	size_t a = s->align > FTM_ALIGN ? s->align : FTM_ALIGN;
	if (!ftm_aligned(s->ptr, a))
		note(&st.misaligned, "%s(%zu) align %zu gave %p", how, s->size, a, (void *)s->ptr);
	if (malloc_usable_size(s->ptr) < s->size)
		note(&st.usable, "%s(%zu): usable %zu", how, s->size, malloc_usable_size(s->ptr));
}

static int verify(slot_t *s, const char *when)
{
	size_t bad = ftm_verify(s->ptr, s->size, s->seed);
	if (bad != (size_t)-1) {
		note(&st.corrupt, "block %p size %zu: byte %zu wrong before %s",
		    (void *)s->ptr, s->size, bad, when);
		return 0;
	}
	return 1;
}

static void do_alloc(slot_t *s, uint64_t *r, const phase_t *ph, uint64_t seed)
{
	size_t n = pick_size(r, ph);
	unsigned how = (unsigned)(ftm_rand(r) % 20);
	const char *name = "malloc";
	void *p = NULL;

	s->align = 0;
	if (how < 9) {
		p = malloc(n);
	} else if (how < 13) {
		name = "calloc";
		if (n % 8 == 0 && (how & 1))
			p = calloc(n / 8, 8);
		else
			p = calloc(n, 1);
		if (p != NULL && ftm_find_not(p, n, 0) != (size_t)-1)
			note(&st.calloc_dirty, "calloc(%zu) byte %zu not zero", n,
			    ftm_find_not(p, n, 0));
	} else if (how < 15) {
		name = "realloc(NULL)";
		p = realloc(NULL, n);
	} else if (how < 17) {
		name = "memalign";
		s->align = (size_t)1 << ftm_rand_range(r, 0, ftm_rand(r) % 8 ? 8 : 16);
		p = memalign(s->align, n);
	} else if (how < 19) {
		name = "posix_memalign";
		s->align = (size_t)8 << ftm_rand_range(r, 0, 9);
		if (posix_memalign(&p, s->align, n) != 0)
			p = NULL;
	} else {
		name = "aligned_alloc";
		s->align = (size_t)1 << ftm_rand_range(r, 0, 12);
		p = aligned_alloc(s->align, n);
	}
	if (p == NULL) {
		note(&st.null, "%s(%zu) returned NULL (errno %d)", name, n, errno);
		return;
	}
	s->ptr = p;
	s->size = n;
	s->seed = seed;
	check_new(s, name);
	ftm_fill(s->ptr, s->size, s->seed);
}

static void do_free(slot_t *s)
{
	verify(s, "free");
	/* the whole usable area is writable */
	memset(s->ptr, 0xEE, malloc_usable_size(s->ptr));
	free(ftm_opaque(s->ptr));
	s->ptr = NULL;
	st.frees++;
}

static void do_realloc(slot_t *s, uint64_t *r, const phase_t *ph, uint64_t seed)
{
	size_t n, keep;
	unsigned char *q;

	verify(s, "realloc");
	n = 0;
	switch (ftm_rand(r) % 4) {
	case 0:  n = s->size + ftm_rand_range(r, 0, 64); break;          /* small growth */
	case 1:  n = s->size - s->size / (1 + ftm_rand(r) % 4); break;    /* shrink */
	default: n = pick_size(r, ph); break;                             /* anywhere */
	}
	if (n == 0 || ftm_rand(r) % 64 == 0) {
		/* realloc(p, 0) frees p and returns NULL */
		q = realloc(s->ptr, 0);
		if (q != NULL)
			note(&st.null, "realloc(%p, 0) returned %p, not NULL", (void *)s->ptr, (void *)q);
		s->ptr = NULL;
		return;
	}
	q = realloc(s->ptr, n);
	st.reallocs++;
	if (q == NULL) {
		note(&st.null, "realloc(%zu -> %zu) returned NULL (errno %d)", s->size, n, errno);
		return;
	}
	keep = n < s->size ? n : s->size;
	s->ptr = q;
	{
		size_t bad = ftm_verify(q, keep, s->seed);
		if (bad != (size_t)-1)
			note(&st.corrupt, "realloc %zu -> %zu: byte %zu of the kept %zu lost",
			    s->size, n, bad, keep);
	}
	s->size = n;
	s->align = 0;
	s->seed = seed;
	check_new(s, "realloc");
	ftm_fill(s->ptr, s->size, s->seed);
}

static void run_phase(const phase_t *ph)
{
	uint64_t r = ph->seed;
	long i;
	int k;
	struct timespec t0, t1;

	memset(&st, 0, sizeof st);
	memset(slots, 0, sizeof slots);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < ph->ops; i++) {
		slot_t *s = &slots[ftm_rand(&r) % (uint64_t)ph->nslots];
		uint64_t seed = ((uint64_t)i << 8) ^ ph->seed;

		st.ops++;
		if (s->ptr == NULL)
			do_alloc(s, &r, ph, seed);
		else if (ftm_rand(&r) & 1)
			do_free(s);
		else
			do_realloc(s, &r, ph, seed);
	}
	/* the end: every live block still holds its pattern */
	for (k = 0; k < ph->nslots; k++)
		if (slots[k].ptr != NULL) {
			verify(&slots[k], "the end");
			do_free(&slots[k]);
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	ftm_check(st.null == 0, ftm_name("%s: no allocation failed", ph->name),
	    "%ld failures; first: %s", st.null, st.first);
	ftm_check(st.misaligned == 0, ftm_name("%s: every block is aligned", ph->name),
	    "%ld misaligned; first: %s", st.misaligned, st.first);
	ftm_check(st.usable == 0, ftm_name("%s: malloc_usable_size >= size", ph->name),
	    "%ld too small; first: %s", st.usable, st.first);
	ftm_check(st.calloc_dirty == 0, ftm_name("%s: calloc memory is zero", ph->name),
	    "%ld dirty; first: %s", st.calloc_dirty, st.first);
	ftm_check(st.corrupt == 0, ftm_name("%s: every block keeps its contents", ph->name),
	    "%ld corrupted; first: %s", st.corrupt, st.first);
	ftm_check(st.frees > ph->ops / 5 && st.reallocs > ph->ops / 5,
	    ftm_name("%s: the churn ran (%ld ops)", ph->name, st.ops),
	    "only %ld frees, %ld reallocs", st.frees, st.reallocs);
	ftm_printf("INFO: %s: %ld ops in %.2f s\n", ph->name, st.ops,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(void)
{
	static const phase_t phases[] = {
		/* name           seed                   ops     slots tiny small large_max */
		{ "mixed",        0x243F6A8885A308D3ull, 300000, 4096, 70, 28, 1 << 20 },
		{ "tiny-only",    0x13198A2E03707344ull, 600000, 8192, 100, 0, 0 },
		{ "small-heavy",  0xA4093822299F31D0ull, 150000, 1024, 30, 69, 1 << 20 },
		{ "few-slots",    0x082EFA98EC4E6C89ull, 120000, 16, 60, 35, 1 << 20 },
		{ "large-heavy",  0x452821E638D01377ull, 12000,  256, 30, 30, 1 << 20 },
	};
	size_t i;

	ftm_begin("churn");
	for (i = 0; i < sizeof phases / sizeof phases[0]; i++)
		run_phase(&phases[i]);
	return ftm_end();
}
