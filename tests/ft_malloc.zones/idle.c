/*
 * idle: free pages inside a zone that cannot be unmapped go back to the
 * kernel once they have stayed free a while.
 *
 * 2048 SMALL blocks of 32 KiB (64 MiB) are written; every 64th stays
 * allocated and pins its zone, the others are freed, leaving free runs of
 * about 2 MiB.  While the program keeps allocating and freeing a small
 * working set (several thousand operations: the zones' clock), the idle
 * runs are given back: resident memory falls by most of what was freed.
 * The pinned blocks keep their contents, and the memory given back is
 * usable again: new blocks written and read back, calloc zeroed.
 */
#include "ftm_test.h"

enum { N = 2048, PIN = 64, BLOCK = 32768, OPS = 20000 };

static void *blocks[N];

int main(void)
{
	long long before, after_free, after_ops;
	size_t freed = 0, bad = 0;
	int i, failed = 0;

	ftm_begin("idle");
	for (i = 0; i < N; i++) {
		blocks[i] = malloc(BLOCK);
		if (blocks[i] == NULL) {
			failed = 1;
			break;
		}
		ftm_fill(blocks[i], BLOCK, (uint64_t)i);
	}
	ftm_check(!failed, ftm_name("%d x malloc(%d) succeed", N, BLOCK), "a malloc returned NULL");
	if (failed)
		return ftm_end();
	before = ftm_status_bytes("VmRSS");
	for (i = 0; i < N; i++)
		if (i % PIN) {
			free(blocks[i]);
			blocks[i] = NULL;
			freed += BLOCK;
		}
	after_free = ftm_status_bytes("VmRSS");
	for (i = 0; i < OPS; i++) {
		char *volatile q = malloc(40000);
		if (q == NULL) {
			failed = 1;
			break;
		}
		q[0] = (char)i;
		q[39999] = (char)i;
		free(q);
	}
	after_ops = ftm_status_bytes("VmRSS");
	ftm_check(!failed, ftm_name("%d malloc/free pairs of 40000 bytes succeed", OPS),
	    "a malloc returned NULL");
	ftm_check(before > 0 && after_free >= before - (long long)freed / 4,
	    "freed pages stay resident right after free (no system call per free)",
	    "RSS %lld -> %lld bytes after freeing %zu", before, after_free, freed);
	ftm_check(after_ops > 0 && before - after_ops >= (long long)freed / 2,
	    "pages that stayed free go back to the kernel",
	    "RSS %lld before the frees, %lld after them, %lld after %d more operations; %zu bytes freed",
	    before, after_free, after_ops, OPS, freed);

	for (i = 0; i < N; i += PIN)
		bad += ftm_verify(blocks[i], BLOCK, (uint64_t)i) != (size_t)-1;
	ftm_check(bad == 0, "the blocks that stayed allocated keep their contents",
	    "%zu blocks differ", bad);

	/* the pages given back serve new blocks again */
	bad = 0;
	for (i = 0; i < N; i++)
		if (i % PIN) {
			blocks[i] = (i & 1) ? calloc(1, BLOCK) : malloc(BLOCK);
			if (blocks[i] == NULL) {
				failed = 1;
				break;
			}
			if ((i & 1) && ftm_find_not(blocks[i], BLOCK, 0) != (size_t)-1)
				bad++;
			ftm_fill(blocks[i], BLOCK, (uint64_t)i + 7);
		}
	ftm_check(!failed && bad == 0, "the memory given back is allocated again, calloc zeroed",
	    "failed=%d, %zu calloc blocks not zero", failed, bad);
	bad = 0;
	for (i = 0; i < N && !failed; i++)
		bad += ftm_verify(blocks[i], BLOCK, (uint64_t)i + (i % PIN ? 7 : 0)) != (size_t)-1;
	ftm_check(!failed && bad == 0, "every block reads back what was written", "%zu blocks differ", bad);
	for (i = 0; i < N; i++)
		free(blocks[i]);
	return ftm_end();
}
