/* realloc.c - growing strings and arrays step by step with realloc.
 *
 *   realloc SCALE
 *
 * Models code that builds output without knowing its final size: a string
 * builder that reallocs on every append (log lines, JSON, HTTP bodies) and
 * a dynamic array that grows by a fixed step (a naive vector push).  Eight
 * strings and eight arrays grow interleaved, so they cannot all grow in
 * place at the end of the heap: the allocator must either extend blocks in
 * place, move them cheaply (mremap for large ones), or copy.  They grow
 * from a few bytes to 2 MiB (strings) and 4 MiB (arrays), crossing every
 * size class and the small/large boundary on the way.
 *
 * Each round is built, checked in full (every byte of every string, every
 * element of every array), and freed; the run does several rounds.
 */
#include "common.h"

#define OBJS 8

int main(int argc, char **argv)
{
	double scale = bench_scale(argc, argv);
	/* A quick run (scale < 1) grows to half the size, in fewer rounds, so
	 * it still crosses into MiB-sized blocks. */
	size_t str_max = (scale < 1 ? 1 : 2) * 1024 * 1024;
	size_t arr_max = (scale < 1 ? 2 : 4) * 1024 * 1024 / sizeof(uint64_t);
	uint64_t rounds = scaled(scale, 2, 1);
	uint64_t sum = 0, reallocs = 0;

	double t0 = now_s();
	for (uint64_t round = 0; round < rounds; round++) {
		char *str[OBJS] = { 0 };
		size_t len[OBJS] = { 0 };
		uint64_t *arr[OBJS] = { 0 };
		size_t cnt[OBJS] = { 0 };
		rng_t r;
		rng_seed(&r, 100 + round);

		for (int busy = 1; busy;) {
			busy = 0;
			for (int k = 0; k < OBJS; k++) {
				if (len[k] < str_max) {
					/* append 1..128 characters, plus the NUL */
					size_t add = rng_range(&r, 1, 128);
					char *s = realloc(str[k], len[k] + add + 1);
					if (!s)
						verify_fail("realloc returned NULL");
					for (size_t i = 0; i < add; i++)
						s[len[k] + i] = (char)('a' + (len[k] + i + k) % 26);
					len[k] += add;
					s[len[k]] = '\0';
					str[k] = s;
					reallocs++;
					busy = 1;
				}
				if (cnt[k] < arr_max) {
					/* push 64 elements (one realloc per push of 512 B) */
					uint64_t *a = realloc(arr[k], (cnt[k] + 64) * sizeof *a);
					if (!a)
						verify_fail("realloc returned NULL");
					for (size_t i = 0; i < 64; i++)
						a[cnt[k] + i] = (cnt[k] + i) * 2654435761u + k;
					cnt[k] += 64;
					arr[k] = a;
					reallocs++;
					busy = 1;
				}
			}
		}
		for (int k = 0; k < OBJS; k++) {
			for (size_t i = 0; i < len[k]; i++)
				if (str[k][i] != (char)('a' + (i + k) % 26))
					verify_fail("realloc: string content lost");
			if (str[k][len[k]] != '\0')
				verify_fail("realloc: string terminator lost");
			for (size_t i = 0; i < cnt[k]; i++)
				if (arr[k][i] != i * 2654435761u + k)
					verify_fail("realloc: array content lost");
			sum += len[k] * 31 + cnt[k];
			free(str[k]);
			free(arr[k]);
		}
	}
	double t = now_s() - t0;

	report(t, reallocs, sum, "");
	return 0;
}
