/*
 * size-histogram.c - count a program's malloc request sizes, by power of two.
 *
 * A measuring tool, not part of the library: it is preloaded in front of
 * glibc's allocator, counts every malloc/calloc/realloc request, forwards
 * it to glibc (__libc_malloc & co.), and prints the histogram to stderr at
 * exit.  docs/design.md uses its numbers to choose the TINY/SMALL limits.
 *
 *   gcc -O2 -shared -fPIC -o size-histogram.so tools/size-histogram.c
 *   LD_PRELOAD=./size-histogram.so python3 -c '...'
 */
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static _Atomic unsigned long counts[65];
static _Atomic unsigned long bytes[65];

static void count(size_t n)
{
	int b = n ? 64 - __builtin_clzl(n) : 0;   /* bucket b: n <= 2^b */
	if (n && (n & (n - 1)) == 0)
		b--;
	atomic_fetch_add_explicit(&counts[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&bytes[b], n, memory_order_relaxed);
}

void *malloc(size_t n) { count(n); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(a * b); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(n); return __libc_realloc(p, n); }

__attribute__((destructor)) static void report(void)
{
	char line[160];
	unsigned long total = 0, run = 0;
	for (int i = 0; i < 65; i++)
		total += counts[i];
	if (!total)
		return;
	int len = snprintf(line, sizeof line, "size-histogram pid %d: %lu requests\n", (int)getpid(), total);
	write(2, line, (size_t)len);
	for (int i = 0; i < 65; i++) {
		if (!counts[i])
			continue;
		run += counts[i];
		len = snprintf(line, sizeof line, "  <= %12lu B: %10lu calls %6.2f%% (cumulative %6.2f%%), %14lu bytes\n",
		               1ul << i, counts[i], 100.0 * counts[i] / total, 100.0 * run / total, bytes[i]);
		write(2, line, (size_t)len);
	}
}
