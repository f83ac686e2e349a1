/*
 * knobs: the tuning variables FT_MALLOC_TCACHE, FT_MALLOC_LARGE_CACHE_MB
 * and FT_MALLOC_DECAY_OPS, each run with its setting and without it (the
 * library reads them at start-up, so the program runs itself again).
 *  - TCACHE=0: a freed 64-byte block goes straight back to its zone (no
 *    "  cached" line in show_alloc_mem_ex); by default it is cached.
 *  - LARGE_CACHE_MB=0: a freed LARGE block's mapping goes at once; by
 *    default it stays mapped for reuse.
 *  - DECAY_OPS=1: empty SMALL zones beyond the reserve go within a few
 *    operations; by default they wait 4096.
 *  - TCACHE_MAX=400: freed 500-byte blocks are not cached (no "  cached"
 *    line of 512 bytes); by default they are.
 *  - TCACHE_BYTES: rounds of 40 mallocs and frees of 500 bytes hit the
 *    thread cache on more frees with 65536 (64 blocks a list) than by
 *    default (15), and on fewer with 256 (4): FT_MALLOC_STATS counts.
 *  - Bad values are reported in one line and ignored.
 * ftm-mode: linked (it calls show_alloc_mem_ex)
 */
#include "ftm_test.h"
#include "ft_malloc.h"

#include <stdbool.h>

/* exit 10 + what was seen, so the parent can tell on from off */
static void tcache(void)
{
	static char buf[1 << 16];
	void *p = ftm_opaque(malloc(64));
	free(p);
	ssize_t n = ftm_capture_stdout(show_alloc_mem_ex, buf, sizeof buf);
	_exit(n > 0 && strstr(buf, "\n  cached ") ? 11 : 10);
}

/* Is the address inside any mapping of this process? */
static bool mapped(const void *p)
{
	static char buf[1 << 20];
	if (ftm_read_file("/proc/self/maps", buf, sizeof buf - 1) <= 0)
		_exit(3);
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long lo, hi;
		if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)p >= lo && (uintptr_t)p < hi)
			return true;
	}
	return false;
}

static void large_cache(void)
{
	char *p = ftm_opaque(malloc(1 << 20));
	if (!p)
		_exit(3);
	memset(p, 1, 1 << 20);
	free(p);
	_exit(mapped(p) ? 11 : 10);          /* 10: unmapped at once */
}

static void decay(void)
{
	enum { N = 4200 };                   /* 4200 x 5024 bytes: 2.5 SMALL zones (the reserve
	                                        keeps 1, the decay list 2 more) */
	static char *p[N];
	for (int i = 0; i < N; i++)
		if (!(p[i] = ftm_opaque(malloc(5000))))
			_exit(3);
	for (int i = 0; i < N; i++)
		free(p[i]);
	for (int i = 0; i < 20; i++)         /* a few more operations of the heap */
		free(ftm_opaque(malloc(5000)));
	int gone = 0;
	for (int i = 0; i < N; i += N / 8)   /* blocks all over the zones */
		gone += !mapped(p[i]);
	_exit(gone >= 2 ? 10 : 11);           /* 10: empty zones went */
}

static void nothing(void)
{
	_exit(0);
}

/* 10 + whether a freed 500-byte block is cached */
static void tcache_max(void)
{
	static char buf[1 << 16];
	void *p[40];
	for (int i = 0; i < 40; i++)
		p[i] = ftm_opaque(malloc(500));
	for (int i = 0; i < 40; i++)
		free(p[i]);
	ssize_t n = ftm_capture_stdout(show_alloc_mem_ex, buf, sizeof buf);
	_exit(n > 0 && strstr(buf, " : 512 bytes\n") && strstr(buf, "  cached ") ? 11 : 10);
}

/* rounds of 40 mallocs, then 40 frees; the counts come at exit */
static void tcache_rounds(void)
{
	void *p[40];
	for (int r = 0; r < 100; r++) {
		for (int i = 0; i < 40; i++)
			p[i] = ftm_opaque(malloc(500));
		for (int i = 0; i < 40; i++)
			free(p[i]);
	}
	exit(0);
}

static void (*const fns[])(void) = { tcache, large_cache, decay, nothing, tcache_max, tcache_rounds };
#define CASE_FN(k) fns[k]

static int code(const ftm_child_t *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

static void on_off(unsigned c, const char *var, int on_code, const char *on_what,
                   const char *off_what)
{
	const char *const vars[] = { var, NULL };
	ftm_child_t on, off;
	if (ftm_run_self(c, vars, 60, &on) != 0 || ftm_run_self(c, NULL, 60, &off) != 0)
		return;
	ftm_check(code(&on) == on_code && on.errlen == 0, ftm_name("%s: %s", var, on_what),
	    "the child %s; stderr \"%.300s\"", ftm_status_str(on.status), on.err);
	ftm_check(code(&off) == 21 - on_code, ftm_name("%s unset: %s", var, off_what),
	    "the child %s", ftm_status_str(off.status));
}

int main(int argc, char **argv)
{
	FTM_SELF_DISPATCH(argc, argv, 6, CASE_FN);
	ftm_begin("knobs");
	on_off(0, "FT_MALLOC_TCACHE=0", 10, "a freed block is not cached", "it is");
	on_off(1, "FT_MALLOC_LARGE_CACHE_MB=0", 10, "a freed LARGE mapping goes at once",
	       "it stays for reuse");
	on_off(2, "FT_MALLOC_DECAY_OPS=1", 10, "empty SMALL zones go within 20 operations",
	       "they wait");
	on_off(4, "FT_MALLOC_TCACHE_MAX=400", 10, "a freed 500-byte block is not cached", "it is");
	long long hits[3];
	static const char *const sizes[3] = { "FT_MALLOC_TCACHE_BYTES=256", NULL,
	                                      "FT_MALLOC_TCACHE_BYTES=65536" };
	for (int i = 0; i < 3; i++) {
		const char *const vars[] = { "FT_MALLOC_STATS=1", sizes[i], NULL };
		ftm_child_t r;
		const char *h = NULL;
		hits[i] = -1;
		if (ftm_run_self(5, vars, 60, &r) == 0 && code(&r) == 0 &&
		    (h = strstr(r.err, "thread cache hits: ")) && (h = strstr(h, ", free ")))
			hits[i] = strtoll(h + 7, NULL, 10);
	}
	ftm_check(hits[0] >= 0 && hits[1] > hits[0] && hits[2] > hits[1],
	    "FT_MALLOC_TCACHE_BYTES: more frees hit a bigger list (256, default, 65536)",
	    "free hits %lld, %lld, %lld", hits[0], hits[1], hits[2]);
	static const char *const bad[] = { "FT_MALLOC_TCACHE=2", "FT_MALLOC_LARGE_CACHE_MB=-1",
	                                   "FT_MALLOC_TCACHE_MAX=4097", "FT_MALLOC_TCACHE_BYTES=100",
	                                   "FT_MALLOC_LARGE_CACHE_MB=70000", "FT_MALLOC_DECAY_OPS=0",
	                                   "FT_MALLOC_DECAY_OPS=12x" };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *const vars[] = { bad[i], NULL };
		ftm_child_t r;
		if (ftm_run_self(3, vars, 30, &r) == 0)
			ftm_check(code(&r) == 0 && ftm_count_lines(r.err, "ft_malloc: expected ") == 1 &&
			          strstr(r.err, bad[i]),
			    ftm_name("%s: reported in one line, ignored", bad[i]), "stderr \"%.300s\"", r.err);
	}
	return ftm_end();
}
