/*
 * show_parse.h - parse and check what show_alloc_mem() prints:
 *
 *   TINY : 0xHEX                 a zone (TINY, SMALL or LARGE), its start
 *   0xSTART - 0xEND : N bytes    an allocated block of that zone
 *   Total : N bytes              the last line: the sum of all N
 *
 * with upper-case hex digits after a lower-case 0x.
 */
#ifndef SHOW_PARSE_H
#define SHOW_PARSE_H

#include "ftm_test.h"
#include "ft_malloc.h"

enum { MAXZ = 4096, MAXB = 65536 };

typedef struct {
	char kind[8];
	uintptr_t addr;
	int first, n;          /* its blocks: blocks[first .. first+n) */
} zone_t;

typedef struct {
	uintptr_t start, end;
	size_t size;
	int zone;
} block_t;

typedef struct {
	int nz, nb;
	zone_t z[MAXZ];
	block_t b[MAXB];
	size_t total;
	int have_total;
	char err[512];         /* "" when the grammar holds */
} show_t;

static char show_buf[4 << 20];

/* Parse upper-case hex after "0x"; returns the end or NULL. */
static const char *p_hex(const char *s, uintptr_t *v)
{
	const char *b;
	if (s[0] != '0' || s[1] != 'x')
		return NULL;
	s += 2;
	b = s;
	*v = 0;
	for (; (*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F'); s++)
		*v = *v * 16 + (uintptr_t)(*s <= '9' ? *s - '0' : *s - 'A' + 10);
	if (s == b || s - b > 16)
		return NULL;
	return s;
}

static const char *p_dec(const char *s, size_t *v)
{
	const char *b = s;
	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		*v = *v * 10 + (size_t)(*s - '0');
	return s == b ? NULL : s;
}

static const char *p_lit(const char *s, const char *lit)
{
	size_t n = strlen(lit);
	return strncmp(s, lit, n) == 0 ? s + n : NULL;
}

/* "0xS - 0xE : N bytes" (prefix already skipped); NULL unless exact. */
static int p_range(const char *s, const char *eol, uintptr_t *a, uintptr_t *e, size_t *n)
{
	if ((s = p_hex(s, a)) == NULL || (s = p_lit(s, " - ")) == NULL ||
	    (s = p_hex(s, e)) == NULL || (s = p_lit(s, " : ")) == NULL ||
	    (s = p_dec(s, n)) == NULL || (s = p_lit(s, " bytes")) == NULL)
		return 0;
	return s == eol;
}

static void set_err(show_t *sh, int lineno, const char *line, const char *eol, const char *why)
{
	if (sh->err[0] == '\0')
		snprintf(sh->err, sizeof sh->err, "line %d \"%.*s\": %s", lineno,
		    (int)(eol - line > 200 ? 200 : eol - line), line, why);
}

/* Parse show_alloc_mem() output. */
static void show_parse(const char *text, show_t *sh)
{
	const char *line = text, *eol;
	int lineno = 0;

	sh->nz = 0;
	sh->nb = 0;
	sh->total = 0;
	sh->have_total = 0;
	sh->err[0] = '\0';
	if (*text == '\0') {
		snprintf(sh->err, sizeof sh->err, "empty output");
		return;
	}
	for (; *line; line = *eol ? eol + 1 : eol) {
		const char *s;
		uintptr_t a, e;
		size_t n;

		eol = strchr(line, '\n');
		lineno++;
		if (eol == NULL) {
			eol = line + strlen(line);
			set_err(sh, lineno, line, eol, "no newline at the end");
		}
		if (sh->have_total) {
			set_err(sh, lineno, line, eol, "line after Total");
			continue;
		}
		if ((s = p_lit(line, "TINY : ")) || (s = p_lit(line, "SMALL : ")) ||
		    (s = p_lit(line, "LARGE : "))) {
			zone_t *z;
			if (!(s = p_hex(s, &a)) || s != eol) {
				set_err(sh, lineno, line, eol, "bad zone line");
				continue;
			}
			if (sh->nz == MAXZ) {
				set_err(sh, lineno, line, eol, "too many zones for the test");
				continue;
			}
			z = &sh->z[sh->nz++];
			snprintf(z->kind, sizeof z->kind, "%.*s", (int)(strchr(line, ' ') - line), line);
			z->addr = a;
			z->first = sh->nb;
			z->n = 0;
		} else if ((s = p_lit(line, "Total : ")) != NULL) {
			if (!(s = p_dec(s, &n)) || !(s = p_lit(s, " bytes")) || s != eol) {
				set_err(sh, lineno, line, eol, "bad Total line");
				continue;
			}
			sh->total = n;
			sh->have_total = 1;
		} else if (p_range(line, eol, &a, &e, &n)) {
			block_t *b;
			if (sh->nz == 0) {
				set_err(sh, lineno, line, eol, "block before any zone");
				continue;
			}
			if (sh->nb == MAXB) {
				set_err(sh, lineno, line, eol, "too many blocks for the test");
				continue;
			}
			b = &sh->b[sh->nb++];
			b->start = a;
			b->end = e;
			b->size = n;
			b->zone = sh->nz - 1;
			sh->z[sh->nz - 1].n++;
		} else {
			set_err(sh, lineno, line, eol, "not a zone, block or Total line");
		}
	}
	if (!sh->have_total)
		set_err(sh, lineno, "", "", "no Total line");
}

/* The consistency every output must have; "" or a description. */
static const char *show_consistency(const show_t *sh)
{
	static char why[512];
	size_t sum = 0;
	int i;

	for (i = 1; i < sh->nz; i++)
		if (sh->z[i].addr <= sh->z[i - 1].addr) {
			snprintf(why, sizeof why, "zone %d at 0x%lX is not after zone %d at 0x%lX",
			    i, (unsigned long)sh->z[i].addr, i - 1, (unsigned long)sh->z[i - 1].addr);
			return why;
		}
	for (i = 0; i < sh->nb; i++) {
		const block_t *b = &sh->b[i];
		const zone_t *z = &sh->z[b->zone];
		sum += b->size;
		if (b->end != b->start + b->size) {
			snprintf(why, sizeof why, "block 0x%lX: END 0x%lX != START + %zu",
			    (unsigned long)b->start, (unsigned long)b->end, b->size);
			return why;
		}
		if (b->start < z->addr) {
			snprintf(why, sizeof why, "block 0x%lX lies before its zone 0x%lX",
			    (unsigned long)b->start, (unsigned long)z->addr);
			return why;
		}
		if (b->zone + 1 < sh->nz && b->end > sh->z[b->zone + 1].addr) {
			snprintf(why, sizeof why, "block 0x%lX-0x%lX runs into the next zone 0x%lX",
			    (unsigned long)b->start, (unsigned long)b->end,
			    (unsigned long)sh->z[b->zone + 1].addr);
			return why;
		}
		if (i > z->first && (b->start <= b[-1].start || b->start < b[-1].end)) {
			snprintf(why, sizeof why, "block 0x%lX does not follow block 0x%lX-0x%lX",
			    (unsigned long)b->start, (unsigned long)b[-1].start, (unsigned long)b[-1].end);
			return why;
		}
	}
	if (sum != sh->total) {
		snprintf(why, sizeof why, "Total %zu != sum of the blocks %zu", sh->total, sum);
		return why;
	}
	return "";
}

/* Index of the block line starting at p, or -1; *count gets how many. */
static int show_find(const show_t *sh, const void *p, int *count)
{
	int i, found = -1, c = 0;
	for (i = 0; i < sh->nb; i++)
		if (sh->b[i].start == (uintptr_t)p) {
			found = i;
			c++;
		}
	if (count)
		*count = c;
	return found;
}

static FTM_UNUSED show_t snap_a, snap_b;

/* Capture and parse show_alloc_mem(); report the grammar and consistency
 * checks under the name of the snapshot. */
static int show_snapshot(show_t *sh, const char *label)
{
	ssize_t n = ftm_capture_stdout(show_alloc_mem, show_buf, sizeof show_buf);
	const char *why;

	if (!ftm_check(n > 0, ftm_name("%s: show_alloc_mem prints something", label),
	    "captured %zd bytes", n))
		return 0;
	show_parse(show_buf, sh);
	if (!ftm_check(sh->err[0] == '\0', ftm_name("%s: every line is well formed", label),
	    "%s", sh->err))
		return 0;
	why = show_consistency(sh);
	return ftm_check(why[0] == '\0',
	    ftm_name("%s: zones increase, blocks increase inside zones, Total is the sum", label),
	    "%s", why);
}

/* Our block p of n bytes is listed once, exactly, in a zone of kind. */
static FTM_UNUSED void expect_block(const show_t *sh, const char *label, const void *p, size_t n,
    const char *kind)
{
	int c, i = show_find(sh, p, &c);
	const block_t *b = i >= 0 ? &sh->b[i] : NULL;

	ftm_check(c == 1 && b->end == (uintptr_t)p + n && b->size == n &&
	    strcmp(sh->z[b->zone].kind, kind) == 0,
	    ftm_name("%s: %p listed as %zu bytes in a %s zone", label, p, n, kind),
	    "%d lines start at %p%s%s%s", c, p,
	    b ? ", first: size " : "", b ? ftm_name("%zu", b->size) : "",
	    b ? ftm_name(" zone %s", sh->z[b->zone].kind) : "");
}

static FTM_UNUSED void expect_gone(const show_t *sh, const char *label, const void *p)
{
	int c;
	show_find(sh, p, &c);
	ftm_check(c == 0, ftm_name("%s: %p is no longer listed", label, p), "%d lines", c);
}

#endif
