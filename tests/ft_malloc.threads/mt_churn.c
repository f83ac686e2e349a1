/*
 * mt_churn: 4 threads churn random sizes with checked patterns; blocks
 * travel between threads through a lock-protected exchange array, so that
 * most blocks are freed (or realloc'ed) by a thread other than the one that
 * allocated them.
 */
#include "ftm_test.h"
#include <pthread.h>

enum { NTHREADS = 4, OPS = 250000, LOCAL = 256, XCHG = 512 };

typedef struct {
	unsigned char *ptr;
	size_t size;
	uint64_t seed;
	int owner;              /* the thread that allocated it */
} blk_t;

static blk_t xchg[XCHG];
static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
	int id;
	long null, corrupt, misaligned, usable, foreign_free, foreign_realloc, ops;
	char first[256];
} tstat_t;

static tstat_t stats[NTHREADS];

static void tnote(tstat_t *t, long *c, const char *what, const blk_t *b, size_t bad)
{
	(*c)++;
	if (t->first[0] == '\0')
		snprintf(t->first, sizeof t->first, "thread %d: %s: block %p size %zu from thread %d, byte %zd",
		    t->id, what, (void *)b->ptr, b->size, b->owner, (ssize_t)bad);
}

static size_t pick(uint64_t *r)
{
	unsigned k = (unsigned)(ftm_rand(r) % 100);
	if (k < 70)
		return ftm_rand_range(r, 1, FTM_TINY_MAX);
	if (k < 97)
		return ftm_rand_range(r, FTM_TINY_MAX + 1, FTM_SMALL_MAX);
	return ftm_rand_range(r, FTM_LARGE_MIN, 200000);
}

static void new_block(tstat_t *t, blk_t *b, uint64_t *r)
{
	size_t n = pick(r);
	b->ptr = (ftm_rand(r) & 3) ? malloc(n) : calloc(1, n);
	if (b->ptr == NULL) {
		tnote(t, &t->null, "malloc NULL", b, 0);
		return;
	}
	b->size = n;
	b->seed = ftm_rand(r);
	b->owner = t->id;
	if (!ftm_aligned(b->ptr, FTM_ALIGN))
		tnote(t, &t->misaligned, "misaligned", b, 0);
	if (malloc_usable_size(b->ptr) < n)
		tnote(t, &t->usable, "usable size too small", b, 0);
	ftm_fill(b->ptr, n, b->seed);
}

static int check(tstat_t *t, blk_t *b, const char *when)
{
	size_t bad = ftm_verify(b->ptr, b->size, b->seed);
	if (bad != (size_t)-1) {
		tnote(t, &t->corrupt, when, b, bad);
		return 0;
	}
	return 1;
}

static void release(tstat_t *t, blk_t *b)
{
	check(t, b, "corrupt before free");
	if (b->owner != t->id)
		t->foreign_free++;
	free(b->ptr);
	b->ptr = NULL;
}

static void *worker(void *arg)
{
	tstat_t *t = arg;
	blk_t local[LOCAL];
	uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(t->id + 1);
	long i;

	memset(local, 0, sizeof local);
	for (i = 0; i < OPS; i++) {
		blk_t *b = &local[ftm_rand(&r) % LOCAL];
		unsigned op = (unsigned)(ftm_rand(&r) % 8);

		t->ops++;
		if (b->ptr == NULL) {
			new_block(t, b, &r);
		} else if (op < 3) {
			/* swap with a slot of the exchange array */
			blk_t tmp;
			size_t k = ftm_rand(&r) % XCHG;
			pthread_mutex_lock(&xlock);
			tmp = xchg[k];
			xchg[k] = *b;
			pthread_mutex_unlock(&xlock);
			*b = tmp;
		} else if (op < 5) {
			release(t, b);
		} else {
			size_t n = pick(&r), keep = n < b->size ? n : b->size, bad;
			unsigned char *q;
			check(t, b, "corrupt before realloc");
			if (b->owner != t->id)
				t->foreign_realloc++;
			q = realloc(b->ptr, n);
			if (q == NULL) {
				tnote(t, &t->null, "realloc NULL", b, 0);
				continue;
			}
			b->ptr = q;
			bad = ftm_verify(q, keep, b->seed);
			if (bad != (size_t)-1)
				tnote(t, &t->corrupt, "realloc lost contents", b, bad);
			b->size = n;
			b->seed = ftm_rand(&r);
			b->owner = t->id;
			if (!ftm_aligned(q, FTM_ALIGN))
				tnote(t, &t->misaligned, "realloc misaligned", b, 0);
			ftm_fill(q, n, b->seed);
		}
	}
	for (i = 0; i < LOCAL; i++)
		if (local[i].ptr)
			release(t, &local[i]);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	long null = 0, corrupt = 0, mis = 0, usable = 0, ff = 0, fr = 0, ops = 0;
	const char *first = "";
	int i, created = 0;

	ftm_begin("mt_churn");
	for (i = 0; i < NTHREADS; i++) {
		stats[i].id = i;
		if (pthread_create(&th[i], NULL, worker, &stats[i]) == 0)
			created++;
	}
	ftm_check(created == NTHREADS, "4 threads start", "%d started", created);
	for (i = 0; i < created; i++)
		pthread_join(th[i], NULL);
	/* what is left in the exchange array is freed by the main thread */
	{
		tstat_t m = { .id = -1 };
		for (i = 0; i < XCHG; i++)
			if (xchg[i].ptr)
				release(&m, &xchg[i]);
		corrupt += m.corrupt;
		ff += m.foreign_free;
		if (m.first[0])
			first = ftm_name("%s", m.first);
	}
	for (i = 0; i < NTHREADS; i++) {
		null += stats[i].null;
		corrupt += stats[i].corrupt;
		mis += stats[i].misaligned;
		usable += stats[i].usable;
		ff += stats[i].foreign_free;
		fr += stats[i].foreign_realloc;
		ops += stats[i].ops;
		if (first[0] == '\0' && stats[i].first[0])
			first = stats[i].first;
	}
	ftm_check(null == 0, "threads: no allocation failed", "%ld NULL; first: %s", null, first);
	ftm_check(mis == 0, "threads: every block is 16-aligned", "%ld; first: %s", mis, first);
	ftm_check(usable == 0, "threads: malloc_usable_size >= size", "%ld; first: %s", usable, first);
	ftm_check(corrupt == 0, "threads: every block keeps its contents", "%ld; first: %s", corrupt, first);
	ftm_check(ff > 10000, "threads: blocks were freed by other threads",
	    "only %ld foreign frees", ff);
	ftm_check(fr > 10000, "threads: blocks were realloc'ed by other threads",
	    "only %ld foreign reallocs", fr);
	ftm_check(ops == (long)NTHREADS * OPS, "threads: all operations ran", "%ld", ops);
	return ftm_end();
}
