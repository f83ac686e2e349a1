/*
 * stress.c - many short processes, each starting with libft_malloc
 * preloaded.  ftm-mode: preloaded (preload.exp runs it with LD_PRELOAD).
 *
 * Runs STRESS_N processes, STRESS_PAR at a time, with fork+execve and the
 * library in LD_PRELOAD: /bin/true, and this program itself with the
 * argument "child" (it checks that it runs on ft_malloc, allocates and
 * checks a few hundred blocks, and exits 0).  Every one must exit 0.  The
 * count and the time taken go to stderr (the log).
 */
#include "preload.h"

enum { STRESS_N = 2000, STRESS_PAR = 4 };

extern char **environ;

/* The child: exit 0 when all is well, else a code saying what went wrong. */
static int child(void)
{
	void *b[300];
	size_t i, n;
	char *s;

	if (!pl_maps_have_ftm())
		return 10;
	if (dlsym(RTLD_DEFAULT, "show_alloc_mem") == NULL)
		return 11;
	for (i = 0; i < 300; i++) {
		n = i % 60 == 0 ? 40000 + i : 1 + i * 13;
		b[i] = malloc(ftm_size(n));
		if (b[i] == NULL)
			return 12;
		ftm_fill(b[i], n, i);
	}
	for (i = 0; i < 300; i += 2)
		free(b[i]);
	s = NULL;
	if (asprintf(&s, "child %d", (int)getpid()) < 0 || s == NULL)
		return 13;
	free(s);
	for (i = 1; i < 300; i += 2) {
		n = i % 60 == 0 ? 40000 + i : 1 + i * 13;
		if (ftm_verify(b[i], n, i) != (size_t)-1)
			return 14;
		free(b[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *lib = getenv("LD_PRELOAD");
	char self[4096];
	ssize_t sl;
	int started = 0, done = 0, running = 0, nfail = 0, ntrue = 0, nself = 0;
	int first_fail_status = 0, first_fail_pid = -1, status;
	double t0, t;
	pid_t pid;

	if (argc == 2 && strcmp(argv[1], "child") == 0)
		return child();

	ftm_begin("stress");
	ftm_check(lib != NULL && strstr(lib, "libft_malloc") != NULL,
	    "LD_PRELOAD names libft_malloc", "LD_PRELOAD=%s", lib ? lib : "(unset)");
	sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl <= 0) {
		ftm_check(0, "readlink /proc/self/exe", "%s", strerror(errno));
		return ftm_end();
	}
	self[sl] = '\0';

	t0 = pl_now();
	while (done < STRESS_N) {
		while (running < STRESS_PAR && started < STRESS_N) {
			int kind = started % 2;   /* 0: /bin/true, 1: this program */
			pid = fork();
			if (pid < 0) {
				nfail++;
				started++;
				done++;
				continue;
			}
			if (pid == 0) {
				char *a_true[] = { "true", NULL };
				char *a_self[] = { self, "child", NULL };
				if (kind == 0)
					execve("/bin/true", a_true, environ);
				else
					execve(self, a_self, environ);
				_exit(127);
			}
			started++;
			running++;
			if (kind == 0)
				ntrue++;
			else
				nself++;
		}
		pid = wait(&status);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		done++;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (nfail == 0) {
				first_fail_status = status;
				first_fail_pid = (int)pid;
			}
			nfail++;
		}
	}
	t = pl_now() - t0;
	fprintf(stderr, "stress: %d processes (%d /bin/true, %d allocating children), "
	    "%d at a time, in %.2f s (%.2f ms each), %d failed\n",
	    done, ntrue, nself, STRESS_PAR, t, done ? t * 1000.0 / done : 0.0, nfail);
	ftm_check(done == STRESS_N, ftm_name("%d processes started and reaped", STRESS_N),
	    "%d done", done);
	ftm_check(nfail == 0, ftm_name("%d preloaded processes all exit 0", STRESS_N),
	    "%d failed; the first, pid %d: %s (child codes: 10 library not mapped, "
	    "11 no show_alloc_mem, 12 malloc NULL, 13 asprintf, 14 contents damaged, "
	    "127 execve)", nfail, first_fail_pid, ftm_status_str(first_fail_status));
	return ftm_end();
}
