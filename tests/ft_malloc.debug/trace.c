/*
 * trace: FT_MALLOC_TRACE=FD|PATH writes a line for every call:
 * "TID FUNCTION [POINTER] [SIZES] [-> RESULT]".  The program runs itself
 * again with the variable set to 2 (stderr), to a file, and unset (no
 * line), and checks each call's line: function, arguments, result, and
 * the thread's id.
 */
#include "ftm_test.h"

#include <sys/syscall.h>

static void calls(void)
{
	char *p = ftm_opaque(malloc(100));
	char *q = ftm_opaque(realloc(p, 300000));
	size_t n = malloc_usable_size(q);
	free(q);
	void *c = ftm_opaque(calloc(3, 40));
	free(c);
	void *a = ftm_opaque(aligned_alloc(256, 512));
	free(a);
	/* calls refused for their arguments, and the NULL ones, have lines too */
	free(ftm_opaque(NULL));
	size_t big = ftm_size(SIZE_MAX / 2);
	if (calloc(big, 3) != NULL || aligned_alloc(ftm_size(48), 64) != NULL ||
	    malloc_usable_size(ftm_opaque(NULL)) != 0)
		_exit(5);
	/* what the lines must say, after them (the parent reads it) */
	fprintf(stderr, "EXPECT %ld %p %p %zu %p %p\n", (long)syscall(SYS_gettid), (void *)p,
	        (void *)q, n, c, a);
	_exit(0);
}

static void (*const fns[])(void) = { calls };
#define CASE_FN(k) fns[k]

/* "0x7F..." as the library prints pointers, from "%p" */
static void hex(char *out, const char *p)
{
	snprintf(out, 32, "0x%lX", strtoul(p, NULL, 16));
}

static void check_lines(const char *label, const char *text)
{
	const char *e = strstr(text, "EXPECT ");
	long tid = 0;
	char p[32], q[32], c[32], a[32];
	size_t n = 0;
	if (!ftm_check(e && sscanf(e, "EXPECT %ld %31s %31s %zu %31s %31s", &tid, p, q, &n, c, a) == 6,
	               ftm_name("%s: the program ran", label), "output \"%.300s\"", text))
		return;
	char hp[32], hq[32], hc[32], ha[32], want[12][128];
	hex(hp, p);
	hex(hq, q);
	hex(hc, c);
	hex(ha, a);
	snprintf(want[0], 128, "%ld malloc 100 -> %s\n", tid, hp);
	snprintf(want[1], 128, "%ld realloc %s 300000 -> %s\n", tid, hp, hq);
	snprintf(want[2], 128, "%ld malloc_usable_size %s -> %zu\n", tid, hq, n);
	snprintf(want[3], 128, "%ld free %s\n", tid, hq);
	snprintf(want[4], 128, "%ld calloc 3 40 -> %s\n", tid, hc);
	snprintf(want[5], 128, "%ld free %s\n", tid, hc);
	snprintf(want[6], 128, "%ld aligned_alloc 256 512 -> %s\n", tid, ha);
	snprintf(want[7], 128, "%ld free %s\n", tid, ha);
	snprintf(want[8], 128, "%ld free 0x0\n", tid);
	snprintf(want[9], 128, "%ld calloc %zu 3 -> 0x0\n", tid, (size_t)SIZE_MAX / 2);
	snprintf(want[10], 128, "%ld aligned_alloc 48 64 -> 0x0\n", tid);
	snprintf(want[11], 128, "%ld malloc_usable_size 0x0 -> 0\n", tid);
	const char *at = text;
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *f = strstr(at, want[i]);
		if (!ftm_check(f != NULL, ftm_name("%s: line %u, in order: %.*s", label, i + 1,
		                                   (int)strlen(want[i]) - 1, want[i]),
		               "not found after offset %zu in \"%.600s\"", (size_t)(at - text), text))
			return;
		at = f + strlen(want[i]);
	}
}

int main(int argc, char **argv)
{
	FTM_SELF_DISPATCH(argc, argv, 1, CASE_FN);
	ftm_begin("trace");
	ftm_child_t r;
	static const char *const to_stderr[] = { "FT_MALLOC_TRACE=2", NULL };
	if (ftm_run_self(0, to_stderr, 30, &r) == 0)
		check_lines("FT_MALLOC_TRACE=2", r.err);

	char path[] = "/tmp/ftm-trace-XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		close(fd);
		const char *const to_file[] = { ftm_name("FT_MALLOC_TRACE=%s", path), NULL };
		if (ftm_run_self(0, to_file, 30, &r) == 0) {
			static char buf[1 << 16];
			ssize_t n = ftm_read_file(path, buf, sizeof buf);
			char *e = strstr(r.err, "EXPECT ");
			/* the lines from the file, then the EXPECT line from stderr */
			if (n >= 0 && e && (size_t)n + strlen(e) + 1 < sizeof buf)
				memcpy(buf + n, e, strlen(e) + 1);
			check_lines("FT_MALLOC_TRACE=PATH", buf);
			ftm_check(ftm_count_lines(r.err, "") - ftm_count_lines(r.err, "EXPECT") == 0,
			    "FT_MALLOC_TRACE=PATH: nothing else on stderr", "stderr \"%.300s\"", r.err);
		}
		unlink(path);
	}

	if (ftm_run_self(0, NULL, 30, &r) == 0)
		ftm_check(!strstr(r.err, " malloc 100 -> "), "FT_MALLOC_TRACE unset: no trace",
		    "stderr \"%.300s\"", r.err);
	static const char *const bad[] = { "FT_MALLOC_TRACE=/nonexistent-dir/x", NULL };
	if (ftm_run_self(0, bad, 30, &r) == 0)
		ftm_check(ftm_count_lines(r.err, "ft_malloc: cannot open the trace file") == 1,
		    "FT_MALLOC_TRACE=/nonexistent-dir/x: reported in one line", "stderr \"%.300s\"", r.err);
	return ftm_end();
}
