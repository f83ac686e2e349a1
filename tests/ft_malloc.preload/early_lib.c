/*
 * early_lib.c - libearly.so (built by preload.exp, linked to early.c).
 *
 * Its constructor runs before libft_malloc's: it mallocs, frees, reallocs,
 * keeps a block (checked by main with malloc_usable_size and
 * show_alloc_mem), keeps EARLY_NCTOR more blocks that its destructor frees
 * (after libft_malloc's destructor has run, at exit), and starts a thread
 * that allocates while the process goes on starting and main() begins.
 */
#define _GNU_SOURCE 1
#include "early.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static early_state_t st;
static pthread_t thr;
static atomic_int main_started;
static void *ctor_blocks[EARLY_NCTOR];

early_state_t *early_state(void) { return &st; }
void early_main_started(void) { atomic_store(&main_started, 1); }

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31u + i * 7u + (i >> 8));
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 31u + i * 7u + (i >> 8)))
			return 0;
	return 1;
}

static void *thread_main(void *arg)
{
	static void *b[EARLY_THREAD_BLOCKS];
	static size_t n[EARLY_THREAD_BLOCKS];
	unsigned s = 12345;
	int round;
	(void)arg;

	/* ten rounds, a short sleep between them; the last five wait for
	 * main() to begin (up to 5 s), so they run while it allocates too */
	for (round = 0; round < 10; round++) {
		int first = round * (EARLY_THREAD_BLOCKS / 10);
		int last = first + EARLY_THREAD_BLOCKS / 10;
		if (round == 5)         /* the second half overlaps main() */
			for (int w = 0; w < 5000 && !atomic_load(&main_started); w++)
				usleep(1000);
		if (atomic_load(&main_started))
			st.thread_overlap++;
		for (int i = first; i < last; i++) {
			s = s * 1103515245u + 12345u;
			n[i] = (i % 97 == 0) ? 40000 + (s >> 16) % 20000 : 1 + (s >> 16) % 2000;
			b[i] = malloc(n[i]);
			if (!b[i]) {
				st.thread_bad++;
				continue;
			}
			fill(b[i], n[i], (unsigned)i);
			if (i % 3 == 0) {       /* grow some */
				void *r = realloc(b[i], n[i] + 500);
				if (!r) {
					st.thread_bad++;
					continue;
				}
				b[i] = r;
				fill((unsigned char *)b[i] + n[i], 500, (unsigned)i + 1000000);
			}
		}
		for (int i = first; i < last; i += 2) {   /* free half */
			if (!b[i])
				continue;
			if (!check(b[i], n[i], (unsigned)i))
				st.thread_bad++;
			free(b[i]);
			b[i] = NULL;
		}
		usleep(2000);
	}
	for (int i = 0; i < EARLY_THREAD_BLOCKS; i++) {
		if (!b[i])
			continue;
		if (!check(b[i], n[i], (unsigned)i))
			st.thread_bad++;
		if (i % 3 == 0 && !check((unsigned char *)b[i] + n[i], 500, (unsigned)i + 1000000))
			st.thread_bad++;
		free(b[i]);
		st.thread_blocks++;
	}
	st.thread_kept = malloc(1777);
	if (st.thread_kept)
		fill(st.thread_kept, 1777, 1777);
	else
		st.thread_bad++;
	return NULL;
}

int early_join(void)
{
	if (!st.thread_started)
		return -1;
	return pthread_join(thr, NULL);
}

static void bad(const char *what)
{
	st.ctor_bad++;
	if (st.ctor_err[0] == '\0')
		snprintf(st.ctor_err, sizeof st.ctor_err, "%s", what);
}

__attribute__((constructor))
static void early_ctor(void)
{
	void *a, *b, *c;

	st.ran = 1;
	a = malloc(10);
	b = malloc(200000);
	if (!a || !b)
		bad("malloc in a constructor returned NULL");
	free(a);
	c = calloc(100, 10);
	if (!c)
		bad("calloc in a constructor returned NULL");
	else
		for (int i = 0; i < 1000; i++)
			if (((unsigned char *)c)[i] != 0) {
				bad("calloc memory not zeroed");
				break;
			}
	if (b) {
		fill(b, 1000, 7);
		b = realloc(b, 300);           /* LARGE -> smaller */
		if (!b || !check(b, 300, 7))
			bad("realloc of a LARGE block lost its contents");
	}
	free(b);
	free(c);

	/* the block main checks */
	st.kept = malloc(100);
	if (st.kept) {
		fill(st.kept, 100, EARLY_KEPT_SEED);
		st.kept = realloc(st.kept, EARLY_KEPT_SIZE);
	}
	if (!st.kept) {
		bad("malloc+realloc of the kept block returned NULL");
	} else {
		if (!check(st.kept, 100, EARLY_KEPT_SEED))
			bad("realloc lost the kept block's contents");
		fill(st.kept, EARLY_KEPT_SIZE, EARLY_KEPT_SEED);
		st.kept_usable = malloc_usable_size(st.kept);
	}

	/* blocks for the destructor */
	for (int i = 0; i < EARLY_NCTOR; i++) {
		size_t n = (size_t)(i % 8 == 0 ? 50000 + i : 16 + i * 37);
		ctor_blocks[i] = malloc(n);
		if (!ctor_blocks[i])
			bad("malloc of a destructor block returned NULL");
		else
			memset(ctor_blocks[i], i, n);
	}

	if (pthread_create(&thr, NULL, thread_main, NULL) == 0)
		st.thread_started = 1;
	else
		bad("pthread_create in a constructor failed");
}

/* Runs at exit, after libft_malloc's destructor. */
__attribute__((destructor))
static void early_dtor(void)
{
	char line[200];
	int badn = 0;

	for (int i = 0; i < EARLY_NCTOR; i++) {
		size_t n = (size_t)(i % 8 == 0 ? 50000 + i : 16 + i * 37);
		unsigned char *p = ctor_blocks[i];
		if (!p)
			continue;
		for (size_t k = 0; k < n; k++)
			if (p[k] != (unsigned char)i) {
				badn++;
				break;
			}
		free(p);
	}
	/* and a last allocation after every other destructor */
	void *p = malloc(64);
	if (!p)
		badn++;
	free(p);
	int len = snprintf(line, sizeof line, badn == 0
	    ? "PASS: libearly's destructor frees its constructor's %d blocks\n"
	    : "FAIL: libearly's destructor frees its constructor's %d blocks -- %d damaged\n",
	    EARLY_NCTOR, badn);
	if (write(1, line, (size_t)len) < 0)
		_exit(3);
}
