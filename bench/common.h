/* common.h - helpers shared by the ft_malloc benchmark programs.
 *
 * Every benchmark program:
 *   - takes one argument, a scale factor (1.0 = the full run; the quick run
 *     passes a smaller one), and multiplies its operation counts by it;
 *   - writes a stamp into every block it allocates and checks the stamp
 *     before it frees the block, so an allocator that hands out overlapping
 *     or garbage memory fails instead of winning (exit status 2);
 *   - prints one line, "result time_s=... ops=... check=...", where time_s
 *     is the wall time of the measured phase and check is a checksum of the
 *     data it verified.  The checksum depends only on the workload, never on
 *     the allocator, so the runner compares it across allocators too.
 *
 * Header-only: each benchmark is one .c file, built with "cc -O2 -pthread".
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Scale factor from argv[1]; counts are scaled and kept at least `min`. */
static inline double bench_scale(int argc, char **argv)
{
	double s = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	return s > 0 ? s : 1.0;
}

static inline uint64_t scaled(double scale, uint64_t full, uint64_t min)
{
	uint64_t n = (uint64_t)((double)full * scale);
	return n < min ? min : n;
}

/* xorshift64*: small, fast, deterministic per seed. */
typedef struct { uint64_t s; } rng_t;

static inline void rng_seed(rng_t *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (r->s == 0)
		r->s = 1;
}

static inline uint64_t rng_next(rng_t *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [lo, hi]. */
static inline size_t rng_range(rng_t *r, size_t lo, size_t hi)
{
	return lo + (size_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* A tag that is unique per (stream, sequence number) and never zero. */
static inline uint64_t make_tag(uint64_t stream, uint64_t seq)
{
	uint64_t x = (stream << 40) ^ seq ^ 0xA5A5A5A55A5A5A5Aull;
	x ^= x >> 33;
	x *= 0xFF51AFD7ED558CCDull;
	x ^= x >> 33;
	return x | 1;
}

/* Stamped block layout (size >= 16): [tag][size] ... [tag ^ size] at the
 * last 8-aligned word.  The size is stored so whoever frees the block (maybe
 * another thread) can check it without other bookkeeping. */
#define STAMP_MIN 16

static inline void stamp(void *p, size_t size, uint64_t tag)
{
	uint64_t *w = p;
	w[0] = tag;
	w[1] = size;
	if (size >= 24)
		w[(size / 8) - 1] = tag ^ size;
}

/* Returns the tag if the block is intact, 0 (and a message) if not. */
static inline uint64_t unstamp(const void *p, const char *where)
{
	const uint64_t *w = p;
	uint64_t tag = w[0], size = w[1];
	if (tag == 0 || size < STAMP_MIN || size > ((uint64_t)1 << 40) ||
	    (size >= 24 && w[(size / 8) - 1] != (tag ^ size))) {
		fprintf(stderr, "VERIFY FAILED in %s: block %p corrupted "
			"(tag %016" PRIx64 ", size %" PRIu64 ")\n",
			where, p, tag, size);
		exit(2);
	}
	return tag;
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL) {
		fprintf(stderr, "malloc(%zu) failed\n", n);
		exit(3);
	}
	return p;
}

static inline void verify_fail(const char *what)
{
	fprintf(stderr, "VERIFY FAILED: %s\n", what);
	exit(2);
}

/* The one line the runner reads.  `extra` is "" or " key=value ...". */
static inline void report(double seconds, uint64_t ops, uint64_t check,
			  const char *extra)
{
	printf("result time_s=%.6f ops=%" PRIu64 " check=%016" PRIx64 "%s\n",
	       seconds, ops, check, extra);
	fflush(stdout);
}

/* Keep the compiler from eliding a malloc/free pair. */
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

#endif
