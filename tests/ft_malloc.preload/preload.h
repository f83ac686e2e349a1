/*
 * preload.h - helpers of the ft_malloc.preload tests.
 *
 * pl_capture_show(fn) runs a show_alloc_mem-like function (called directly
 * in a linked or static program, found with dlsym when preloaded) with
 * stdout captured into pl_show_buf; pl_listed(p, n) then tells whether
 * that output has the exact line of a block of n bytes at p:
 *   0xP - 0xP+n : n bytes
 */
#ifndef PRELOAD_H
#define PRELOAD_H

#include "ftm_test.h"

static void (*pl_show_fn)(void);
static char pl_show_buf[1 << 20];

static void pl_show_call(void)
{
	pl_show_fn();
}

static FTM_UNUSED ssize_t pl_capture_show(void (*fn)(void))
{
	pl_show_buf[0] = '\0';
	if (fn == NULL)
		return -1;
	pl_show_fn = fn;
	return ftm_capture_stdout(pl_show_call, pl_show_buf, sizeof pl_show_buf);
}

static FTM_UNUSED int pl_listed(const void *p, size_t n)
{
	char line[128];
	const char *s = pl_show_buf;

	snprintf(line, sizeof line, "0x%lX - 0x%lX : %zu bytes\n",
	    (unsigned long)(uintptr_t)p, (unsigned long)((uintptr_t)p + n), n);
	while ((s = strstr(s, line)) != NULL) {
		if (s == pl_show_buf || s[-1] == '\n')
			return 1;
		s++;
	}
	return 0;
}

/* Does the show output end with a "Total : N bytes" line? */
static FTM_UNUSED int pl_has_total(void)
{
	const char *s = strstr(pl_show_buf, "Total : ");
	return s != NULL && (s == pl_show_buf || s[-1] == '\n');
}

/* Is libft_malloc mapped in this process? */
static FTM_UNUSED int pl_maps_have_ftm(void)
{
	static char buf[1 << 18];
	if (ftm_read_file("/proc/self/maps", buf, sizeof buf) < 0)
		return 0;
	return strstr(buf, "libft_malloc") != NULL;
}

static FTM_UNUSED double pl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* PRELOAD_H */
