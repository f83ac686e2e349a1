/*
 * guard: FT_MALLOC_GUARD=large and FT_MALLOC_GUARD=all.
 *
 * Each case runs in a child that executes this program again with the
 * variable set, and again with it unset, where the guard must be absent:
 *  - large: a LARGE block's mapping is followed by an inaccessible page
 *    (seen in /proc/self/maps), and a write just past the block's usable
 *    end dies by SIGSEGV;
 *  - all: a 96-byte block ends right before an inaccessible page, so a
 *    write one byte past it dies by SIGSEGV (without the guard it lands
 *    in the zone: no fault);
 *  - all: every function keeps working on guarded blocks (contents,
 *    alignment, usable size, realloc both ways, calloc's zeros);
 *  - a bad value is reported and ignored.
 */
#include "ftm_test.h"

#include <stdbool.h>

/* Is the page right after the mapping that holds p inaccessible? */
static bool guard_follows(const void *p)
{
	static char buf[1 << 20];
	if (ftm_read_file("/proc/self/maps", buf, sizeof buf - 1) <= 0)
		_exit(3);
	unsigned long end = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(l, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		if (end)
			return lo == end && strncmp(perms, "---p", 4) == 0;
		if ((uintptr_t)p >= lo && (uintptr_t)p < hi)
			end = hi;
	}
	return false;
}

static void large_mapping(void)
{
	char *p = ftm_opaque(malloc(100000));
	if (!p)
		_exit(3);
	memset(p, 1, malloc_usable_size(p));
	_exit(guard_follows(p) ? 0 : 10);
}

static void large_overflow(void)
{
	char *p = ftm_opaque(malloc(100000));
	if (!p)
		_exit(3);
	size_t n = malloc_usable_size(p);
	if (!guard_follows(p))
		_exit(10);                   /* no guard: the write below could hit anything */
	((volatile char *)p)[n] = 1;         /* faults */
	_exit(0);
}

static void all_overflow(void)
{
	char *p = ftm_opaque(malloc(96));
	if (!p)
		_exit(3);
	memset(p, 1, 96);
	((volatile char *)p)[96] = 1;        /* faults with the guard; in the zone without */
	_exit(0);
}

static void all_workload(void)
{
	enum { N = 300 };
	void *p[N] = { 0 };
	size_t len[N] = { 0 };
	uint64_t r = 11;
	for (int i = 0; i < 3000; i++) {
		int k = (int)(ftm_rand(&r) % N);
		size_t n = ftm_rand(&r) % 100 < 90 ? ftm_rand_range(&r, 0, 3000)
		         : ftm_rand_range(&r, 3001, 200000);
		size_t align = 16;
		unsigned op = (unsigned)(ftm_rand(&r) % 5);
		if (op == 1 && p[k]) {                  /* realloc, keeping the contents */
			char *q = realloc(p[k], n);
			if (n && !q)
				_exit(3);
			size_t keep = n < len[k] ? n : len[k];
			if (q && ftm_find_not(q, keep, k & 0xff) != (size_t)-1)
				_exit(11);
			p[k] = q;
		} else {
			free(p[k]);
			if (op == 2) {
				p[k] = calloc(1, n);
				if (p[k] && ftm_find_not(p[k], n, 0) != (size_t)-1)
					_exit(12);
			} else if (op == 3) {
				align = (size_t)1 << ftm_rand_range(&r, 4, 13);
				p[k] = aligned_alloc(align, n);
			} else {
				p[k] = malloc(n);
			}
		}
		if (p[k] == NULL) {
			if (n)
				_exit(3);
			len[k] = 0;
			continue;
		}
		if (!ftm_aligned(p[k], align) || malloc_usable_size(p[k]) < n)
			_exit(13);
		memset(p[k], k & 0xff, n);
		len[k] = n;
	}
	for (int k = 0; k < N; k++) {
		if (p[k] && ftm_find_not(p[k], len[k], k & 0xff) != (size_t)-1)
			_exit(11);
		free(p[k]);
	}
	_exit(0);
}

static void nothing(void)
{
	_exit(0);
}

typedef struct {
	void (*fn)(void);
	const char *vars[2];
} case_t;

static const case_t cases[] = {
	{ large_mapping, { "FT_MALLOC_GUARD=large" } },
	{ large_overflow, { "FT_MALLOC_GUARD=large" } },
	{ all_overflow, { "FT_MALLOC_GUARD=all" } },
	{ all_workload, { "FT_MALLOC_GUARD=all" } },
	{ nothing, { "FT_MALLOC_GUARD=maybe" } },
};
#define NCASES (sizeof cases / sizeof cases[0])

static bool status_is(const ftm_child_t *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

static bool segv(const ftm_child_t *r)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGSEGV;
}

#define CASE_FN(k) cases[k].fn

int main(int argc, char **argv)
{
	FTM_SELF_DISPATCH(argc, argv, NCASES, CASE_FN);
	ftm_begin("guard");
	ftm_child_t on, off;
	if (ftm_run_self(0, cases[0].vars, 30, &on) == 0 && ftm_run_self(0, NULL, 30, &off) == 0) {
		ftm_check(status_is(&on, 0), "FT_MALLOC_GUARD=large: an inaccessible page follows a LARGE block",
		    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);
#if defined(__SANITIZE_THREAD__)
		/* ThreadSanitizer reserves inaccessible ranges of its own, which
		 * the kernel may place right after the block's mapping */
		ftm_unsupported("FT_MALLOC_GUARD unset: none follows it",
		                "ThreadSanitizer's own inaccessible mappings may follow any mapping");
#else
		ftm_check(status_is(&off, 10), "FT_MALLOC_GUARD unset: none follows it",
		    "the child %s", ftm_status_str(off.status));
#endif
	}
	if (ftm_run_self(1, cases[1].vars, 30, &on) == 0)
		ftm_check(segv(&on), "FT_MALLOC_GUARD=large: a write just past a LARGE block's usable end faults",
		    "the child %s", ftm_status_str(on.status));
	if (ftm_run_self(2, cases[2].vars, 30, &on) == 0 && ftm_run_self(2, NULL, 30, &off) == 0) {
		ftm_check(segv(&on), "FT_MALLOC_GUARD=all: a write one byte past a 96-byte block faults",
		    "the child %s", ftm_status_str(on.status));
		ftm_check(status_is(&off, 0), "FT_MALLOC_GUARD unset: the same write does not fault",
		    "the child %s", ftm_status_str(off.status));
	}
	if (ftm_run_self(3, cases[3].vars, 120, &on) == 0)
		ftm_check(status_is(&on, 0) && on.errlen == 0,
		    "FT_MALLOC_GUARD=all: malloc, calloc, realloc, aligned_alloc and free keep contents, alignment and sizes",
		    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);
	if (ftm_run_self(4, cases[4].vars, 30, &on) == 0)
		ftm_check(status_is(&on, 0) && ftm_count_lines(on.err, "ft_malloc: expected 0, large or all") == 1 &&
		          strstr(on.err, "FT_MALLOC_GUARD=maybe"),
		    "FT_MALLOC_GUARD=maybe: reported in one line, ignored", "the child %s; stderr \"%.300s\"",
		    ftm_status_str(on.status), on.err);
	return ftm_end();
}
