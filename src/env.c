/*
 * env.c - the FT_MALLOC_* environment variables.
 *
 * Read once the C library has set `environ` up (our constructor, or the
 * first call after it); calls that come earlier, from the dynamic loader,
 * run with the defaults.  Nothing here allocates: the strings are parsed in
 * place.  In secure-execution mode (setuid, setgid, file capabilities:
 * getauxval(AT_SECURE)) every FT_MALLOC_* variable is ignored, so that an
 * unprivileged user cannot steer a privileged program's allocator.
 *
 * The variables (README.md has the user-facing table):
 *   FT_MALLOC_SHOW_AT_EXIT=0|1   1: show_alloc_mem() to stderr at exit()
 *                                (from a destructor: _exit() skips it)
 *   FT_MALLOC_STATS=0|1          1: the counts of stats.c to stderr at exit()
 *   FT_MALLOC_ON_MISUSE=abort|warn|ignore
 *                                what a call refused for misuse does after
 *                                it was found (diag.c, ftm_refuse())
 *   FT_MALLOC_FILL_ALLOC=B, FT_MALLOC_FILL_FREE=B, FT_MALLOC_CHECK_FREED=0|1
 *                                fill patterns and the freed-memory check
 *                                (debug.c); B is 0-255, or 0x00-0xff
 *   FT_MALLOC_GUARD=0|large|all  a guard page after each LARGE block, or
 *                                after every block (large.c)
 *   FT_MALLOC_SHOW_HEX=N|all     show_alloc_mem_ex() dumps the first N bytes
 *                                of every allocated block (show.c)
 *   FT_MALLOC_TCACHE=0|1         0: no thread caches (tcache.c)
 *   FT_MALLOC_TCACHE_MAX=N       the largest request the thread caches keep
 *                                blocks for, 0-4096 bytes (tcache.c)
 *   FT_MALLOC_TCACHE_BYTES=N     how much each list of a thread cache holds,
 *                                256-1048576 bytes, 4 to 64 blocks
 *   FT_MALLOC_TRACE=FD|PATH      a line for every call, to that descriptor
 *                                or appended to that file (debug.c)
 *   FT_MALLOC_DECAY_OPS=N        heap operations an empty zone or an idle
 *                                free run waits before it goes (zone.c)
 *   FT_MALLOC_LARGE_CACHE_MB=N   the most freed LARGE mappings kept for
 *                                reuse, MiB; 0: none (large.c)
 */
#include "internal.h"

#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

ftm_options ftm_opt = {
	.fill_alloc = -1,
	.fill_free = -1,
	.decay_ops = FTM_DECAY_OPS,
	.tcache_max = FTM_TCACHE_MAX_REQ,
	.tcache_bytes = FTM_TCACHE_BIN_BYTES,
	.large_cache_max = FTM_LARGE_CACHE_MAX_BYTES,
	.trace_fd = -1,
};

/* Does `s` start with `prefix`?  Then *rest points after it. */
static bool starts(const char *s, const char *prefix, const char **rest)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	*rest = s;
	return true;
}

static void warn(const char *what, const char *var)
{
	ftm_out o = { .fd = STDERR_FILENO };
	ftm_out_str(&o, "ft_malloc: ");
	ftm_out_str(&o, what);
	ftm_out_str(&o, ": ");
	for (const char *s = var; *s && o.len < 200; s++) {
		char c[2] = { *s, 0 };
		ftm_out_str(&o, c);
	}
	ftm_out_str(&o, " (ignored)\n");
	ftm_out_flush(&o);
}

/* A boolean: "0" or "1". */
static bool parse_bool(const char *var, const char *v, bool *out)
{
	if ((v[0] == '0' || v[0] == '1') && v[1] == 0) {
		*out = v[0] == '1';
		return true;
	}
	warn("expected 0 or 1", var);
	return false;
}

/* One of the words of `names` (NULL-terminated): its index in *out. */
static bool parse_word(const char *var, const char *v, const char *const *names,
                       const char *expected, unsigned *out)
{
	for (unsigned i = 0; names[i]; i++) {
		const char *rest;
		if (starts(v, names[i], &rest) && !*rest) {
			*out = i;
			return true;
		}
	}
	warn(expected, var);
	return false;
}

static const char *const actions[] = { "abort", "warn", "ignore", NULL };
static const char *const guards[] = { "0", "large", "all", NULL };

/* A whole number from lo to hi, in decimal. */
static bool parse_range(const char *var, const char *v, size_t lo, size_t hi, const char *expected,
                        size_t *out)
{
	size_t x = 0;
	const char *d = v;
	for (; *d >= '0' && *d <= '9' && x <= hi; d++)
		x = x * 10 + (size_t)(*d - '0');
	if (*d || d == v || x < lo || x > hi) {
		warn(expected, var);
		return false;
	}
	*out = x;
	return true;
}

/* A count of bytes, 0 to 2^40, in decimal; "all": no limit. */
static bool parse_count(const char *var, const char *v, size_t *out)
{
	const char *rest;
	if (starts(v, "all", &rest) && !*rest) {
		*out = SIZE_MAX;
		return true;
	}
	return parse_range(var, v, 0, (size_t)1 << 40, "expected a number of bytes or all", out);
}

/* FT_MALLOC_TRACE: a file descriptor (digits), or a path to append to. */
static void parse_trace(const char *var, const char *v)
{
	size_t fd;
	if (*v >= '0' && *v <= '9') {
		if (parse_range(var, v, 0, 1 << 20, "expected a file descriptor or a path", &fd))
			ftm_opt.trace_fd = (int)fd;
	} else if (!*v) {
		warn("expected a file descriptor or a path", var);
	} else if ((ftm_opt.trace_fd = ftm_os_open_append(v)) < 0) {
		warn("cannot open the trace file", var);
	}
}

/* A byte: 0-255 in decimal, or 0x00-0xff. */
static bool parse_byte(const char *var, const char *v, int *out)
{
	unsigned base = 10, x = 0, digits = 0;
	const char *rest;
	if (starts(v, "0x", &rest) || starts(v, "0X", &rest)) {
		base = 16;
		v = rest;
	}
	for (; *v && digits < 4; v++, digits++) {
		unsigned d = *v >= '0' && *v <= '9' ? (unsigned)(*v - '0')
		           : *v >= 'a' && *v <= 'f' ? (unsigned)(*v - 'a' + 10)
		           : *v >= 'A' && *v <= 'F' ? (unsigned)(*v - 'A' + 10) : 99;
		if (d >= base)
			break;
		x = x * base + d;
	}
	if (*v || !digits || x > 255) {
		warn("expected a byte, 0-255 or 0x00-0xff", var);
		return false;
	}
	*out = (int)x;
	return true;
}

bool ftm_secure_mode(void)
{
	return getauxval(AT_SECURE) != 0;
}

void ftm_env_load(void)
{
	if (ftm_opt.loaded)
		return;
	if (!environ)
		return;                 /* too early: the loader is still running */
	ftm_opt.loaded = true;
	if (ftm_secure_mode())
		return;                 /* every FT_MALLOC_* variable is ignored */
	for (char **e = environ; *e; e++) {
		const char *rest, *v;
		if (!starts(*e, "FT_MALLOC_", &rest))
			continue;
		unsigned w;
		if (starts(rest, "SHOW_AT_EXIT=", &v))
			parse_bool(*e, v, &ftm_opt.show_at_exit);
		else if (starts(rest, "STATS=", &v))
			parse_bool(*e, v, &ftm_opt.stats);
		else if (starts(rest, "ON_MISUSE=", &v)) {
			if (parse_word(*e, v, actions, "expected abort, warn or ignore", &w))
				ftm_opt.on_misuse = (enum ftm_action)w;
		} else if (starts(rest, "FILL_ALLOC=", &v))
			parse_byte(*e, v, &ftm_opt.fill_alloc);
		else if (starts(rest, "FILL_FREE=", &v))
			parse_byte(*e, v, &ftm_opt.fill_free);
		else if (starts(rest, "CHECK_FREED=", &v))
			parse_bool(*e, v, &ftm_opt.check_freed);
		else if (starts(rest, "SHOW_HEX=", &v))
			parse_count(*e, v, &ftm_opt.show_hex);
		else if (starts(rest, "TCACHE=", &v)) {
			bool on;
			if (parse_bool(*e, v, &on))
				ftm_opt.no_tcache = !on;
		} else if (starts(rest, "TCACHE_MAX=", &v))
			parse_range(*e, v, 0, FTM_TCACHE_MAX_REQ, "expected 0 to 4096", &ftm_opt.tcache_max);
		else if (starts(rest, "TCACHE_BYTES=", &v))
			parse_range(*e, v, 256, 1048576, "expected 256 to 1048576", &ftm_opt.tcache_bytes);
		else if (starts(rest, "DECAY_OPS=", &v))
			parse_range(*e, v, 1, 1000000000, "expected 1 to 1000000000", &ftm_opt.decay_ops);
		else if (starts(rest, "TRACE=", &v))
			parse_trace(*e, v);
		else if (starts(rest, "LARGE_CACHE_MB=", &v)) {
			size_t mb;
			if (parse_range(*e, v, 0, 65536, "expected 0 to 65536", &mb))
				ftm_opt.large_cache_max = mb << 20;
		}
		else if (starts(rest, "GUARD=", &v)) {
			if (parse_word(*e, v, guards, "expected 0, large or all", &w))
				ftm_opt.guard = (enum ftm_guard)w;
		}
		else
			warn("unknown variable", *e);
	}
	/* read after the set-up (the first calls came from the loader): the
	 * switches that need it take effect now */
	if (atomic_load_explicit(&ftm_g.state, memory_order_acquire) == 2)
		ftm_debug_setup();
}
