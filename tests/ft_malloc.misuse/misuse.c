/*
 * misuse: each invalid free runs in a forked child (stderr captured, no
 * core dump).  The child must die by SIGABRT and its stderr must hold one
 * line that begins with "ft_malloc: " and mentions free.
 */
#include "ftm_test.h"

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

static void run(const char *what, void (*fn)(void *), void *arg)
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
		ftm_check(line != NULL && strstr(first, "free") != NULL,
		    ftm_name("%s: the message mentions free", what), "message \"%s\"", first);
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

	/* the parent, which did none of this, is fine */
	{
		void *p = ftm_opaque(malloc(10));
		ftm_check(p != NULL, "the parent still allocates", "NULL");
		free(p);
	}
	return ftm_end();
}
