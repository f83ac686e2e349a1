/*
 * show_hex: FT_MALLOC_SHOW_HEX=N makes show_alloc_mem_ex() dump the first
 * N bytes of every allocated block, 16 a line, each line beginning with
 * two spaces: "  0xADDR: 48 65 6c ... |Hel...|".  Run again with the
 * variable set (the library reads it at start-up), and without it, when
 * no such line may appear.
 * ftm-mode: linked
 */
#include "ftm_test.h"
#include "ft_malloc.h"

static const char text[] = "Hello, world! 0123456789abcdefghijklmnopqrstuvwxyz";

static void dump(void)
{
	char *p = ftm_opaque(malloc(sizeof text));
	if (!p)
		_exit(3);
	memcpy(p, text, sizeof text);
	fprintf(stderr, "P=0x%lX\n", (unsigned long)(uintptr_t)p);
	fflush(stderr);
	dup2(2, 1);                     /* show_alloc_mem_ex writes on stdout */
	show_alloc_mem_ex();
	_exit(0);
}

static void (*const cases[])(void) = { dump };
#define CASE_FN(k) cases[k]

int main(int argc, char **argv)
{
	FTM_SELF_DISPATCH(argc, argv, 1, CASE_FN);
	ftm_begin("show_hex");
	static const char *const on[] = { "FT_MALLOC_SHOW_HEX=32", NULL };
	ftm_child_t a, b;
	if (ftm_run_self(0, on, 30, &a) != 0 || ftm_run_self(0, NULL, 30, &b) != 0)
		return ftm_end();
	unsigned long p = 0;
	const char *ps = strstr(a.err, "P=0x");
	if (ps)
		p = strtoul(ps + 2, NULL, 16);
	char l1[128], l2[128], l3[64];
	snprintf(l1, sizeof l1, "\n  0x%lX: 48 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21 20 30 31  |Hello, world! 01|\n", p);
	snprintf(l2, sizeof l2, "\n  0x%lX: 32 33 34 35 36 37 38 39 61 62 63 64 65 66 67 68  |23456789abcdefgh|\n", p + 16);
	snprintf(l3, sizeof l3, "\n  0x%lX: ", p + 32);
	ftm_check(p && strstr(a.err, l1) && strstr(a.err, l2),
	    "FT_MALLOC_SHOW_HEX=32: the block's first 32 bytes, in hex and as text", "stdout \"%.600s\"", a.err);
	ftm_check(p && !strstr(a.err, l3), "FT_MALLOC_SHOW_HEX=32: no more than 32 bytes",
	    "stdout \"%.600s\"", a.err);
	ftm_check(WIFEXITED(b.status) && !strstr(b.err, ": 48 65 6c 6c"),
	    "FT_MALLOC_SHOW_HEX unset: no dump", "stdout \"%.600s\"", b.err);
	return ftm_end();
}
