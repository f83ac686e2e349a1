/*
 * large_policy: what happens to LARGE mappings.
 *
 *  - A loop of LARGE buffers (1-3 MiB, written whole, a few alive at once)
 *    reuses freed mappings: after the first rounds it takes almost no page
 *    faults (a fresh mapping would fault every page it writes).
 *  - Blocks that realloc grows side by side, step by step, into MiBs grow
 *    in place: a block moves (a new address, a copy) only a few times on
 *    the way, not each time its neighbour hems it in.
 *  - Transparent huge pages are asked for malloc's buffers of 4 to 64 MiB
 *    only: not for calloc's, nor above 64 MiB, nor for SMALL zones.  Seen
 *    in /proc/self/smaps ("THPeligible"), when the kernel's THP mode is
 *    "madvise" (with "always" every mapping is eligible, with "never" none:
 *    then these checks are unsupported here).
 */
#include "ftm_test.h"

static void reuse_loop(void)
{
	enum { ROUNDS = 300, LIVE = 3 };
	uint64_t r = 42;
	char *live[LIVE] = { 0 };
	long pages = 0, faults = 0, null = 0;
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = ftm_rand_range(&r, 1u << 20, 3u << 20);
		free(live[i % LIVE]);
		long before = ftm_minflt();
		char *p = ftm_opaque(malloc(n));
		if (p == NULL) {
			null++;
			live[i % LIVE] = NULL;
			continue;
		}
		memset(p, i & 0xff, n);
		if (i >= 20) {                  /* after the first rounds */
			faults += ftm_minflt() - before;
			pages += (long)(n / 4096);
		}
		live[i % LIVE] = p;
	}
	for (int i = 0; i < LIVE; i++)
		free(live[i]);
	ftm_check(null == 0, "LARGE loop: every malloc succeeds", "%ld NULL", null);
	ftm_check(faults * 10 < pages,
	    "LARGE loop: freed mappings are reused (page faults under 10% of the pages written)",
	    "%ld faults for %ld pages written", faults, pages);
}

/* Eight blocks grown interleaved from 64 KiB to 4 MiB by 4 KiB steps, as
 * string builders and vectors do, three times over: count how often a
 * block moves.  A block with free address space after it grows in place
 * and need not move at all; hemmed in by its neighbours it moves whenever
 * it outgrows its room (about 7 times a round before, 1.5 since). */
static void realloc_side_by_side(void)
{
	enum { OBJS = 8, STEP = 4096, ROUNDS = 3 };
	long moves = 0, bad = 0;
	for (int round = 0; round < ROUNDS; round++) {
		char *p[OBJS] = { 0 };
		size_t len[OBJS] = { 0 };
		for (size_t size = 64 * 1024; size <= (4u << 20); size += STEP)
			for (int k = 0; k < OBJS; k++) {
				char *q = realloc(p[k], size);
				if (!q) {
					bad++;
					continue;
				}
				if (p[k] && q != p[k])
					moves++;
				if (len[k] && (q[0] != (char)k || q[len[k] - 1] != (char)k))
					bad++;                 /* the contents moved with it */
				memset(q + len[k], k, size - len[k]);
				p[k] = q;
				len[k] = size;
			}
		for (int k = 0; k < OBJS; k++)
			free(p[k]);
	}
	ftm_check(bad == 0, "realloc side by side: every realloc succeeds, contents kept",
	    "%ld failures", bad);
	ftm_check(moves <= OBJS * ROUNDS * 4,
	    "realloc side by side: blocks grow in place (at most 4 moves a block and round)",
	    "%ld moves for %d blocks", moves, OBJS * ROUNDS);
}

/* THPeligible of the mapping that holds p: 1, 0, or -1 if not found. */
static int thp_eligible(const void *p)
{
	static char buf[1 << 20];
	ssize_t n = ftm_read_file("/proc/self/smaps", buf, sizeof buf - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	int in = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long lo, hi;
		if (sscanf(l, "%lx-%lx ", &lo, &hi) == 2 && strchr(l, '-') < strchr(l, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && strncmp(l, "THPeligible:", 12) == 0)
			return atoi(l + 12) != 0;
	}
	return -1;
}

static void huge_pages(void)
{
	char mode[256] = "";
	ssize_t n = ftm_read_file("/sys/kernel/mm/transparent_hugepage/enabled", mode, sizeof mode - 1);
	if (n <= 0 || !strstr(mode, "[madvise]")) {
		ftm_unsupported("huge pages for malloc's 4-64 MiB buffers only",
		    n <= 0 ? "no transparent huge pages here" : "THP mode is not madvise");
		return;
	}
	char *m8 = ftm_opaque(malloc(8u << 20));
	char *c8 = ftm_opaque(calloc(1, 8u << 20));
	char *m100 = ftm_opaque(malloc(100u << 20));
	char *s = ftm_opaque(malloc(40000));
	if (!ftm_check(m8 && c8 && m100 && s, "huge pages: the blocks are allocated", "NULL"))
		return;
	int e;
	e = thp_eligible(m8);
	ftm_check(e == 1, "huge pages: asked for malloc(8 MiB)", "THPeligible %d", e);
	e = thp_eligible(c8);
	ftm_check(e == 0, "huge pages: not for calloc(8 MiB)", "THPeligible %d", e);
	e = thp_eligible(m100);
	ftm_check(e == 0, "huge pages: not for malloc(100 MiB)", "THPeligible %d", e);
	e = thp_eligible(s);
	ftm_check(e == 0, "huge pages: not for a SMALL zone", "THPeligible %d", e);
	free(m8);
	free(c8);
	free(m100);
	free(s);
}

int main(void)
{
	ftm_begin("large_policy");
	huge_pages();
	reuse_loop();
	realloc_side_by_side();
	return ftm_end();
}
