/*
 * stats: FT_MALLOC_STATS=1 prints, at exit, the calls by function, the
 * thread caches' hits, blocks and bytes live and at their peak, zones,
 * LARGE blocks, the LARGE cache's hits and the memory mapped.
 *
 * The program runs itself again with the variable set.  The C library
 * makes calls of its own (stdio, thread start-up), so exact counts are
 * checked as differences: the same work done K and 2K times must differ
 * by exactly the calls the program made.  Also: threads that ended and one
 * still running at exit are counted, a fork's child reports its own, the
 * counts add up (hits <= calls, peak >= now), FT_MALLOC_TCACHE=0 has no
 * hits, and unset or a bad value prints no report.
 */
#include "ftm_test.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>

enum { F_MALLOC, F_FREE, F_CALLOC, F_REALLOC, F_REALLOCARRAY, F_POSIX_MEMALIGN,
       F_ALIGNED_ALLOC, F_MEMALIGN, F_VALLOC, F_PVALLOC, F_USABLE, F_N };
static const char *const fn[F_N] = {
	"malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
};

/* The same work k times; made[] counts the calls it makes. */
static void work(unsigned k)
{
	unsigned long made[F_N] = { 0 };
	static void *keep[4000];
	for (unsigned i = 0; i < k; i++) {          /* k TINY blocks of 40, live together */
		keep[i] = ftm_opaque(malloc(40));
		made[F_MALLOC]++;
	}
	for (unsigned i = 0; i < k; i++, made[F_FREE]++)
		free(keep[i]);
	for (unsigned i = 0; i < k; i++) {          /* k blocks of 1000: >= k * 1000 held at once */
		keep[i] = ftm_opaque(malloc(1000));
		made[F_MALLOC]++;
	}
	for (unsigned i = 0; i < k; i++, made[F_FREE]++)
		free(keep[i]);
	for (unsigned round = 0; round < 2; round++) {   /* k / 10 LARGE blocks, twice */
		for (unsigned i = 0; i < k / 10; i++, made[F_MALLOC]++)
			keep[i] = ftm_opaque(malloc(100000));
		for (unsigned i = 0; i < k / 10; i++, made[F_FREE]++)
			free(keep[i]);
	}
	char *r = NULL;
	for (unsigned i = 0; i < k; i++) {
		r = ftm_opaque(i % 2 ? realloc(r, 16 + i) : reallocarray(r, 8, 2 + i));
		made[i % 2 ? F_REALLOC : F_REALLOCARRAY]++;
		made[F_USABLE] += malloc_usable_size(r) >= 16 + i;
	}
	free(r);
	made[F_FREE]++;
	for (unsigned i = 0; i < k; i++) {
		void *p = NULL;
		made[F_POSIX_MEMALIGN] += posix_memalign(&p, 64, 100) == 0;
		free(p);
		free(ftm_opaque(calloc(3, 8)));
		free(ftm_opaque(aligned_alloc(128, 256)));
		free(ftm_opaque(memalign(32, 48)));
		free(ftm_opaque(valloc(10)));
		free(ftm_opaque(pvalloc(10)));
		free(ftm_opaque(NULL));                 /* a call all the same */
		made[F_FREE] += 7;
		made[F_CALLOC]++, made[F_ALIGNED_ALLOC]++, made[F_MEMALIGN]++;
		made[F_VALLOC]++, made[F_PVALLOC]++;
	}
	char line[512];
	int n = snprintf(line, sizeof line, "MADE");
	for (unsigned f = 0; f < F_N; f++)
		n += snprintf(line + n, sizeof line - (size_t)n, " %lu", made[f]);
	snprintf(line + n, sizeof line - (size_t)n, "\n");
	ftm_write_all(2, line, strlen(line));
}

static void ops_100(void) { work(100); }
static void ops_200(void) { work(200); }

static int hold_fd[2];

static void *worker(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < k; i++)
		free(ftm_opaque(malloc(64)));
	return NULL;
}

/* The same k mallocs in a thread still running at exit. */
static void *lingerer(void *arg)
{
	worker(arg);
	char c;
	(void)!read(hold_fd[0], &c, 1);             /* never answered: runs until exit */
	return NULL;
}

/* 4 threads that end, one that does not, k mallocs and frees each. */
static void threads(unsigned k)
{
	pthread_t t[5];
	if (pipe(hold_fd))
		_exit(3);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)k);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_create(&t[4], NULL, lingerer, (void *)(uintptr_t)k);
	usleep(200000);                             /* it has done its mallocs */
	exit(0);
}

static void threads_1000(void) { threads(1000); }
static void threads_2000(void) { threads(2000); }

/* fork with another thread alive; the child starts threads of its own and
 * exits: it reports, and so does the parent. */
static void forked(void)
{
	pthread_t t, u[2];
	if (pipe(hold_fd))
		_exit(3);
	pthread_create(&t, NULL, lingerer, (void *)(uintptr_t)10);
	usleep(100000);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 2; i++)
			pthread_create(&u[i], NULL, worker, (void *)(uintptr_t)3000);
		for (int i = 0; i < 2; i++)
			pthread_join(u[i], NULL);
		exit(0);
	}
	waitpid(pid, NULL, 0);
	exit(0);
}

static void (*const cases[])(void) = { ops_100, ops_200, threads_1000, threads_2000, forked };
#define CASE_FN(k) cases[k]

/* ---- reading the report ---------------------------------------------------- */

/* The n-th line (from 0) that starts with "ft_malloc: stats: SUBJECT:". */
static const char *report_line(const char *text, const char *subject, int nth)
{
	char head[64];
	snprintf(head, sizeof head, "ft_malloc: stats: %s:", subject);
	for (const char *p = text; (p = strstr(p, head)); p++)
		if ((p == text || p[-1] == '\n') && nth-- == 0)
			return p + strlen(head);
	return NULL;
}

/* The number after "WORD " in the line (WORD at a word start); -1 if none. */
static long long field(const char *line, const char *word)
{
	if (!line)
		return -1;
	size_t w = strlen(word);
	for (const char *p = line; *p && *p != '\n'; p++)
		if ((p[-1] == ' ' || p[-1] == ':') && !strncmp(p, word, w) && p[w] == ' ')
			return strtoll(p + w + 1, NULL, 10);
	return -1;
}

/* The number before " WORD" in the line, the first time it follows `after`. */
static long long before(const char *line, const char *after, const char *word)
{
	if (!line || !(line = strstr(line, after)))
		return -1;
	const char *nl = strchr(line, '\n');
	char pat[64];
	snprintf(pat, sizeof pat, " %s", word);
	const char *p = strstr(line, pat);
	if (!p || (nl && p > nl))
		return -1;
	while (p > line && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return strtoll(p, NULL, 10);
}

static bool made_counts(const char *err, long long made[F_N])
{
	const char *m = strstr(err, "MADE");
	if (!m)
		return false;
	m += 4;
	for (unsigned f = 0; f < F_N; f++) {
		char *end;
		made[f] = strtoll(m, &end, 10);
		if (end == m)
			return false;
		m = end;
	}
	return true;
}

static void check_ops(void)
{
	static const char *const on[] = { "FT_MALLOC_STATS=1", NULL };
	ftm_child_t a, b;
	static char err_a[1 << 16];
	long long made_a[F_N], made_b[F_N];
	if (ftm_run_self(0, on, 60, &a) != 0 || ftm_run_self(1, on, 60, &b) != 0)
		return;
	snprintf(err_a, sizeof err_a, "%s", a.err);
	const char *err_b = b.err;
	if (!ftm_check(made_counts(err_a, made_a) && made_counts(err_b, made_b) &&
	               report_line(err_a, "calls", 0) && report_line(err_b, "calls", 0),
	               "ops: both runs reported", "stderr \"%.400s\"", err_b))
		return;
	ftm_check(a.status == 0 && b.status == 0, "ops: both runs exited 0",
	          "status %d, %d", a.status, b.status);
	/* every function: the report's difference is the program's */
	for (unsigned f = 0; f < F_N; f++) {
		long long da = field(report_line(err_a, "calls", 0), fn[f]);
		long long db = field(report_line(err_b, "calls", 0), fn[f]);
		ftm_check(da >= made_a[f] && db - da == made_b[f] - made_a[f],
		          ftm_name("ops: %s calls counted exactly", fn[f]),
		          "report %lld then %lld; the program made %lld then %lld", da, db,
		          made_a[f], made_b[f]);
	}
	/* the thread cache: hits within calls, and most of the work hits */
	const char *h = report_line(err_b, "thread cache hits", 0);
	long long mh = field(h, "malloc"), fh = field(h, "free");
	long long mc = field(report_line(err_b, "calls", 0), "malloc");
	long long fc = field(report_line(err_b, "calls", 0), "free");
	ftm_check(mh > 0 && mh <= mc && fh > 0 && fh <= fc && before(h, "malloc", "of") == mh &&
	          field(h, "of") == mc,
	          "ops: cache hits are counted, no more than the calls",
	          "line \"%.200s\", calls %lld, %lld", h ? h : "(none)", mc, fc);
	ftm_check(mh * 2 > made_b[F_MALLOC], "ops: most mallocs of repeated sizes hit the cache",
	          "%lld hits of %lld", mh, made_b[F_MALLOC]);
	/* held peak: 200 blocks of 1000 bytes were live together */
	const char *held = report_line(err_b, "held peak", 0);
	long long pblocks = before(held, "", "blocks"), pbytes = before(held, "blocks,", "bytes");
	ftm_check(pblocks >= 200 && pbytes >= 200 * 1000, "ops: the held peak covers the live peak",
	          "line \"%.200s\"", held ? held : "(none)");
	const char *live = report_line(err_b, "live now", 0);
	ftm_check(live && before(live, "", "blocks") < pblocks,
	          "ops: fewer blocks live at exit than at the peak", "line \"%.200s\"", live ? live : "(none)");
	/* LARGE: 20 then 20 again in the 2K run, 10 and 10 in the K run */
	const char *la = report_line(err_a, "LARGE blocks", 0), *lb = report_line(err_b, "LARGE blocks", 0);
	ftm_check(before(lb, "", "allocated") - before(la, "", "allocated") == 20 &&
	          before(lb, "", "freed") - before(la, "", "freed") == 20 &&
	          before(lb, "", "peak") >= 20,
	          "ops: LARGE blocks allocated, freed and at the peak",
	          "lines \"%.200s\" and \"%.200s\"", la ? la : "(none)", lb ? lb : "(none)");
	long long lh = field(lb, "hits"), lof = before(lb, "hits", "(");
	ftm_check(lh >= 20 && lh <= before(lb, "", "allocated"),
	          "ops: the second round of LARGE blocks came from the cache",
	          "line \"%.200s\" (hits %lld, of %lld)", lb ? lb : "(none)", lh, lof);
	const char *z = report_line(err_b, "zones", 0);
	ftm_check(field(z, "TINY") >= 1 && field(z, "SMALL") >= 1 &&
	          before(strstr(z ? z : "", "TINY"), "", "peak") >= field(z, "TINY"),
	          "ops: zones counted, peak >= now", "line \"%.200s\"", z ? z : "(none)");
	const char *m = report_line(err_b, "memory mapped", 0);
	ftm_check(before(m, "", "bytes") > 0 && before(m, "now,", "peak") >= before(m, "", "bytes") &&
	          field(m, "mmap") >= field(z, "TINY") + field(z, "SMALL") &&
	          field(m, "munmap") >= 0,
	          "ops: memory mapped now, at the peak, and the system calls",
	          "line \"%.200s\"", m ? m : "(none)");

	/* no cache, no hit */
	static const char *const nocache[] = { "FT_MALLOC_STATS=1", "FT_MALLOC_TCACHE=0", NULL };
	if (ftm_run_self(1, nocache, 60, &b) == 0) {
		h = report_line(b.err, "thread cache hits", 0);
		ftm_check(h && field(h, "malloc") == 0 && field(h, "free") == 0,
		          "FT_MALLOC_TCACHE=0: no cache hits", "line \"%.200s\"", h ? h : "(none)");
	}
}

static void check_threads(void)
{
	static const char *const on[] = { "FT_MALLOC_STATS=1", NULL };
	ftm_child_t a, b;
	long long ma = -1, mb = -1;
	if (ftm_run_self(2, on, 60, &a) == 0)
		ma = field(report_line(a.err, "calls", 0), "malloc");
	if (ftm_run_self(3, on, 60, &b) == 0)
		mb = field(report_line(b.err, "calls", 0), "malloc");
	/* 5 threads, 1000 more mallocs each: the 4 that ended and the one at exit */
	ftm_check(ma > 0 && mb - ma == 5000, "threads: ended and running threads' calls counted",
	          "malloc %lld then %lld", ma, mb);
	const char *h = report_line(b.err, "thread cache hits", 0);
	ftm_check(field(h, "threads") >= 5, "threads: every thread seen",
	          "line \"%.200s\"", h ? h : "(none)");

#if defined(__SANITIZE_THREAD__)
	ftm_unsupported("fork: the child and the parent each report",
	                "ThreadSanitizer does not support threads started after a multi-threaded fork");
	if (0) {
#else
	if (ftm_run_self(4, on, 60, &a) == 0) {
#endif
		const char *c0 = report_line(a.err, "calls", 0), *c1 = report_line(a.err, "calls", 1);
		long long m0 = field(c0, "malloc"), m1 = field(c1, "malloc");
		/* the child reports first (the parent waits for it); its threads
		 * made 6000 more mallocs than the parent's history */
		ftm_check(a.status == 0 && c0 && c1 && m0 - m1 >= 6000,
		          "fork: the child and the parent each report, the child's threads counted",
		          "status %d, malloc %lld then %lld, stderr \"%.300s\"", a.status, m0, m1, a.err);
	}
}

int main(int argc, char **argv)
{
	FTM_SELF_DISPATCH(argc, argv, 5, CASE_FN);
	ftm_begin("stats");
	check_ops();
	check_threads();

	ftm_child_t r;
	if (ftm_run_self(0, NULL, 60, &r) == 0)
		ftm_check(r.status == 0 && !strstr(r.err, "ft_malloc: stats"),
		          "FT_MALLOC_STATS unset: no report", "stderr \"%.300s\"", r.err);
	static const char *const zero[] = { "FT_MALLOC_STATS=0", NULL };
	if (ftm_run_self(0, zero, 60, &r) == 0)
		ftm_check(r.status == 0 && !strstr(r.err, "ft_malloc: stats"),
		          "FT_MALLOC_STATS=0: no report", "stderr \"%.300s\"", r.err);
	static const char *const bad[] = { "FT_MALLOC_STATS=yes", NULL };
	if (ftm_run_self(0, bad, 60, &r) == 0)
		ftm_check(r.status == 0 && ftm_count_lines(r.err, "ft_malloc: expected 0 or 1") == 1 &&
		          strstr(r.err, "FT_MALLOC_STATS=yes") &&
		          !strstr(r.err, "ft_malloc: stats"),
		          "FT_MALLOC_STATS=yes: reported in one line, no report",
		          "stderr \"%.300s\"", r.err);
	return ftm_end();
}
