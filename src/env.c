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
 *   FT_MALLOC_ON_MISUSE=abort|warn|ignore
 *                                what a call refused for misuse does after
 *                                it was found (diag.c, ftm_refuse())
 */
#include "internal.h"

#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

ftm_options ftm_opt;

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
		else if (starts(rest, "ON_MISUSE=", &v)) {
			if (parse_word(*e, v, actions, "expected abort, warn or ignore", &w))
				ftm_opt.on_misuse = (enum ftm_action)w;
		} else
			warn("unknown variable", *e);
	}
}
