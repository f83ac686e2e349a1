/*
 * reuse: malloc K blocks of n bytes, write them, free them all; many
 * rounds.  After a warm-up the minor page faults (getrusage ru_minflt) and
 * the number of mappings (lines of /proc/self/maps) stay flat: freed zones
 * are reused, not unmapped and mapped again each round.  The counters are
 * read with syscalls only (no allocation); the slack is fixed, not per
 * round.
 */
#include "ftm_test.h"

enum { ROUNDS = 200, WARMUP = 5, FAULT_SLACK = 16, MAPS_SLACK = 2 };

static void *blocks[4096];

static void one_round(int k, size_t n, int round)
{
	int i;
	for (i = 0; i < k; i++) {
		blocks[i] = malloc(n);
		if (blocks[i] == NULL)
			return;
		memset(blocks[i], round & 0xFF, n);
		FTM_CLOBBER();
	}
	for (i = 0; i < k; i++)
		free(ftm_opaque(blocks[i]));
}

static void test_reuse(const char *label, int k, size_t n)
{
	long f0 = 0, m0 = 0, f, m, fmax_round = 0, mmax = 0, prevf = 0;
	int round, failed_alloc = 0, i;

	for (round = 0; round < ROUNDS; round++) {
		one_round(k, n, round);
		for (i = 0; i < k; i++)
			if (blocks[i] == NULL)
				failed_alloc = 1;
		if (round == WARMUP - 1) {
			m0 = ftm_count_maps();
			f0 = ftm_minflt();
			prevf = f0;
		} else if (round >= WARMUP) {
			f = ftm_minflt();
			m = ftm_count_maps();
			if (f - prevf > fmax_round)
				fmax_round = f - prevf;
			if (m > mmax)
				mmax = m;
			prevf = ftm_minflt();
		}
	}
	f = ftm_minflt();
	m = ftm_count_maps();
	ftm_check(!failed_alloc, ftm_name("%s: %d x malloc(%zu) x %d rounds succeed", label, k, n, ROUNDS),
	    "a malloc returned NULL");
	ftm_check(m0 > 0 && m - m0 <= MAPS_SLACK && mmax - m0 <= MAPS_SLACK,
	    ftm_name("%s: the number of mappings stays flat over %d rounds", label, ROUNDS - WARMUP),
	    "after warm-up %ld mappings, at the end %ld, at most %ld", m0, m, mmax);
	ftm_check(f - f0 <= FAULT_SLACK,
	    ftm_name("%s: minor page faults stay flat over %d rounds", label, ROUNDS - WARMUP),
	    "%ld faults after the warm-up (%.1f per round, worst round %ld); a round touches %zu pages",
	    f - f0, (double)(f - f0) / (ROUNDS - WARMUP), fmax_round, (size_t)k * n / ftm_page());
}

int main(void)
{
	ftm_begin("reuse");
	/* the case: 1024 TINY blocks of 1024 bytes */
	test_reuse("TINY 1024", 1024, FTM_TINY_MAX);
	test_reuse("TINY 64", 2048, 64);
	/* the same with SMALL blocks */
	test_reuse("SMALL 4000", 256, 4000);
	test_reuse("SMALL max", 128, FTM_SMALL_MAX);
	return ftm_end();
}
