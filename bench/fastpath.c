/* fastpath.c - the allocator's fast path: short-lived small blocks.
 *
 *   fastpath fixed|random SCALE
 *
 * Models the bulk of allocations in most programs: small objects (nodes,
 * strings, temporary buffers) that die almost as soon as they are born.
 * One thread keeps a ring of 64 slots; each operation frees the block in
 * the next slot (checking its stamp) and puts a fresh one there.  So every
 * malloc is paired with a free 64 operations later, the working set stays
 * in L1, and what is measured is the cost of one malloc + one free.
 *
 *   fixed   every block is 32 bytes (one size class: the best case)
 *   random  sizes uniform in 16..512 bytes (many classes, mixed)
 */
#include "common.h"

#define RING 64

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "fixed") && strcmp(argv[1], "random"))) {
		fprintf(stderr, "usage: fastpath fixed|random [SCALE]\n");
		return 1;
	}
	int fixed = strcmp(argv[1], "fixed") == 0;
	double scale = bench_scale(argc - 1, argv + 1);
	uint64_t ops = scaled(scale, fixed ? 20000000 : 16000000, 1000);
	void *ring[RING] = { 0 };
	uint64_t sum = 0;
	rng_t r;
	rng_seed(&r, 42);

	double t0 = now_s();
	for (uint64_t i = 0; i < ops; i++) {
		size_t slot = i % RING;
		if (ring[slot]) {
			sum += unstamp(ring[slot], "fastpath");
			free(ring[slot]);
		}
		size_t size = fixed ? 32 : rng_range(&r, 16, 512);
		void *p = xmalloc(size);
		stamp(p, size, make_tag(1, i));
		ESCAPE(p);
		ring[slot] = p;
	}
	for (size_t s = 0; s < RING; s++) {
		if (ring[s]) {
			sum += unstamp(ring[s], "fastpath");
			free(ring[s]);
		}
	}
	double t = now_s() - t0;

	report(t, ops, sum, "");
	return 0;
}
