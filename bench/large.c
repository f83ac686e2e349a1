/* large.c - large blocks: 1-32 MiB buffers allocated, written, freed.
 *
 *   large SCALE
 *
 * Models programs that work on big buffers: reading files whole, image or
 * matrix buffers, compression windows.  Each step allocates a buffer of a
 * random size between 1 and 32 MiB, writes all of it, and frees the buffer
 * allocated 3 steps before (so up to 4 are alive at once, about 66 MiB on
 * average).  The cost is dominated by how the allocator gets and returns
 * the memory: a fresh mmap per buffer pays a page fault on every 4 KiB
 * written, and munmap at free; keeping freed memory for reuse is faster but
 * holds RSS.  Before a buffer is freed, a stamp in every page is checked.
 */
#include "common.h"

#define KEEP 4
#define PAGE 4096

static void fill(unsigned char *p, size_t n, uint64_t tag)
{
	memset(p, (int)(tag & 0xff), n);
	for (size_t off = 0; off + 8 <= n; off += PAGE)
		memcpy(p + off, &(uint64_t){ tag ^ off }, 8);
}

static uint64_t check(const unsigned char *p, size_t n, uint64_t tag)
{
	uint64_t s = 0;
	for (size_t off = 0; off + 8 <= n; off += PAGE) {
		uint64_t w;
		memcpy(&w, p + off, 8);
		if (w != (tag ^ off))
			verify_fail("large: page stamp lost");
		s += w;
	}
	if (p[n - 1] != (unsigned char)(tag & 0xff))
		verify_fail("large: last byte lost");
	return s;
}

int main(int argc, char **argv)
{
	uint64_t steps = scaled(bench_scale(argc, argv), 250, 12);
	unsigned char *buf[KEEP] = { 0 };
	size_t size[KEEP] = { 0 };
	uint64_t tag[KEEP] = { 0 }, sum = 0, bytes = 0;
	rng_t r;
	rng_seed(&r, 5);

	double t0 = now_s();
	for (uint64_t i = 0; i < steps + KEEP; i++) {
		size_t k = i % KEEP;
		if (buf[k]) {
			sum += check(buf[k], size[k], tag[k]);
			free(buf[k]);
			buf[k] = NULL;
		}
		if (i >= steps)
			continue; /* the last KEEP steps only drain */
		size[k] = rng_range(&r, 1u << 20, 32u << 20);
		tag[k] = make_tag(4, i);
		buf[k] = xmalloc(size[k]);
		fill(buf[k], size[k], tag[k]);
		bytes += size[k];
	}
	double t = now_s() - t0;

	char extra[64];
	snprintf(extra, sizeof extra, " mib_written=%" PRIu64, bytes >> 20);
	report(t, steps, sum, extra);
	return 0;
}
