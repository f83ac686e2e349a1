/*
 * bestfit: a freed block is found again by best fit.
 *
 * For every request size of TINY and SMALL (in steps), allocate three
 * neighbours A, B, C, free B, and ask for the same size again: the hole B
 * left is the best fit, so the new block must be B (no other free block of
 * that size exists: A and C pin B's neighbours, and earlier rounds freed
 * everything).  Then, with many same-size holes, reallocating that size
 * must not map a single new zone.
 */
#include "ftm_test.h"

static void same_size_hole(void)
{
	size_t n, missed = 0, first_miss = 0, tried = 0;

	for (n = 1; n <= FTM_SMALL_MAX; n += (n < 2048 ? 1 : 61)) {
		char *a = malloc(n), *b = malloc(n), *c = malloc(n);
		if (!a || !b || !c) {
			missed++;
			break;
		}
		free(ftm_opaque(b));
		char *again = malloc(n);
		tried++;
		if (again != b && !missed++)
			first_miss = n;
		free(ftm_opaque(again));
		free(ftm_opaque(a));
		free(ftm_opaque(c));
	}
	ftm_check(missed == 0, ftm_name("a freed hole is reused by the next request of its size (%zu sizes)", tried),
	    "missed for %zu sizes, first %zu", missed, first_miss);
}

static void many_holes(size_t n, int k)
{
	void **p = calloc((size_t)k, sizeof *p);
	int i, ok = 1;
	long maps0, maps1;

	for (i = 0; i < k && ok; i++)
		ok = (p[i] = malloc(n)) != NULL;
	for (i = 0; i < k; i += 2)
		free(ftm_opaque(p[i]));
	maps0 = ftm_count_maps();
	for (i = 0; i < k && ok; i += 2)
		ok = (p[i] = malloc(n)) != NULL;
	maps1 = ftm_count_maps();
	ftm_check(ok && maps1 == maps0,
	    ftm_name("%d holes of %zu bytes are refilled without a new mapping", k / 2, n),
	    "mappings %ld before, %ld after, ok %d", maps0, maps1, ok);
	for (i = 0; i < k; i++)
		free(ftm_opaque(p[i]));
	free(p);
}

int main(void)
{
	ftm_begin("bestfit");
	same_size_hole();
	many_holes(1000, 4000);
	many_holes(FTM_TINY_MAX, 4000);
	many_holes(FTM_TINY_MAX + 1, 2000);
	many_holes(FTM_SMALL_MAX, 600);
	return ftm_end();
}
