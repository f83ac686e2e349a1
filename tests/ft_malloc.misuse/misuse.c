/*
 * misuse: each invalid free runs in a forked child (stderr captured, no
 * core dump).  The child must die by SIGABRT and its stderr must hold one
 * line that begins with "ft_malloc: " and mentions free.
 */
#include "ftm_test.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

static char static_area[256] __attribute__((aligned(16)));
static const size_t class_size[3] = { 100, 5000, 100000 };   /* TINY SMALL LARGE */

static void double_free(void *arg)
{
	size_t n = *(size_t *)arg;
	char *p = ftm_opaque(malloc(n));
	if (p == NULL)
		_exit(3);
	memset(p, 1, n);
	free(p);
	free(ftm_opaque(p));
}

static void free_stack(void *arg)
{
	char area[256] __attribute__((aligned(16)));
	(void)arg;
	memset(area, 1, sizeof area);
	free(ftm_opaque(area + 16));
}

static void free_static(void *arg)
{
	(void)arg;
	free(ftm_opaque(static_area + 16));
}

static void free_interior16(void *arg)
{
	size_t n = *(size_t *)arg;
	char *p = ftm_opaque(malloc(n));
	if (p == NULL)
		_exit(3);
	free(ftm_opaque(p + 16));
}

static void free_interior5(void *arg)
{
	size_t n = *(size_t *)arg;
	char *p = ftm_opaque(malloc(n));
	if (p == NULL)
		_exit(3);
	free(ftm_opaque(p + 5));
}

/* realloc(p, 0) frees p: freeing p again is a double free */
static void free_after_realloc0(void *arg)
{
	size_t n = *(size_t *)arg;
	char *p = ftm_opaque(malloc(n)), *q;
	if (p == NULL)
		_exit(3);
	q = realloc(p, 0);
	if (q != NULL)
		_exit(4);
	free(ftm_opaque(p));
}

/* A free of a freed block after other blocks came and went. */
static void late_double_free(void *arg)
{
	size_t n = *(size_t *)arg;
	char *p = ftm_opaque(malloc(n)), *x, *y;
	if (p == NULL)
		_exit(3);
	x = ftm_opaque(malloc(n * 2 + 100));
	free(p);
	y = ftm_opaque(malloc(n * 2 + 100));
	free(x);
	free(y);
	free(ftm_opaque(p));
}

/* An overflow from a block into the header of a freed neighbour that
 * waits in the thread's cache: when the cache gives it back (here at
 * thread exit) the smashed header is caught, never trusted. */
static void *smash_cached_thread(void *arg)
{
	(void)arg;
	/* 32 bytes: 48-byte blocks (16-byte header); find two neighbours */
	char *p[8], *lo = NULL, *hi = NULL;
	int i, j;
	for (i = 0; i < 8; i++)
		if ((p[i] = ftm_opaque(malloc(32))) == NULL)
			_exit(3);
	for (i = 0; i < 8 && !lo; i++)
		for (j = 0; j < 8; j++)
			if (p[j] - p[i] == 48) {
				lo = p[i];
				hi = p[j];
				break;
			}
	if (!lo)
		_exit(3);                   /* no neighbours: the test cannot run */
	free(hi);                           /* into this thread's cache */
	memset(lo, 0x41, 32 + 8);           /* 8 bytes past lo: into hi's header */
	return NULL;
}

static void smash_cached(void *arg)
{
	pthread_t t;
	(void)arg;
	if (pthread_create(&t, NULL, smash_cached_thread, NULL) != 0)
		_exit(3);
	pthread_join(t, NULL);
	free(ftm_opaque(malloc(32)));
}

/* The first block of a zone starts 32 bytes into it: free(zone start)
 * must be diagnosed without reading below the zone (made unreadable). */
static void free_zone_start(void *arg)
{
	(void)arg;
	char *p = ftm_opaque(malloc(16));
	char *z = p - 32;
	if (p == NULL || ((uintptr_t)z & 4095))
		_exit(3);                   /* p is not its zone's first block */
	void *below = mmap(z - 4096, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	(void)below;
	free(ftm_opaque(z));
}

/* Blocks freed in bulk move on from the freeing thread's cache: onto the
 * transfer list of their arena, or onto the remote list of another live
 * thread's arena.  A second free of any of them, wherever it sits, is
 * caught: `index` picks the block, `remote` whether another thread made
 * them (and waits, alive, so its arena takes remote frees).  16 KiB blocks
 * of another thread go onto its arena's remote list one by one (until the
 * list is long: then under its lock). */
enum { BULK = 200 };
typedef struct { int index, remote; size_t size; } bulk_t;
static size_t bulk_size;
static char *bulk[BULK];
static int bulk_ready[2];

static void *bulk_owner(void *arg)
{
	char c = 0;
	(void)arg;
	for (int i = 0; i < BULK; i++)
		if ((bulk[i] = ftm_opaque(malloc(bulk_size))) == NULL)
			_exit(3);
	if (write(bulk_ready[1], &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();                    /* alive until the process ends */
	return NULL;
}

static void bulk_double_free(void *arg)
{
	const bulk_t *t = arg;
	char c;
	pthread_t th;
	bulk_size = t->size;
	if (t->remote) {
		if (pipe(bulk_ready) != 0 || pthread_create(&th, NULL, bulk_owner, NULL) != 0 ||
		    read(bulk_ready[0], &c, 1) != 1)
			_exit(3);
	} else {
		for (int i = 0; i < BULK; i++)
			if ((bulk[i] = ftm_opaque(malloc(bulk_size))) == NULL)
				_exit(3);
	}
	for (int i = 0; i < BULK; i++)
		free(bulk[i]);
	free(ftm_opaque(bulk[t->index]));
}

/* A LARGE block too big for the cache of freed mappings is unmapped at
 * free: a second free must still be diagnosed, not crash on its header. */
static void large_unmapped_double_free(void *arg)
{
	(void)arg;
	char *p = ftm_opaque(malloc((size_t)300 << 20));
	if (p == NULL)
		_exit(3);
	p[0] = 1;
	free(p);
	free(ftm_opaque(p));
}

/* A SIGABRT handler that allocates, as a crash reporter may: the report of
 * a misuse found while an arena's lock was held (a smashed header met when
 * a thread's cache goes back at its exit) must come after the lock went,
 * or the handler would hang. */
static void abort_handler(int sig)
{
	void *q = malloc(20000);
	free(q);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void smash_cached_with_handler(void *arg)
{
	signal(SIGABRT, abort_handler);
	smash_cached(arg);
}

/* Three blocks of n bytes side by side, in address order, into t[]; the
 * other blocks of the 100 made stay live.  Exits 4 if there are none. */
static void three_in_a_row(size_t n, char *t[3])
{
	enum { N = 100 };
	char *p[N];
	for (int i = 0; i < N; i++)
		if (!(p[i] = ftm_opaque(malloc(n))))
			_exit(3);
	size_t step = malloc_usable_size(p[0]) + 16;   /* block size: header + usable */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			for (int k = 0; k < N && p[j] == p[i] + step; k++)
				if (p[k] == p[j] + step) {
					t[0] = p[i], t[1] = p[j], t[2] = p[k];
					return;
				}
	_exit(4);
}

/* An overflow from a live block into the next one, which is free: found
 * before the allocator follows the smashed links (a free-list block's
 * sealed links, freelist.c; a cached block's link and key, tcache.h), by
 * the next malloc of that size.  *arg: the size; the overflow covers the
 * next block's header and first 48 bytes. */
static void smash_free_next(void *arg)
{
	size_t n = *(const size_t *)arg;
	char *t[3];
	three_in_a_row(n, t);
	size_t step = (size_t)(t[1] - t[0]);
	free(t[1]);                                  /* between two live blocks */
	memset(t[0], 'A', step - 16 + 64);
	free(ftm_opaque(malloc(n)));
	_exit(0);                                    /* not found */
}

/* A write after free into a free block's list links (the first 16 bytes
 * it held; its header is intact), found before the block is merged: by
 * free, or realloc growing in place, of the block before it.  The bytes
 * written repeat (a memset): the links' seal must still change. */
typedef struct {
	size_t n;        /* block size asked for, above the thread caches' 4 KiB */
	int byte;        /* memset with this byte */
	size_t len;      /* 8: the next link only; 16: both links */
	bool grow;       /* found by realloc, not free */
} uaf_case;

static void uaf_links(void *arg)
{
	const uaf_case *u = arg;
	char *t[3];
	three_in_a_row(u->n, t);
	free(t[1]);
	memset(t[1], u->byte, u->len);
	if (u->grow)
		t[0] = realloc(t[0], u->n + 64);
	else
		free(t[0]);
	_exit(0);                                    /* not found */
}

static void run_msg(const char *what, void (*fn)(void *), void *arg, const char *word);

static void run(const char *what, void (*fn)(void *), void *arg)
{
	run_msg(what, fn, arg, "free");
}

static void run_msg(const char *what, void (*fn)(void *), void *arg, const char *word)
{
	ftm_child_t res;
	const char *line = NULL, *l;
	int nlines = 0;

	if (ftm_run_child(fn, arg, 20, &res) != 0) {
		ftm_check(0, ftm_name("%s: child runs", what), "fork failed: %s", strerror(errno));
		return;
	}
	ftm_check(WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGABRT,
	    ftm_name("%s: the process dies by SIGABRT", what), "the child %s%s",
	    ftm_status_str(res.status), res.timed_out ? " (hung)" : "");
	for (l = res.err; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, "ft_malloc: ", 11) == 0) {
			if (line == NULL)
				line = l;
			nlines++;
		}
	{
		char first[300] = "";
		if (line != NULL)
			snprintf(first, sizeof first, "%.*s", (int)strcspn(line, "\n"), line);
		ftm_check(nlines == 1, ftm_name("%s: stderr has one line beginning \"ft_malloc: \"", what),
		    "%d such lines; stderr was \"%.200s\"", nlines, res.err);
		ftm_check(line != NULL && strstr(first, word) != NULL,
		    ftm_name("%s: the message mentions %s", what, word), "message \"%s\"", first);
	}
}

int main(void)
{
	static const char *cls[3] = { "TINY", "SMALL", "LARGE" };
	int k;

	ftm_begin("misuse");
	for (k = 0; k < 3; k++)
		run(ftm_name("double free %s", cls[k]), double_free, (void *)&class_size[k]);
	for (k = 0; k < 3; k++)
		run(ftm_name("late double free %s", cls[k]), late_double_free, (void *)&class_size[k]);
	for (k = 0; k < 3; k++)
		run(ftm_name("free after realloc(p, 0) %s", cls[k]), free_after_realloc0,
		    (void *)&class_size[k]);
	run("free of a stack address", free_stack, NULL);
	run("free of a static address", free_static, NULL);
	for (k = 0; k < 3; k++)
		run(ftm_name("free(p + 16) %s", cls[k]), free_interior16, (void *)&class_size[k]);
	for (k = 0; k < 3; k++)
		run(ftm_name("free(p + 5) %s", cls[k]), free_interior5, (void *)&class_size[k]);

	{
		static const int idx[] = { 0, 42, 84, 127, 150, 199 };
		static bulk_t b[3][6];
		for (int r = 0; r < 3; r++)
			for (k = 0; k < 6; k++) {
				b[r][k] = (bulk_t){ idx[k], r > 0, r == 2 ? 16384 : 32 };
				run(ftm_name("double free of block %d of %d freed in bulk (%s)", idx[k], BULK,
				             r == 2 ? "16 KiB, made by another thread"
				             : r ? "made by another thread" : "made by this thread"),
				    bulk_double_free, &b[r][k]);
			}
	}
	run("an overflow into a cached block's header", smash_cached, NULL);
	run("an overflow into a cached block's header, with a SIGABRT handler that allocates",
	    smash_cached_with_handler, NULL);
	static const size_t smash_sizes[] = { 200, 5000, 20000 };
	static const char *const smash_where[] = { "a cached 200-byte block's link and key",
	                                           "a free 5000-byte block's list links",
	                                           "a free 20000-byte block's list links" };
	for (int k = 0; k < 3; k++)
		run_msg(ftm_name("an overflow into %s, found by the next malloc", smash_where[k]),
		        smash_free_next, (void *)&smash_sizes[k], "corruption");
	{
		static const uaf_case uaf[] = {
			{ 5000, 'A', 16, false }, { 5000, 0xff, 8, false }, { 20000, 0x01, 16, false },
			{ 5000, 'A', 16, true }, { 20000, 0xff, 8, true }, { 20000, 0x5a, 8, true },
		};
		for (size_t i = 0; i < sizeof uaf / sizeof uaf[0]; i++)
			run_msg(ftm_name("a write after free of %zu bytes of 0x%02x into a free %zu-byte "
			                 "block's links, found by %s of the block before it", uaf[i].len,
			                 uaf[i].byte, uaf[i].n, uaf[i].grow ? "realloc" : "free"),
			        uaf_links, (void *)&uaf[i],
			        uaf[i].grow ? "realloc(): heap corruption" : "free(): heap corruption");
	}
	run("double free of a 300 MiB block, unmapped at the first free", large_unmapped_double_free, NULL);
	run("free of a zone's start", free_zone_start, NULL);

	/* the parent, which did none of this, is fine */
	{
		void *p = ftm_opaque(malloc(10));
		ftm_check(p != NULL, "the parent still allocates", "NULL");
		free(p);
	}
	return ftm_end();
}
