/*
 * compat.c - glibc's malloc extensions, so that the static library is a
 * complete replacement.
 *
 * A statically linked program that calls mallopt(), malloc_trim(),
 * mallinfo(), mallinfo2(), malloc_stats() or malloc_info() would otherwise
 * pull glibc's malloc.o out of libc.a, whose malloc, free, ... clash with
 * ours.  These definitions are not exported by the shared library (they
 * are not in src/exports.sym): a dynamically linked program keeps glibc's,
 * which see glibc's own, idle heap.
 */
#include "internal.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

/* ft_malloc tunes itself; every parameter glibc knows is accepted. */
int mallopt(int param, int value)
{
	(void)value;
	switch (param) {
	case M_MXFAST: case M_TRIM_THRESHOLD: case M_TOP_PAD: case M_MMAP_THRESHOLD:
	case M_MMAP_MAX: case M_CHECK_ACTION: case M_PERTURB: case M_ARENA_TEST:
	case M_ARENA_MAX:
		return 1;
	default:
		return 0;
	}
}

/* Unmap every empty zone now; 1 if memory went back to the system. */
int malloc_trim(size_t pad)
{
	(void)pad;
	ftm_init();
	return ftm_reclaim_all();
}

struct mallinfo2 mallinfo2(void)
{
	ftm_census n;
	ftm_census_take(&n);
	struct mallinfo2 m = {
		.arena = n.mapped - n.large_bytes,      /* bytes in zones */
		.ordblks = n.free_blocks,
		.hblks = n.zones[FTM_LARGE],
		.hblkhd = n.large_bytes,
		.uordblks = n.used_bytes,
		.fordblks = n.free_bytes,
		.keepcost = n.largest_free,
	};
	return m;
}

struct mallinfo mallinfo(void)
{
	struct mallinfo2 w = mallinfo2();
	struct mallinfo m = {                      /* glibc truncates to int too */
		.arena = (int)w.arena, .ordblks = (int)w.ordblks, .hblks = (int)w.hblks,
		.hblkhd = (int)w.hblkhd, .uordblks = (int)w.uordblks,
		.fordblks = (int)w.fordblks, .keepcost = (int)w.keepcost,
	};
	return m;
}

static void stat_line(ftm_out *o, const char *label, size_t v)
{
	ftm_out_str(o, label);
	ftm_out_dec(o, v);
	ftm_out_str(o, "\n");
}

/* glibc's layout, on stderr. */
void malloc_stats(void)
{
	ftm_census n;
	ftm_census_take(&n);
	ftm_out o = { .fd = STDERR_FILENO };
	ftm_out_str(&o, "Arena 0:\n");
	stat_line(&o, "system bytes     = ", n.mapped - n.large_bytes);
	stat_line(&o, "in use bytes     = ", n.used_bytes);
	ftm_out_str(&o, "Total (incl. mmap):\n");
	stat_line(&o, "system bytes     = ", n.mapped);
	stat_line(&o, "in use bytes     = ", n.used_bytes + n.large_bytes);
	stat_line(&o, "max mmap regions = ", n.zones[FTM_LARGE]);
	stat_line(&o, "max mmap bytes   = ", n.large_bytes);
	ftm_out_flush(&o);
}

/* The same numbers as XML.  stdio may allocate: no lock is held here. */
int malloc_info(int options, FILE *fp)
{
	if (options != 0) {
		errno = EINVAL;
		return -1;
	}
	ftm_census n;
	ftm_census_take(&n);
	fprintf(fp, "<malloc version=\"1\">\n<heap nr=\"0\">\n"
	        "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
	        "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
	        "<system type=\"current\" size=\"%zu\"/>\n</heap>\n"
	        "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n"
	        "<system type=\"current\" size=\"%zu\"/>\n</malloc>\n",
	        n.free_blocks, n.free_bytes, n.mapped - n.large_bytes,
	        n.zones[FTM_LARGE], n.large_bytes, n.mapped);
	return 0;
}
