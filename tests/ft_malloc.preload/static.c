/*
 * static.c - a program linked with -static against libft_malloc.a.
 *
 * preload.exp builds it (not ftm_run_c_tests_here): there is no dynamic
 * linker here, so ftm_begin() (dlsym) cannot prove that ft_malloc is the
 * allocator; show_alloc_mem() does instead: it must list the blocks of
 * every allocation function with the exact sizes asked for, including a
 * block the C library allocated itself (strdup), and blocks of threads.
 */
#include "preload.h"
#include "ft_malloc.h"

#include <pthread.h>

enum { NTHREADS = 4, PER_THREAD = 3000, HANDED = 16 };

typedef struct {
	int id;
	int bad;
	void *handed[HANDED];
	size_t handed_n[HANDED];
} targ_t;

static void *worker(void *arg)
{
	targ_t *t = arg;
	static __thread void *blocks[PER_THREAD];
	static __thread size_t sizes[PER_THREAD];
	uint64_t rs = ftm_seed_mix((uint64_t)t->id + 1);
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		size_t n = (i % 50 == 0) ? ftm_rand_range(&rs, 33000, 90000)
					 : ftm_rand_range(&rs, 1, 3000);
		blocks[i] = malloc(n);
		sizes[i] = n;
		if (blocks[i] == NULL) {
			t->bad++;
			continue;
		}
		ftm_fill(blocks[i], n, (uint64_t)t->id * 100000 + (uint64_t)i);
	}
	for (i = 0; i < PER_THREAD; i++) {
		if (blocks[i] == NULL)
			continue;
		if (ftm_verify(blocks[i], sizes[i], (uint64_t)t->id * 100000 + (uint64_t)i) != (size_t)-1)
			t->bad++;
		if (i < HANDED) {
			t->handed[i] = blocks[i];
			t->handed_n[i] = sizes[i];
		} else {
			free(blocks[i]);
		}
	}
	return NULL;
}

int main(void)
{
	const size_t page = ftm_page();
	void *m, *c, *r, *pm = NULL, *ma, *aa, *va, *pv, *ra, *lg, *x;
	char *dup;
	size_t u;
	int rc, i, j, bad;
	pthread_t th[NTHREADS];
	targ_t ta[NTHREADS];

	ftm_prog = "static";

	m = malloc(ftm_size(4321));
	c = calloc(ftm_size(77), 13);          /* 1001 bytes */
	r = malloc(ftm_size(100));
	if (r) memset(r, 0x5a, 100);
	r = realloc(r, ftm_size(5555));
	rc = posix_memalign(&pm, 64, ftm_size(3000));
	ma = memalign(256, ftm_size(2999));
	aa = aligned_alloc(128, ftm_size(1280));
	va = valloc(ftm_size(1234));
	pv = pvalloc(ftm_size(1000));
	ra = reallocarray(NULL, ftm_size(37), 11); /* 407 bytes */
	lg = malloc(ftm_size(100003));
	dup = strdup("a string the C library copies with its own malloc call");

	ftm_check(m && c && r && pm && ma && aa && va && pv && ra && lg && dup && rc == 0,
	    "every allocation function returns memory",
	    "malloc %p calloc %p realloc %p posix_memalign %p (%d) memalign %p "
	    "aligned_alloc %p valloc %p pvalloc %p reallocarray %p large %p strdup %p",
	    m, c, r, pm, rc, ma, aa, va, pv, ra, lg, (void *)dup);
	if (!(m && c && r && pm && ma && aa && va && pv && ra && lg && dup))
		return ftm_end();

	ftm_check(ftm_find_not(c, 1001, 0) == (size_t)-1, "calloc memory is zeroed", NULL);
	ftm_check(ftm_find_not(r, 100, 0x5a) == (size_t)-1, "realloc keeps the contents", NULL);
	ftm_check(ftm_aligned(pm, 64) && ftm_aligned(ma, 256) && ftm_aligned(aa, 128) &&
	    ftm_aligned(va, page) && ftm_aligned(pv, page),
	    "aligned allocations are aligned",
	    "posix_memalign %p memalign %p aligned_alloc %p valloc %p pvalloc %p", pm, ma, aa, va, pv);
	u = malloc_usable_size(pv);
	ftm_check(u >= page, "pvalloc rounds up to a page", "malloc_usable_size %zu, page %zu", u, page);
	ftm_check(malloc_usable_size(m) >= 4321 && malloc_usable_size(lg) >= 100003 &&
	    malloc_usable_size(NULL) == 0,
	    "malloc_usable_size", "%zu for 4321, %zu for 100003",
	    malloc_usable_size(m), malloc_usable_size(lg));
	errno = 0;
	x = reallocarray(NULL, ftm_size(SIZE_MAX / 2), 3);
	ftm_check(x == NULL && errno == ENOMEM, "reallocarray detects overflow",
	    "returned %p, errno %d", x, errno);

	/* show_alloc_mem lists exactly what was asked for */
	if (pl_capture_show(show_alloc_mem) < 0) {
		ftm_check(0, "show_alloc_mem output captured", "memfd: %s", strerror(errno));
	} else {
		ftm_check(pl_has_total(), "show_alloc_mem prints a Total line", "%.300s", pl_show_buf);
		ftm_check(pl_listed(m, 4321), "show_alloc_mem lists malloc(4321)", "%p", m);
		ftm_check(pl_listed(c, 1001), "show_alloc_mem lists calloc(77, 13)", "%p", c);
		ftm_check(pl_listed(r, 5555), "show_alloc_mem lists realloc(, 5555)", "%p", r);
		ftm_check(pl_listed(pm, 3000), "show_alloc_mem lists posix_memalign(, 64, 3000)", "%p", pm);
		ftm_check(pl_listed(ma, 2999), "show_alloc_mem lists memalign(256, 2999)", "%p", ma);
		ftm_check(pl_listed(aa, 1280), "show_alloc_mem lists aligned_alloc(128, 1280)", "%p", aa);
		ftm_check(pl_listed(va, 1234), "show_alloc_mem lists valloc(1234)", "%p", va);
		ftm_check(pl_listed(ra, 407), "show_alloc_mem lists reallocarray(NULL, 37, 11)", "%p", ra);
		ftm_check(pl_listed(lg, 100003), "show_alloc_mem lists malloc(100003) (LARGE)", "%p", lg);
		ftm_check(pl_listed(dup, strlen(dup) + 1),
		    "show_alloc_mem lists the C library's own strdup block", "%p", (void *)dup);
	}

	/* threads */
	bad = 0;
	for (i = 0; i < NTHREADS; i++) {
		memset(&ta[i], 0, sizeof ta[i]);
		ta[i].id = i;
		if (pthread_create(&th[i], NULL, worker, &ta[i]) != 0)
			bad++;
	}
	ftm_check(bad == 0, "pthread_create in a static program", "%d failed", bad);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	bad = 0;
	for (i = 0; i < NTHREADS; i++)
		bad += ta[i].bad;
	ftm_check(bad == 0, ftm_name("%d threads x %d blocks keep their contents", NTHREADS, PER_THREAD),
	    "%d bad blocks", bad);
	/* the blocks the threads handed over are listed, then freed here */
	pl_capture_show(show_alloc_mem);
	bad = 0;
	for (i = 0; i < NTHREADS; i++)
		for (j = 0; j < HANDED; j++)
			bad += !pl_listed(ta[i].handed[j], ta[i].handed_n[j]);
	ftm_check(bad == 0, "show_alloc_mem lists the blocks of ended threads",
	    "%d of %d missing", bad, NTHREADS * HANDED);
	for (i = 0; i < NTHREADS; i++)
		for (j = 0; j < HANDED; j++)
			free(ta[i].handed[j]);

	free(m); free(c); free(r); free(pm); free(ma); free(aa); free(va);
	free(pv); free(ra); free(lg); free(dup);
	pl_capture_show(show_alloc_mem);
	ftm_check(!pl_listed(m, 4321) && !pl_listed(lg, 100003),
	    "freed blocks leave show_alloc_mem", NULL);
	return ftm_end();
}
