/*
 * diag.c - output without stdio, and the one-line misuse diagnostics.
 *
 * Nothing here allocates: text is assembled in a buffer on the caller's
 * stack and written with write(2).
 */
#include "internal.h"

#include <stdlib.h>
#include <unistd.h>

void ftm_out_flush(ftm_out *o)
{
	if (o->fd >= 0)             /* fd -1 discards: a walk that only counts */
		ftm_os_write(o->fd, o->buf, o->len);
	o->len = 0;
}

static void out_mem(ftm_out *o, const char *s, size_t n)
{
	while (n--) {
		if (o->len == sizeof(o->buf))
			ftm_out_flush(o);
		o->buf[o->len++] = *s++;
	}
}

void ftm_out_str(ftm_out *o, const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	out_mem(o, s, n);
}

/* 0x followed by upper-case hex digits, no leading zeros. */
void ftm_out_hex(ftm_out *o, uintptr_t v)
{
	char tmp[2 + 2 * sizeof(v)];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = "0123456789ABCDEF"[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	out_mem(o, tmp + i, sizeof(tmp) - i);
}

void ftm_out_dec(ftm_out *o, size_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_mem(o, tmp + i, sizeof(tmp) - i);
}

/* What each error means, worded to follow the pointer. */
static const char *const what[] = {
	[FTM_ERR_FOREIGN]     = "invalid pointer %p: not allocated by ft_malloc, or already freed",
	[FTM_ERR_UNALIGNED]   = "invalid pointer %p: misaligned, never returned by malloc",
	[FTM_ERR_NOT_BLOCK]   = "invalid pointer %p: not the start of an allocated block",
	[FTM_ERR_DOUBLE_FREE] = "double free of %p",
	[FTM_ERR_CORRUPT]     = "heap corruption near %p: block metadata was overwritten",
	[FTM_ERR_WRITTEN_FREED] = "use after free: freed memory at %p was written",
};

/* "ft_malloc: free(): double free of 0x7F..., a 48-byte block" */
static void report(const char *func, ftm_err err, const void *p, size_t block)
{
	ftm_out o = { .fd = STDERR_FILENO };
	ftm_out_str(&o, "ft_malloc: ");
	ftm_out_str(&o, func);
	ftm_out_str(&o, "(): ");
	for (const char *s = what[err]; *s; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			ftm_out_hex(&o, (uintptr_t)p);
			s++;
		} else {
			out_mem(&o, s, 1);
		}
	}
	if (block) {
		ftm_out_str(&o, ", a ");
		ftm_out_dec(&o, block);
		ftm_out_str(&o, "-byte block");
	}
	ftm_out_str(&o, "\n");
	ftm_out_flush(&o);
}

void ftm_misuse(const char *func, ftm_err err, const void *p, size_t block)
{
	report(func, err, p, block);
	abort();
}

void ftm_refuse(const char *func, ftm_err err, const void *p, size_t block)
{
	switch (ftm_opt.on_misuse) {
	case FTM_ACT_IGNORE:
		return;
	case FTM_ACT_WARN:
		report(func, err, p, block);
		return;
	default:
		ftm_misuse(func, err, p, block);
	}
}
