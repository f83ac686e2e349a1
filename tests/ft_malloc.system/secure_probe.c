/*
 * secure_probe.c - used by system.exp (not a PASS:/FAIL: program of its own).
 *
 * Built without the library: inside the test's mount namespace
 * /etc/ld.so.preload loads libft_malloc into it.  system.exp installs one
 * copy setuid root (run by nobody: secure-execution mode) and one plain copy.
 * It prints on stdout:
 *   AT_SECURE=<getauxval(AT_SECURE)>
 *   ruid=<real uid> euid=<effective uid>
 *   libft_malloc=<number of lines of /proc/self/maps naming libft_malloc>
 *   allocations=ok
 * then exits normally (exit, so that the library's destructor runs: with
 * FT_MALLOC_SHOW_AT_EXIT=1 honoured, the heap map goes to stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

void *probe_keep[64];           /* blocks kept until exit */

int main(void)
{
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	printf("ruid=%u euid=%u\n", (unsigned)getuid(), (unsigned)geteuid());

	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (f) {
		char line[4096];
		while (fgets(line, sizeof line, f))
			if (strstr(line, "libft_malloc"))
				n++;
		fclose(f);
	}
	printf("libft_malloc=%d\n", n);

	/* tiny, small and large blocks, some kept until exit */
	size_t sizes[] = { 1, 24, 100, 500, 1000, 4000, 20000, 300000 };
	int ok = 1;
	for (int i = 0; i < 64; i++) {
		size_t sz = sizes[i % 8] + (size_t)i;
		char *p = malloc(sz);
		if (!p) { ok = 0; break; }
		memset(p, 'a' + i % 26, sz);
		p = realloc(p, sz * 2);
		if (!p || p[sz - 1] != 'a' + i % 26) { ok = 0; break; }
		if (i % 2) free(p); else probe_keep[i] = p;
	}
	printf("allocations=%s\n", ok ? "ok" : "FAILED");
	fflush(stdout);
	exit(ok ? 0 : 1);
}
