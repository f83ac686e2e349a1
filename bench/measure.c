/* measure.c - run a command, report its wall time and peak RSS from outside.
 *
 *   measure [-p LIB] [-t SECONDS] [--] COMMAND [ARG]...
 *
 * -p LIB      run COMMAND with LD_PRELOAD=LIB (without -p, LD_PRELOAD is
 *             removed, so the command runs on glibc's malloc); the preload
 *             is set in the child only, so measure itself is never preloaded
 * -t SECONDS  kill the command (its whole process group) after SECONDS
 *
 * After the command ends, one line goes to stderr:
 *
 *   @measure wall_s=1.234567 maxrss_kb=12345 user_s=1.2 sys_s=0.1 status=exit:0
 *
 * status is exit:N, signal:N or timeout.  maxrss_kb is wait4()'s ru_maxrss:
 * the largest resident set of the command or of any descendant it waited
 * for (so "gcc" covers cc1 and as).  measure's exit status is the command's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;
static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	kill(-child, SIGKILL);
}

/* The command runs in its own process group: pass ^C and kill on to it. */
static void forward(int sig)
{
	kill(-child, sig);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
	fprintf(stderr, "usage: measure [-p LIB] [-t SECONDS] [--] COMMAND [ARG]...\n");
	exit(125);
}

int main(int argc, char **argv)
{
	const char *preload = NULL;
	unsigned timeout = 0;
	int opt;

	while ((opt = getopt(argc, argv, "+p:t:")) != -1) {
		if (opt == 'p')
			preload = optarg;
		else if (opt == 't')
			timeout = (unsigned)atoi(optarg);
		else
			usage();
	}
	if (optind >= argc)
		usage();

	double t0 = now_s();
	child = fork();
	if (child < 0) {
		perror("measure: fork");
		return 125;
	}
	if (child == 0) {
		setpgid(0, 0); /* so a timeout kills the whole command */
		if (preload)
			setenv("LD_PRELOAD", preload, 1);
		else
			unsetenv("LD_PRELOAD");
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "measure: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	if (timeout) {
		signal(SIGALRM, on_alarm);
		alarm(timeout);
	}

	int st;
	struct rusage ru;
	while (wait4(child, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return 125;
		}
	}
	double wall = now_s() - t0;
	alarm(0);

	char status[32];
	int rc;
	if (timed_out) {
		snprintf(status, sizeof status, "timeout");
		rc = 124;
	} else if (WIFSIGNALED(st)) {
		snprintf(status, sizeof status, "signal:%d", WTERMSIG(st));
		rc = 128 + WTERMSIG(st);
	} else {
		snprintf(status, sizeof status, "exit:%d", WEXITSTATUS(st));
		rc = WEXITSTATUS(st);
	}
	fprintf(stderr, "@measure wall_s=%.6f maxrss_kb=%ld user_s=%.3f sys_s=%.3f status=%s\n",
		wall, ru.ru_maxrss,
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6,
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6, status);
	return rc;
}
