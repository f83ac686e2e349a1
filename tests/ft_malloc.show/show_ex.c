/*
 * show_ex: show_alloc_mem_ex() is show_alloc_mem() plus lines that begin
 * with two spaces (among them "  free 0xS - 0xE : N bytes" for the free
 * blocks and "  cached ..." for those in thread caches) and whatever
 * follows the Total line.
 * ftm-mode: linked
 */
#include "show_parse.h"

static char ex_buf[4 << 20], filt[4 << 20];

/* Drop the lines that begin with two spaces and all after Total. */
static void filter_ex(const char *in, char *out)
{
	const char *line = in, *eol;
	size_t o = 0;

	for (; *line; line = *eol ? eol + 1 : eol) {
		size_t len;
		eol = strchr(line, '\n');
		if (eol == NULL)
			eol = line + strlen(line);
		len = (size_t)(eol - line) + (*eol == '\n');
		if (line[0] == ' ' && line[1] == ' ')
			continue;
		memcpy(out + o, line, len);
		o += len;
		if (strncmp(line, "Total", 5) == 0)
			break;
	}
	out[o] = '\0';
}

static int first_diff_line(const char *a, const char *b)
{
	int line = 1;
	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

/* Capture show_alloc_mem (into show_buf) then show_alloc_mem_ex (ex_buf)
 * with no allocation between, and check the relation. */
static void compare(const char *label)
{
	ssize_t n1 = ftm_capture_stdout(show_alloc_mem, show_buf, sizeof show_buf);
	ssize_t n2 = ftm_capture_stdout(show_alloc_mem_ex, ex_buf, sizeof ex_buf);

	if (!ftm_check(n1 > 0 && n2 > 0, ftm_name("%s: both print", label),
	    "captured %zd and %zd bytes", n1, n2))
		return;
	filter_ex(ex_buf, filt);
	ftm_check(strcmp(filt, show_buf) == 0,
	    ftm_name("%s: show_alloc_mem_ex minus its two-space lines and the tail is show_alloc_mem", label),
	    "first difference on line %d", first_diff_line(filt, show_buf));
}

typedef struct { uintptr_t s, e; size_t n; int zone; } fr_t;
static fr_t frees[65536];

/* Parse the "  free" and "  cached" lines of ex_buf (blocks free for the
 * program), attaching them to the zone line above them (zones counted as
 * in show_alloc_mem). */
static int parse_free(int *nfree, const char **err)
{
	const char *line = ex_buf, *eol;
	int zone = -1;

	*nfree = 0;
	*err = "";
	for (; *line; line = *eol ? eol + 1 : eol) {
		const char *s;
		eol = strchr(line, '\n');
		if (eol == NULL)
			eol = line + strlen(line);
		if (strncmp(line, "Total", 5) == 0)
			break;
		if (!strncmp(line, "TINY : ", 7) || !strncmp(line, "SMALL : ", 8) ||
		    !strncmp(line, "LARGE : ", 8))
			zone++;
		if ((s = p_lit(line, "  free ")) != NULL || (s = p_lit(line, "  cached ")) != NULL) {
			fr_t *f = &frees[*nfree];
			if (!p_range(s, eol, &f->s, &f->e, &f->n)) {
				*err = ftm_name("bad free line \"%.*s\"", (int)(eol - line), line);
				return 0;
			}
			if (f->e != f->s + f->n) {
				*err = ftm_name("free line END != START + N: \"%.*s\"", (int)(eol - line), line);
				return 0;
			}
			if (zone < 0) {
				*err = "free line before any zone";
				return 0;
			}
			f->zone = zone;
			if (++*nfree == 65536)
				return 1;
		}
	}
	return 1;
}

int main(void)
{
	void *a, *b, *c, *s1, *s2, *s3, *l;
	int nfree, i, zi, ok;
	const char *err;

	ftm_begin("show_ex");
	compare("start");

	a = ftm_opaque(malloc(200));
	b = ftm_opaque(malloc(200));
	c = ftm_opaque(malloc(200));
	s1 = ftm_opaque(malloc(5000));
	s2 = ftm_opaque(malloc(5000));
	s3 = ftm_opaque(malloc(5000));
	l = ftm_opaque(malloc(100000));
	if (!ftm_check(a && b && c && s1 && s2 && s3 && l, "allocations", "NULL"))
		return ftm_end();
	compare("7 blocks");

	free(b);
	free(s2);
	compare("after 2 frees");

	/* the freed blocks show up as free inside the zone of their neighbours */
	if (!show_snapshot(&snap_a, "after 2 frees"))
		return ftm_end();
	ok = parse_free(&nfree, &err);
	ftm_check(ok, "show_alloc_mem_ex free lines are well formed", "%s", err);
	if (!ok)
		return ftm_end();
	{
		void *freed[2] = { b, s2 }, *nb[2] = { a, s1 };
		size_t sz[2] = { 200, 5000 };
		int k;
		for (k = 0; k < 2; k++) {
			int idx = show_find(&snap_a, nb[k], NULL), found = 0;
			zi = idx >= 0 ? snap_a.b[idx].zone : -1;
			for (i = 0; i < nfree; i++)
				if (frees[i].zone == zi && frees[i].s <= (uintptr_t)freed[k] &&
				    (uintptr_t)freed[k] + sz[k] <= frees[i].e)
					found = 1;
			ftm_check(zi >= 0 && found,
			    ftm_name("freed %zu-byte block shows as free in its live zone", sz[k]),
			    "no free line of zone %d covers %p..+%zu (%d free lines)", zi,
			    freed[k], sz[k], nfree);
		}
	}
	/* b went to this thread's cache: it is marked so */
	{
		char want[64];
		snprintf(want, sizeof want, "\n  cached 0x%lX - ", (unsigned long)(uintptr_t)b);
		ftm_check(strstr(ex_buf, want) != NULL,
		    "the freed 200-byte block, in the thread cache, shows as \"  cached\"",
		    "no line \"%s\"", want + 1);
		ftm_check(strstr(ex_buf, "\nCached : ") != NULL,
		    "show_alloc_mem_ex has a Cached summary line", "none");
	}
	/* free ranges and allocated blocks do not overlap */
	ok = 1;
	for (i = 0; i < nfree && ok; i++) {
		int j;
		for (j = 0; j < snap_a.nb; j++)
			if (snap_a.b[j].start < frees[i].e && frees[i].s < snap_a.b[j].end &&
			    snap_a.b[j].size > 0) {
				ftm_check(0, "free ranges do not overlap allocated blocks",
				    "free 0x%lX-0x%lX overlaps block 0x%lX-0x%lX",
				    (unsigned long)frees[i].s, (unsigned long)frees[i].e,
				    (unsigned long)snap_a.b[j].start, (unsigned long)snap_a.b[j].end);
				ok = 0;
				break;
			}
	}
	if (ok)
		ftm_check(1, "free ranges do not overlap allocated blocks", NULL);

	free(a);
	free(c);
	free(s1);
	free(s3);
	free(l);
	compare("all freed");
	return ftm_end();
}
