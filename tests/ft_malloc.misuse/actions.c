/*
 * actions: what FT_MALLOC_ON_MISUSE makes of a misuse found before
 * anything was touched.
 *
 * Each case runs in a child that executes this program again with the
 * variable set (the library reads it at start-up): unset and "abort" must
 * die by SIGABRT after one "ft_malloc: " line; "warn" must print that line
 * and go on; "ignore" must go on silently.  Going on, the refused call
 * changed nothing: the heap still hands out distinct, intact blocks (a
 * refused double free did not list a block twice), realloc returned NULL
 * and left the block alone, malloc_usable_size returned 0.  Corruption
 * met inside the allocator's own lists aborts whatever the setting.
 */
#include "ftm_test.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

/* After a refused misuse: many blocks of a few sizes, all distinct and
 * intact, then freed.  Exits 5 if anything is wrong. */
static void heap_still_sound(void)
{
	enum { N = 200 };
	static const size_t sizes[] = { 100, 5000, 100000 };
	char *p[N];
	for (int i = 0; i < N; i++) {
		size_t n = sizes[i % 3];
		p[i] = malloc(n);
		if (!p[i])
			_exit(5);
		memset(p[i], i & 0xff, n);
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (p[i] == p[j])
				_exit(5);            /* one block handed out twice */
	for (int i = 0; i < N; i++) {
		size_t n = sizes[i % 3];
		if (ftm_find_not(p[i], n, i & 0xff) != (size_t)-1)
			_exit(5);
		free(p[i]);
	}
}

static void survived(void)
{
	heap_still_sound();
	static const char msg[] = "survived\n";
	ftm_write_all(2, msg, sizeof msg - 1);
	_exit(0);
}

/* ---- the cases: each does one misuse, then survived() ---- */

static void double_free(size_t n)
{
	char *p = ftm_opaque(malloc(n));
	if (!p)
		_exit(3);
	free(p);
	free(ftm_opaque(p));
}

static void case_double_free_tiny(void) { double_free(100); }     /* in the thread cache */
static void case_double_free_small(void) { double_free(5000); }   /* in its zone */
static void case_double_free_large(void) { double_free(100000); } /* a span, out of the page map */

static void case_free_stack(void)
{
	char area[256] __attribute__((aligned(16)));
	memset(area, 1, sizeof area);
	free(ftm_opaque(area + 16));
}

static void case_free_interior5(void)
{
	char *p = ftm_opaque(malloc(100));
	if (!p)
		_exit(3);
	free(ftm_opaque(p + 5));
	free(p);                        /* the block itself is still live */
}

static void case_free_interior16(void)
{
	char *p = ftm_opaque(malloc(5000));
	if (!p)
		_exit(3);
	free(ftm_opaque(p + 16));
	free(p);
}

/* memory of another allocator: a page mapped by the program */
static void case_free_foreign(void)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(3);
	free(ftm_opaque(m + 64));
}

static void case_realloc_interior(void)
{
	char *p = ftm_opaque(malloc(200));
	if (!p)
		_exit(3);
	memset(p, 7, 200);
	errno = 0;
	char *q = realloc(ftm_opaque(p + 16), 400);
	if (q != NULL || errno != EINVAL || ftm_find_not(p, 200, 7) != (size_t)-1)
		_exit(6);                    /* refused: NULL, EINVAL, p untouched */
	free(p);
}

static void case_usable_foreign(void)
{
	static char area[64] __attribute__((aligned(16)));
	if (malloc_usable_size(ftm_opaque(area + 16)) != 0)
		_exit(6);
}

/* an overflow from p smashes the header of q, the block after it; q's
 * free is refused before the zone is touched */
static void case_free_smashed(void)
{
	char *p = ftm_opaque(malloc(5000)), *q = ftm_opaque(malloc(5000));
	if (!p || !q)
		_exit(3);
	size_t n = malloc_usable_size(p);
	if (q != p + n + 16)
		_exit(4);                    /* not neighbours: the case cannot be made */
	memset(p, 'A', n + 16);
	free(q);
}

/* an overflow smashes the header of a freed block that waits in a thread's
 * cache; the cache gives it back at the thread's exit and finds it: inside
 * the allocator's own work, so always abort */
static void *smash_cached_thread(void *arg)
{
	(void)arg;
	char *p[8], *lo = NULL, *hi = NULL;
	for (int i = 0; i < 8; i++)
		if ((p[i] = ftm_opaque(malloc(32))) == NULL)
			_exit(3);
	for (int i = 0; i < 8 && !lo; i++)
		for (int j = 0; j < 8; j++)
			if (p[j] - p[i] == 48) {     /* 48-byte blocks: neighbours */
				lo = p[i];
				hi = p[j];
				break;
			}
	if (!lo)
		_exit(4);
	free(hi);
	memset(lo, 0x41, 32 + 8);            /* into hi's header */
	return NULL;
}

static void case_smashed_cached(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, smash_cached_thread, NULL) != 0)
		_exit(3);
	pthread_join(t, NULL);
}

typedef struct {
	const char *name;
	void (*fn)(void);
	bool clean;                     /* found before anything was touched */
} case_t;

static const case_t cases[] = {
	{ "double free of a TINY block", case_double_free_tiny, true },
	{ "double free of a SMALL block", case_double_free_small, true },
	{ "double free of a LARGE block", case_double_free_large, true },
	{ "free of a stack address", case_free_stack, true },
	{ "free(p + 5)", case_free_interior5, true },
	{ "free(p + 16) of a SMALL block", case_free_interior16, true },
	{ "free of another allocator's memory", case_free_foreign, true },
	{ "realloc(p + 16)", case_realloc_interior, true },
	{ "malloc_usable_size of a static address", case_usable_foreign, true },
	{ "free of a block whose header an overflow smashed", case_free_smashed, true },
	{ "a cached block's header smashed, found at thread exit", case_smashed_cached, false },
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- the parent: each case under each setting ---- */

static void run(unsigned c, const char *setting)
{
	const case_t *k = &cases[c];
	ftm_child_t res;
	const char *what = ftm_name("%s, FT_MALLOC_ON_MISUSE %s", k->name,
	                            setting ? setting : "unset");
	const char *vars[] = { setting ? ftm_name("FT_MALLOC_ON_MISUSE=%s", setting) : NULL, NULL };
	if (ftm_run_self(c, vars, 20, &res) != 0) {
		ftm_check(0, ftm_name("%s: child runs", what), "fork failed");
		return;
	}
	int lines = ftm_count_lines(res.err, "ft_malloc: ");
	int goes_on = setting && k->clean && strcmp(setting, "abort") != 0;
	if (!goes_on) {
		ftm_check(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGABRT,
		    ftm_name("%s: dies by SIGABRT", what), "the child %s; stderr \"%.300s\"",
		    ftm_status_str(res.status), res.err);
		ftm_check(lines == 1, ftm_name("%s: one line on stderr", what),
		    "%d lines; stderr \"%.300s\"", lines, res.err);
		return;
	}
	int warn = strcmp(setting, "warn") == 0;
	ftm_check(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 &&
	          ftm_count_lines(res.err, "survived") == 1,
	    ftm_name("%s: goes on, the call refused and the heap sound", what),
	    "the child %s; stderr \"%.300s\"", ftm_status_str(res.status), res.err);
	ftm_check(lines == (warn ? 1 : 0),
	    ftm_name("%s: %s", what, warn ? "one line on stderr" : "nothing on stderr"),
	    "%d lines; stderr \"%.300s\"", lines, res.err);
	if (warn && lines == 1) {
		const char *l = strstr(res.err, "ft_malloc: ");
		ftm_check(strstr(l, "0x") != NULL && strchr(l, '(') != NULL,
		    ftm_name("%s: the line names the function and the pointer", what),
		    "\"%.200s\"", l);
	}
}

int main(int argc, char **argv)
{
	int c = ftm_self_case(argc, argv);
	if (c >= 0) {
		if ((unsigned)c >= NCASES)
			return 2;
		cases[c].fn();
		survived();
	}
	ftm_begin("actions");
	static const char *settings[] = { NULL, "abort", "warn", "ignore" };
	for (unsigned k = 0; k < NCASES; k++)
		for (unsigned s = 0; s < 4; s++)
			run(k, settings[s]);

	/* a bad value: reported, and the default (abort) kept */
	{
		static const char *const bad[] = { "FT_MALLOC_ON_MISUSE=sometimes", NULL };
		ftm_child_t res;
		if (ftm_run_self(0, bad, 20, &res) == 0) {
			ftm_check(strstr(res.err, "FT_MALLOC_ON_MISUSE=sometimes") != NULL &&
			          strstr(res.err, "expected abort, warn or ignore") != NULL,
			    "FT_MALLOC_ON_MISUSE=sometimes: reported on stderr", "stderr \"%.300s\"", res.err);
			ftm_check(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGABRT,
			    "FT_MALLOC_ON_MISUSE=sometimes: the default, abort, stays",
			    "the child %s", ftm_status_str(res.status));
		}
	}
	return ftm_end();
}
