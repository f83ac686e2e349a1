/*
 * fills: the debugging switches FT_MALLOC_FILL_ALLOC, FT_MALLOC_FILL_FREE
 * and FT_MALLOC_CHECK_FREED.
 *
 * Each case runs in a child that executes this program again with the
 * variables set (the library reads them at start-up), and each is also
 * run with them unset, where it must see the switch's effect absent: so
 * every check here fails when its feature is off.
 *  - FILL_ALLOC: every byte of what malloc, realloc, memalign and
 *    aligned_alloc hand out holds the byte (TINY, SMALL, LARGE); calloc's
 *    memory is still zero.
 *  - FILL_FREE: a freed zone block holds the byte past the allocator's own
 *    first 64 bytes (header and links).
 *  - CHECK_FREED: a write into a freed block is reported when the memory
 *    is handed out again ("use after free"), by abort() or, with
 *    FT_MALLOC_ON_MISUSE=warn, by the line alone; a long mixed workload
 *    that writes only what it owns raises nothing.
 *  - A bad value is reported in one line and ignored.
 */
#include "ftm_test.h"

#include <stdbool.h>

/* exit codes of the cases: 0 all as expected, 10 + n: check n failed */
static void fill_alloc(void)
{
	static const size_t sizes[] = { 1, 100, 1024, 5000, 60000, 100000, 3u << 20 };
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = ftm_opaque(malloc(sizes[i]));
		if (!p || ftm_find_not(p, sizes[i], 0xA5) != (size_t)-1)
			_exit(10);
		free(p);
	}
	unsigned char *a = ftm_opaque(memalign(256, 700));
	unsigned char *b = ftm_opaque(aligned_alloc(4096, 8192));
	if (!a || !b || ftm_find_not(a, 700, 0xA5) != (size_t)-1 ||
	    ftm_find_not(b, 8192, 0xA5) != (size_t)-1)
		_exit(11);
	free(a);
	free(b);
	unsigned char *r = ftm_opaque(malloc(50));
	if (!r)
		_exit(3);
	memset(r, 1, 50);
	r = realloc(r, 3000);               /* moved: a new block, the old part copied */
	if (!r || ftm_find_not(r, 50, 1) != (size_t)-1 ||
	    ftm_find_not(r + 50, 2950, 0xA5) != (size_t)-1)
		_exit(12);
	free(r);
	unsigned char *c = ftm_opaque(calloc(100, 30));
	if (!c || ftm_find_not(c, 3000, 0) != (size_t)-1)
		_exit(13);                   /* calloc: zeros, not the fill */
	free(c);
}

static void fill_free(void)
{
	static const size_t sizes[] = { 200, 1000, 5000, 30000 };
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = ftm_opaque(malloc(sizes[i]));
		if (!p)
			_exit(3);
		memset(p, 0x11, sizes[i]);
		free(p);
		/* reading freed memory on purpose: the zone stays mapped */
		if (ftm_find_not((unsigned char *)ftm_opaque(p) + 48, sizes[i] - 48, 0x5A) != (size_t)-1)
			_exit(10);
	}
}

/* a use after free: a freed block written, then its size asked again */
static void write_freed(void)
{
	for (int i = 0; i < 3; i++) {
		size_t n = i == 0 ? 100 : i == 1 ? 2000 : 20000;
		unsigned char *p = ftm_opaque(malloc(n));
		if (!p)
			_exit(3);
		free(p);
		((unsigned char *)ftm_opaque(p))[n - 8] = 0x42;   /* the bug */
		unsigned char *q = ftm_opaque(malloc(n));
		if (!q)
			_exit(3);
		if (q != p)
			_exit(4);                /* not the same block: the case cannot be made */
		free(q);
	}
}

/* a workload that writes only what it owns, with every kind of call */
static void clean_workload(void)
{
	enum { N = 512 };
	void *p[N] = { 0 };
	size_t len[N] = { 0 };
	uint64_t r = 7;
	for (int i = 0; i < 40000; i++) {
		int k = (int)(ftm_rand(&r) % N);
		size_t n = ftm_rand(&r) % 100 < 90 ? ftm_rand_range(&r, 1, 2000)
		         : ftm_rand_range(&r, 2001, 70000);
		switch (ftm_rand(&r) % 4) {
		case 0:
			free(p[k]);
			p[k] = malloc(n);
			break;
		case 1:                          /* grow or shrink in place or not */
			p[k] = realloc(p[k], n);
			break;
		case 2:
			free(p[k]);
			p[k] = calloc(1, n);
			break;
		default:
			free(p[k]);
			p[k] = memalign(64, n);
			break;
		}
		if (!p[k])
			_exit(3);
		memset(p[k], k & 0xff, n);
		len[k] = n;
	}
	for (int k = 0; k < N; k++) {
		if (ftm_find_not(p[k], len[k], k & 0xff) != (size_t)-1)
			_exit(10);
		free(p[k]);
	}
}

typedef struct {
	const char *name;
	void (*fn)(void);
	const char *vars[4];             /* set for the "on" run (NULL-terminated) */
} case_t;

static const case_t cases[] = {
	{ "FT_MALLOC_FILL_ALLOC=0xA5", fill_alloc, { "FT_MALLOC_FILL_ALLOC=0xA5" } },
	{ "FT_MALLOC_FILL_FREE=90", fill_free, { "FT_MALLOC_FILL_FREE=90" } },
	{ "FT_MALLOC_CHECK_FREED=1", write_freed, { "FT_MALLOC_CHECK_FREED=1" } },
	{ "FT_MALLOC_CHECK_FREED=1 with FT_MALLOC_ON_MISUSE=warn", write_freed,
	  { "FT_MALLOC_CHECK_FREED=1", "FT_MALLOC_ON_MISUSE=warn" } },
	{ "FT_MALLOC_CHECK_FREED=1 on a clean workload", clean_workload,
	  { "FT_MALLOC_CHECK_FREED=1", "FT_MALLOC_FILL_ALLOC=0x33" } },
	{ "FT_MALLOC_FILL_ALLOC=300", fill_alloc, { "FT_MALLOC_FILL_ALLOC=300" } },
	{ "FT_MALLOC_FILL_FREE=zz", fill_free, { "FT_MALLOC_FILL_FREE=zz" } },
	{ "FT_MALLOC_CHECK_FREED=2", write_freed, { "FT_MALLOC_CHECK_FREED=2" } },
};
#define NCASES (sizeof cases / sizeof cases[0])

static bool run_job(unsigned c, bool on, ftm_child_t *res)
{
	return ftm_run_self(c, on ? cases[c].vars : NULL, 60, res) == 0;
}

static int lines(const char *s, const char *prefix)
{
	return ftm_count_lines(s, prefix);
}

static bool exited0(const ftm_child_t *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

#define CASE_FN(k) cases[k].fn

int main(int argc, char **argv)
{
	FTM_SELF_DISPATCH(argc, argv, NCASES, CASE_FN);
	ftm_begin("fills");
	ftm_child_t on, off;

	/* the fills: present with the variable, absent without */
	for (unsigned c = 0; c < 2; c++) {
		if (!run_job(c, true, &on) || !run_job(c, false, &off))
			continue;
		ftm_check(exited0(&on) && on.errlen == 0, ftm_name("%s: the blocks hold the byte", cases[c].name),
		    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);
		ftm_check(WIFEXITED(off.status) && WEXITSTATUS(off.status) == 10,
		    ftm_name("%s: unset, the blocks do not", cases[c].name),
		    "the child %s", ftm_status_str(off.status));
	}

	/* the freed-memory check: abort, warn, and nothing when unset */
	if (run_job(2, true, &on) && run_job(2, false, &off)) {
		ftm_check(WIFSIGNALED(on.status) && WTERMSIG(on.status) == SIGABRT &&
		          lines(on.err, "ft_malloc: malloc(): use after free: freed memory at 0x") == 1,
		    "FT_MALLOC_CHECK_FREED=1: a write into a freed block: one line, then SIGABRT",
		    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);
		ftm_check(exited0(&off) && off.errlen == 0,
		    "FT_MALLOC_CHECK_FREED unset: the write goes unseen", "the child %s; stderr \"%.300s\"",
		    ftm_status_str(off.status), off.err);
	}
	if (run_job(3, true, &on))
		ftm_check(exited0(&on) && lines(on.err, "ft_malloc: malloc(): use after free") == 3,
		    "FT_MALLOC_CHECK_FREED=1, FT_MALLOC_ON_MISUSE=warn: a line for each of 3 writes, the run goes on",
		    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);
	if (run_job(4, true, &on))
		ftm_check(exited0(&on) && on.errlen == 0,
		    "FT_MALLOC_CHECK_FREED=1: 40,000 calls of every kind that write only their own memory raise nothing",
		    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);

	/* bad values: one line naming the variable, and the switch stays off */
	for (unsigned c = 5; c < NCASES; c++) {
		if (!run_job(c, true, &on))
			continue;
		ftm_check(lines(on.err, "ft_malloc: expected ") == 1 && strstr(on.err, cases[c].vars[0]),
		    ftm_name("%s: reported in one line", cases[c].name), "stderr \"%.300s\"", on.err);
		ftm_check(c == 7 ? exited0(&on) : WIFEXITED(on.status) && WEXITSTATUS(on.status) == 10,
		    ftm_name("%s: ignored, the switch stays off", cases[c].name),
		    "the child %s", ftm_status_str(on.status));
	}
	return ftm_end();
}
