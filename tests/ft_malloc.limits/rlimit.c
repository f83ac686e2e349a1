/*
 * rlimit: in a child, set RLIMIT_AS (then, in another child, RLIMIT_DATA)
 * to the current size plus 64 MiB, allocate until NULL, for TINY, SMALL,
 * LARGE and big sizes: each must end with NULL and errno ENOMEM, never a
 * crash or a hang; after freeing everything, allocating works again.
 * Blocks are chained through their first bytes so the test itself needs no
 * memory; reports are written with write(2).
 */
#include "ftm_test.h"

#define HEADROOM ((long long)64 << 20)
#define MAX_BLOCKS 2000000L
/* Far beyond the limit: reaching it means the limit had no effect (stop
 * before the test itself exhausts the machine). */
#define MAX_BYTES ((size_t)HEADROOM * 16)

typedef struct { int resource; const char *rname; const char *field; } lim_t;

/* Allocate blocks of n bytes (or random in [n, n2]) until NULL; returns
 * the count, *err the errno of the NULL. Blocks are chained in *head. */
static long fill(void ***head, size_t n, size_t n2, int *err, int use_calloc, uint64_t *r)
{
	long count = 0;
	size_t bytes = 0;
	*err = 0;
	while (count < MAX_BLOCKS && bytes < MAX_BYTES) {
		size_t sz = n2 > n ? ftm_rand_range(r, n, n2) : n;
		void **p;
		errno = 0;
		p = use_calloc ? calloc(1, sz) : malloc(sz);
		if (p == NULL) {
			*err = errno;
			break;
		}
		/* touch the first and last bytes: the memory must be real */
		((char *)p)[sz - 1] = 1;
		*p = *head;
		*head = p;
		count++;
		bytes += sz;
	}
	return count;
}

static void drain(void ***head)
{
	while (*head) {
		void **next = **head;
		free(*head);
		*head = next;
	}
}

static void phase(const char *rname, const char *what, size_t n, size_t n2, int use_calloc)
{
	void **head = NULL;
	int err, err2;
	long c1, c2;
	uint64_t r = 42;

	c1 = fill(&head, n, n2, &err, use_calloc, &r);
	ftm_check(err == ENOMEM,
	    ftm_name("%s: %s until NULL: NULL with ENOMEM", rname, what),
	    "%ld blocks, then errno %d (%s)", c1, err, err == 0 ? "never NULL" : strerror(err));
	ftm_check(c1 > 0 || n > (size_t)HEADROOM, ftm_name("%s: %s: some blocks fit", rname, what),
	    "none did");
	drain(&head);
	{
		void *a = malloc(100), *b = malloc(10000), *c = malloc(1 << 20);
		ftm_check(a && b && c,
		    ftm_name("%s: %s: after freeing all, TINY, SMALL and 1 MiB LARGE allocate", rname, what),
		    "%p %p %p errno %d", a, b, c, errno);
		free(a);
		free(b);
		free(c);
	}
	r = 42;
	c2 = fill(&head, n, n2, &err2, use_calloc, &r);
	ftm_check(err2 == ENOMEM && c2 >= c1 / 2,
	    ftm_name("%s: %s: the memory freed can be allocated again", rname, what),
	    "first %ld blocks, after freeing %ld (errno %d)", c1, c2, err2);
	drain(&head);
}

static void realloc_phase(const char *rname)
{
	char *p = malloc(1000), *q;
	size_t n = 1000;
	int err = 0;

	if (!ftm_check(p != NULL, ftm_name("%s: realloc growth: start", rname), "NULL"))
		return;
	memset(p, 0x5C, n);
	for (;;) {
		size_t m = n + n / 2;
		errno = 0;
		q = realloc(p, m);
		if (q == NULL) {
			err = errno;
			break;
		}
		memset(q + n, 0x5C, m - n);
		p = q;
		n = m;
		if (n > MAX_BYTES)
			break;
	}
	ftm_check(q == NULL && err == ENOMEM,
	    ftm_name("%s: realloc growing until NULL: NULL with ENOMEM", rname),
	    "stopped at %zu bytes with errno %d", n, err);
	ftm_check(ftm_find_not(p, n, 0x5C) == (size_t)-1,
	    ftm_name("%s: realloc growth: the block is intact after the failure", rname),
	    "contents changed");
	free(p);

	/* One big step that fits the limit, where the room realloc likes to
	 * keep beyond a LARGE block (half as much again) does not: it must
	 * still succeed. */
	p = malloc(64 << 10);
	errno = 0;
	q = p ? realloc(p, (size_t)(HEADROOM * 3 / 4)) : NULL;
	ftm_check(q != NULL && errno == 0,
	    ftm_name("%s: realloc to 3/4 of the headroom succeeds (no room to spare)", rname),
	    "got %p errno %d", (void *)q, errno);
	free(q ? q : p);
}

static void under_limit(void *arg)
{
	const lim_t *l = arg;
	long long cur = ftm_status_bytes(l->field);
	struct rlimit rl;
	void *p;

	if (!ftm_check(cur > 0, ftm_name("%s: read %s", l->rname, l->field), "got %lld", cur))
		return;
	rl.rlim_cur = rl.rlim_max = (rlim_t)(cur + HEADROOM);
	if (!ftm_check(setrlimit(l->resource, &rl) == 0, ftm_name("%s: setrlimit", l->rname),
	    "%s", strerror(errno)))
		return;

	phase(l->rname, "TINY 64", 64, 0, 0);
	phase(l->rname, "TINY random", 16, FTM_TINY_MAX, 0);
	phase(l->rname, "SMALL random", FTM_TINY_MAX + 1, FTM_SMALL_MAX, 0);
	phase(l->rname, "SMALL calloc", 4000, 0, 1);
	phase(l->rname, "LARGE 100000", 100000, 0, 0);
	phase(l->rname, "LARGE 8 MiB", 8 << 20, 0, 0);
	phase(l->rname, "mixed", 16, 300000, 0);
	realloc_phase(l->rname);

	errno = 0;
	p = malloc((size_t)HEADROOM * 2);
	ftm_check(p == NULL && errno == ENOMEM,
	    ftm_name("%s: malloc(128 MiB) beyond the limit: NULL with ENOMEM", l->rname),
	    "got %p errno %d", p, errno);
	free(p);
	errno = 0;
	p = memalign(1 << 20, (size_t)HEADROOM * 2);
	ftm_check(p == NULL && errno == ENOMEM,
	    ftm_name("%s: memalign(1 MiB, 128 MiB) beyond the limit: NULL with ENOMEM", l->rname),
	    "got %p errno %d", p, errno);
	free(p);
}

int main(void)
{
	static const lim_t lims[] = {
		{ RLIMIT_AS, "RLIMIT_AS", "VmSize" },
		{ RLIMIT_DATA, "RLIMIT_DATA", "VmData" },
	};
	size_t i;

	ftm_begin("rlimit");
	for (i = 0; i < sizeof lims / sizeof lims[0]; i++) {
		ftm_child_t res;
		if (ftm_run_child(under_limit, (void *)&lims[i], 60, &res) != 0) {
			ftm_check(0, ftm_name("%s: child runs", lims[i].rname), "fork failed");
			continue;
		}
		ftm_check(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0,
		    ftm_name("%s: the child neither crashes nor hangs", lims[i].rname),
		    "the child %s%s; stderr \"%.200s\"", ftm_status_str(res.status),
		    res.timed_out ? " (hung: killed after 60 s)" : "", res.err);
	}
	return ftm_end();
}
