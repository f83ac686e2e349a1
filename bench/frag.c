/* frag.c - fragmentation: a long mixed workload with a retained set.
 *
 *   frag SCALE
 *
 * Models a long-running process whose object population changes shape over
 * time (a cache that is refilled with different kinds of entries, an
 * interpreter moving between program phases).  The run has 8 phases; each
 * uses one size mix, in turn: small objects (16-128 B), medium buffers
 * (512 B - 4 KiB), tiny objects with a few 8-64 KiB blobs, and 128 B -
 * 1 KiB records.  A phase:
 *   1. fills a table with about 32 MiB of objects of its mix;
 *   2. churns: replaces random table entries, and allocates short bursts
 *      of 1-8 temporaries that it frees at once;
 *   3. ends: 10% of the entries, picked at random, survive to the end of
 *      the run (the long-lived retained set); the other 90% are freed.
 * The scattered survivors pin partly used pages: an allocator that cannot
 * reuse the holes they leave for the next phase's different sizes, or give
 * whole free pages back, grows its peak RSS well above the live bytes.
 *
 * The program counts the bytes live (requested sizes, plus its own tables)
 * and reports their peak as live_peak_kb; the runner sets the peak RSS
 * measured from outside against it.
 */
#include "common.h"

#define PHASES 8

typedef struct { size_t lo, hi, big_pct, big_lo, big_hi; } mix_t;

static const mix_t mixes[4] = {
	{ 16, 128, 0, 0, 0 },
	{ 512, 4096, 0, 0, 0 },
	{ 16, 64, 3, 8192, 65536 },
	{ 128, 1024, 0, 0, 0 },
};

static uint64_t live, live_peak, seq, sum;
static rng_t r;

static size_t mix_size(const mix_t *m)
{
	if (m->big_pct && rng_next(&r) % 100 < m->big_pct)
		return rng_range(&r, m->big_lo, m->big_hi);
	return rng_range(&r, m->lo, m->hi);
}

static double mix_mean(const mix_t *m)
{
	double small = (m->lo + m->hi) / 2.0, big = (m->big_lo + m->big_hi) / 2.0;
	return small * (100 - m->big_pct) / 100.0 + big * m->big_pct / 100.0;
}

static void *obj_new(size_t n)
{
	void *p = xmalloc(n);
	stamp(p, n, make_tag(3, seq++));
	live += n;
	if (live > live_peak)
		live_peak = live;
	return p;
}

static void obj_free(void *p)
{
	live -= ((uint64_t *)p)[1];
	sum += unstamp(p, "frag");
	free(p);
}

int main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	uint64_t budget = scaled(scale, 32u << 20, 8u << 20);
	uint64_t churn = scaled(scale, 300000, 20000);
	uint64_t ops = 0;
	void **survivors = NULL;
	size_t nsurv = 0, survcap = 0;
	rng_seed(&r, 2024);

	double t0 = now_s();
	for (int ph = 0; ph < PHASES; ph++) {
		const mix_t *m = &mixes[ph % 4];
		size_t n = (size_t)(budget / mix_mean(m));
		void **table = xmalloc(n * sizeof *table);
		live += n * sizeof *table;

		for (size_t i = 0; i < n; i++)
			table[i] = obj_new(mix_size(m));
		ops += n;

		for (uint64_t k = 0; k < churn; k++) {
			if (rng_next(&r) % 10 < 6) {
				size_t i = rng_next(&r) % n;
				obj_free(table[i]);
				table[i] = obj_new(mix_size(m));
				ops += 2;
			} else {
				void *tmp[8];
				int b = (int)rng_range(&r, 1, 8);
				for (int j = 0; j < b; j++)
					tmp[j] = obj_new(mix_size(m));
				for (int j = b - 1; j >= 0; j--)
					obj_free(tmp[j]);
				ops += 2 * b;
			}
		}

		if (nsurv + n / 10 + 1 > survcap) {
			survcap = (nsurv + n / 10 + 1) * 2;
			live -= nsurv * sizeof *survivors;
			survivors = realloc(survivors, survcap * sizeof *survivors);
			if (!survivors)
				verify_fail("realloc returned NULL");
			live += nsurv * sizeof *survivors;
		}
		for (size_t i = 0; i < n; i++) {
			if (rng_next(&r) % 10 == 0)
				survivors[nsurv++] = table[i];
			else
				obj_free(table[i]);
		}
		live -= n * sizeof *table;
		free(table);
		ops += n;
	}
	uint64_t live_end = live;
	for (size_t i = 0; i < nsurv; i++)
		obj_free(survivors[i]);
	free(survivors);
	double t = now_s() - t0;

	char extra[96];
	snprintf(extra, sizeof extra, " live_peak_kb=%" PRIu64 " live_end_kb=%" PRIu64,
		 live_peak / 1024, live_end / 1024);
	report(t, ops, sum, extra);
	return 0;
}
