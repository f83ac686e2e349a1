/*
 * early.c - allocations that come before libft_malloc's constructor.
 *
 * Linked with libearly.so (early_lib.c; preload.exp builds both and runs
 * this program linked with -lft_malloc and preloaded): libearly's
 * constructor allocated before ours ran and started a thread that keeps
 * allocating while main() begins.  Here: the early blocks are ft_malloc's
 * (malloc_usable_size, show_alloc_mem found with dlsym), their contents
 * survived, the thread's blocks are right; an atexit handler frees blocks
 * allocated early, and libearly's destructor frees more after ours ran.
 */
#include "preload.h"
#include "early.h"

#include <pthread.h>

static void *early_kept, *thread_kept;

static int early_pattern_ok(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 31u + i * 7u + (i >> 8)))
			return 0;
	return 1;
}

/* Runs at exit (before the destructors). */
static void at_exit_free(void)
{
	int ok = early_pattern_ok(early_kept, EARLY_KEPT_SIZE, EARLY_KEPT_SEED) &&
	    thread_kept != NULL && early_pattern_ok(thread_kept, 1777, 1777);
	void *p;

	free(early_kept);
	free(thread_kept);
	p = malloc(ftm_size(100));            /* and allocate again at exit */
	ok = ok && p != NULL;
	free(p);
	ftm_check(ok, "an atexit handler frees blocks of the constructor and its thread", NULL);
}

int main(void)
{
	early_state_t *st;
	void (*sam)(void);
	void *mine[2000];
	size_t i, u;
	int bad = 0, r;

	early_main_started();             /* the thread may overlap from here */
	/* main allocates while libearly's thread does */
	for (i = 0; i < 2000; i++) {
		mine[i] = malloc(ftm_size(1 + (i * 37) % 5000));
		if (mine[i])
			ftm_fill(mine[i], 1 + (i * 37) % 5000, i);
		if (i % 4 == 3) {
			free(mine[i - 1]);
			mine[i - 1] = NULL;
		}
	}

	ftm_begin("early");
	st = early_state();

	ftm_check(st->ran, "libearly's constructor ran before main", NULL);
	ftm_check(st->ctor_bad == 0, "malloc, calloc, realloc, free in a constructor before ours",
	    "%d errors, first: %s", st->ctor_bad, st->ctor_err);
	ftm_check(st->kept != NULL, "the constructor kept a block", NULL);
	if (st->kept == NULL)
		return ftm_end();
	early_kept = st->kept;
	ftm_check(early_pattern_ok(st->kept, EARLY_KEPT_SIZE, EARLY_KEPT_SEED),
	    "the constructor's block keeps its contents", NULL);
	u = malloc_usable_size(st->kept);
	ftm_check(u >= EARLY_KEPT_SIZE && u == st->kept_usable,
	    "malloc_usable_size of the constructor's block",
	    "%zu now, %zu in the constructor, asked %d", u, st->kept_usable, EARLY_KEPT_SIZE);

	r = early_join();
	ftm_check(r == 0, "join the thread the constructor started", "early_join: %d", r);
	ftm_check(st->thread_bad == 0 && st->thread_blocks > 0,
	    "the constructor's thread allocates and keeps contents",
	    "%d errors, %d blocks", st->thread_bad, st->thread_blocks);
	ftm_check(st->thread_overlap > 0, "the constructor's thread ran while main allocated",
	    "rounds after main began: %d", st->thread_overlap);
	thread_kept = st->thread_kept;
	ftm_check(thread_kept && early_pattern_ok(thread_kept, 1777, 1777),
	    "the block the thread left keeps its contents", NULL);

	for (i = 0; i < 2000; i++)
		if (mine[i] && ftm_verify(mine[i], 1 + (i * 37) % 5000, i) != (size_t)-1)
			bad++;
	ftm_check(bad == 0, "main's blocks, allocated beside the thread, keep their contents",
	    "%d damaged", bad);

	*(void **)&sam = dlsym(RTLD_DEFAULT, "show_alloc_mem");
	ftm_check(sam != NULL, "show_alloc_mem found with dlsym", "%s", dlerror());
	if (sam != NULL && pl_capture_show(sam) >= 0) {
		ftm_check(pl_listed(st->kept, EARLY_KEPT_SIZE),
		    "show_alloc_mem lists the constructor's block", "%p of %d bytes",
		    st->kept, EARLY_KEPT_SIZE);
		ftm_check(thread_kept && pl_listed(thread_kept, 1777),
		    "show_alloc_mem lists the block of the constructor's thread", "%p", thread_kept);
		ftm_check(mine[0] && pl_listed(mine[0], 1), "show_alloc_mem lists main's blocks", NULL);
	}

	for (i = 0; i < 2000; i++)
		free(mine[i]);
	atexit(at_exit_free);
	return ftm_end();
}
