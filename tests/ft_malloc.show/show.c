/*
 * show: show_alloc_mem() lists, by increasing zone address, each zone and
 * each allocated block with the size asked for, then the Total.
 * ftm-mode: linked
 */
#include "show_parse.h"

int main(void)
{
	void *t42, *t84, *s3725, *l98847, *q, *c30, *m4096, *z0, *b1024, *b1025,
	     *b32768, *b32769;
	size_t total0;

	ftm_begin("show");

	if (!show_snapshot(&snap_a, "start"))
		return ftm_end();
	total0 = snap_a.total;

	t42 = ftm_opaque(malloc(42));
	t84 = ftm_opaque(malloc(84));
	s3725 = ftm_opaque(malloc(3725));
	l98847 = ftm_opaque(malloc(98847));
	if (!ftm_check(t42 && t84 && s3725 && l98847, "the four mallocs", "NULL"))
		return ftm_end();
	memset(t42, 1, 42);
	memset(t84, 1, 84);
	memset(s3725, 1, 3725);
	memset(l98847, 1, 98847);

	if (show_snapshot(&snap_a, "4 blocks")) {
		expect_block(&snap_a, "4 blocks", t42, 42, "TINY");
		expect_block(&snap_a, "4 blocks", t84, 84, "TINY");
		expect_block(&snap_a, "4 blocks", s3725, 3725, "SMALL");
		expect_block(&snap_a, "4 blocks", l98847, 98847, "LARGE");
		ftm_check(snap_a.total == total0 + 42 + 84 + 3725 + 98847,
		    "4 blocks: Total grew by 42+84+3725+98847",
		    "Total %zu, before %zu", snap_a.total, total0);
	}

	free(t84);
	if (show_snapshot(&snap_b, "free 84")) {
		expect_gone(&snap_b, "free 84", t84);
		expect_block(&snap_b, "free 84", t42, 42, "TINY");
		expect_block(&snap_b, "free 84", s3725, 3725, "SMALL");
		expect_block(&snap_b, "free 84", l98847, 98847, "LARGE");
		ftm_check(snap_a.total - snap_b.total == 84, "free 84: Total dropped by 84",
		    "Total %zu -> %zu", snap_a.total, snap_b.total);
	}

	/* realloc: the listed size follows, in place or not */
	q = ftm_opaque(realloc(t42, 20));
	if (ftm_check(q != NULL, "realloc(42 -> 20)", "NULL") && show_snapshot(&snap_a, "shrink 42->20")) {
		expect_block(&snap_a, "shrink 42->20", q, 20, "TINY");
		if (q != t42)
			expect_gone(&snap_a, "shrink 42->20 (moved)", t42);
		ftm_check(snap_b.total - snap_a.total == 22, "shrink 42->20: Total dropped by 22",
		    "Total %zu -> %zu", snap_b.total, snap_a.total);
		t42 = q;
	}
	q = ftm_opaque(realloc(t42, 60));
	if (ftm_check(q != NULL, "realloc(20 -> 60)", "NULL") && show_snapshot(&snap_b, "grow 20->60")) {
		expect_block(&snap_b, "grow 20->60", q, 60, "TINY");
		if (q != t42)
			expect_gone(&snap_b, "grow 20->60 (moved)", t42);
		t42 = q;
	}
	q = ftm_opaque(realloc(l98847, 90000));
	if (ftm_check(q != NULL, "realloc(98847 -> 90000)", "NULL") &&
	    show_snapshot(&snap_a, "LARGE 98847->90000")) {
		expect_block(&snap_a, "LARGE 98847->90000", q, 90000, "LARGE");
		l98847 = q;
	}
	q = ftm_opaque(realloc(s3725, 3000));
	if (ftm_check(q != NULL, "realloc(3725 -> 3000)", "NULL") &&
	    show_snapshot(&snap_a, "SMALL 3725->3000")) {
		expect_block(&snap_a, "SMALL 3725->3000", q, 3000, "SMALL");
		s3725 = q;
	}

	/* the size asked for, whatever the function; the class limits */
	c30 = ftm_opaque(calloc(3, 10));
	m4096 = ftm_opaque(memalign(4096, 200));
	z0 = ftm_opaque(malloc(0));
	b1024 = ftm_opaque(malloc(FTM_TINY_MAX));
	b1025 = ftm_opaque(malloc(FTM_TINY_MAX + 1));
	b32768 = ftm_opaque(malloc(FTM_SMALL_MAX));
	b32769 = ftm_opaque(malloc(FTM_SMALL_MAX + 1));
	if (ftm_check(c30 && m4096 && z0 && b1024 && b1025 && b32768 && b32769,
	    "more allocations", "NULL") && show_snapshot(&snap_b, "classes")) {
		expect_block(&snap_b, "classes", c30, 30, "TINY");
		expect_block(&snap_b, "classes", m4096, 200, "TINY");
		expect_block(&snap_b, "classes", z0, 0, "TINY");
		expect_block(&snap_b, "classes", b1024, FTM_TINY_MAX, "TINY");
		expect_block(&snap_b, "classes", b1025, FTM_TINY_MAX + 1, "SMALL");
		expect_block(&snap_b, "classes", b32768, FTM_SMALL_MAX, "SMALL");
		expect_block(&snap_b, "classes", b32769, FTM_SMALL_MAX + 1, "LARGE");
	}

	/* realloc(p, 0) frees p */
	q = ftm_opaque(realloc(c30, 0));
	if (show_snapshot(&snap_a, "realloc(p, 0)")) {
		expect_gone(&snap_a, "realloc(p, 0)", c30);
		ftm_check(q == NULL && snap_b.total - snap_a.total == 30,
		    "realloc(p, 0): Total dropped by 30", "Total %zu -> %zu", snap_b.total, snap_a.total);
	}

	free(t42);
	free(s3725);
	free(l98847);
	free(m4096);
	free(z0);
	free(b1024);
	free(b1025);
	free(b32768);
	free(b32769);
	if (show_snapshot(&snap_b, "all freed")) {
		expect_gone(&snap_b, "all freed", t42);
		expect_gone(&snap_b, "all freed", s3725);
		expect_gone(&snap_b, "all freed", l98847);
		expect_gone(&snap_b, "all freed", b32769);
		ftm_check(snap_b.total == total0, "all freed: Total back to its start value",
		    "Total %zu, at the start %zu", snap_b.total, total0);
	}
	return ftm_end();
}
