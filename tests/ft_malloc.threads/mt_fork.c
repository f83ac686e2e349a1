/*
 * mt_fork: threads allocate and free without pause while the main thread
 * forks again and again; each child allocates and frees at once (all
 * classes), checks what it wrote and exits 0.  A child that hangs (a lock
 * held at fork time) is killed after a few seconds and counted.
 */
#include "ftm_test.h"
#include <pthread.h>
#include <stdatomic.h>

enum { NTHREADS = 4, NFORKS = 300, CHILD_TIMEOUT_MS = 10000 };

static atomic_int stop;
static atomic_long busy_ops;

static void *busy(void *arg)
{
	uint64_t r = (uint64_t)(uintptr_t)arg * 0x2545F4914F6CDD1Dull + 1;
	void *keep[64] = { 0 };

	while (!atomic_load(&stop)) {
		unsigned k = (unsigned)(ftm_rand(&r) % 64);
		size_t n = (ftm_rand(&r) % 10 == 0) ? ftm_rand_range(&r, 1025, 70000)
		    : ftm_rand_range(&r, 1, 1024);
		free(keep[k]);
		keep[k] = malloc(n);
		if (keep[k])
			memset(keep[k], 0x11, n < 64 ? n : 64);
		atomic_fetch_add(&busy_ops, 1);
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

static int child_work(void)
{
	static const size_t n[] = { 1, 16, 200, 1024, 1025, 5000, 32768, 32769, 100000, 1 << 20 };
	void *p[sizeof n / sizeof n[0]];
	size_t i;

	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		p[i] = malloc(n[i]);
		if (p[i] == NULL)
			return 2;
		ftm_fill(p[i], n[i], i);
	}
	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		void *q;
		if (ftm_verify(p[i], n[i], i) != (size_t)-1)
			return 3;
		q = realloc(p[i], n[i] * 2);
		if (q == NULL)
			return 4;
		if (ftm_verify(q, n[i], i) != (size_t)-1)
			return 5;
		free(q);
	}
	p[0] = calloc(100, 10);
	if (p[0] == NULL || ftm_find_not(p[0], 1000, 0) != (size_t)-1)
		return 6;
	free(p[0]);
	return 0;
}

int main(void)
{
	pthread_t th[NTHREADS];
	int i, ok = 0, hung = 0, failed = 0, forkfail = 0, created = 0;
	char first[200] = "";
	struct rlimit nocore = { 0, 0 };

	ftm_begin("mt_fork");
	setrlimit(RLIMIT_CORE, &nocore);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, busy, (void *)(uintptr_t)(i + 1)) == 0)
			created++;
	ftm_check(created == NTHREADS, "4 busy threads start", "%d started", created);
	while (atomic_load(&busy_ops) < 1000)
		sched_yield();

	for (i = 0; i < NFORKS; i++) {
		pid_t pid = fork();
		int status, waited = 0;

		if (pid < 0) {
			forkfail++;
			continue;
		}
		if (pid == 0)
			_exit(child_work());
		/* wait with a time limit */
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				break;
			if (w < 0 && errno != EINTR) {
				status = -1;
				break;
			}
			if (waited >= CHILD_TIMEOUT_MS) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				hung++;
				status = -2;
				break;
			}
			usleep(1000);
			waited++;
		}
		if (status == 0) {
			ok++;
		} else if (status != -2) {
			failed++;
			if (first[0] == '\0')
				snprintf(first, sizeof first, "child %d %s", i,
				    status == -1 ? "lost" : ftm_status_str(status));
		}
	}
	atomic_store(&stop, 1);
	for (i = 0; i < created; i++)
		pthread_join(th[i], NULL);

	ftm_check(forkfail == 0, "fork() works", "%d forks failed", forkfail);
	ftm_check(hung == 0, "no child hangs after fork() from a busy multithreaded process",
	    "%d of %d children hung (deadlock in the child)", hung, NFORKS);
	ftm_check(failed == 0, "every child allocates, checks and exits 0",
	    "%d failed; first: %s", failed, first);
	ftm_check(ok == NFORKS, ftm_name("%d children exit 0", NFORKS), "%d did", ok);
	ftm_check(atomic_load(&busy_ops) > 10000, "the threads kept allocating meanwhile",
	    "%ld ops", atomic_load(&busy_ops));
	{
		void *p = malloc(12345);
		ftm_check(p != NULL, "the parent still allocates after the forks", "NULL");
		free(p);
	}
	return ftm_end();
}
