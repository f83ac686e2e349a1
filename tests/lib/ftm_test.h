/*
 * ftm_test.h - helpers shared by the ft_malloc test programs.
 *
 * A test program includes this header, calls ftm_begin() first (it proves
 * that the process really runs on ft_malloc), reports each assertion with
 * ftm_check() as a line "PASS: <name>" or "FAIL: <name> -- <detail>" on
 * standard output, and returns ftm_end() from main (it prints the line
 * "FTM-END ..." the harness requires: a program that stops before it
 * failed, whatever its exit status).
 *
 * Everything here reports with snprintf() into stack buffers and write(2):
 * no stdio buffering (safe around fork() and dup2() onto fd 1) and no
 * allocation (safe when memory is exhausted, and it does not disturb the
 * heap the tests look at).
 *
 * A comment "ftm-mode: linked" anywhere in a test program tells the
 * harness to run it only linked with -lft_malloc, never preloaded (for the
 * programs that call show_alloc_mem() and show_alloc_mem_ex() directly).
 */
#ifndef FTM_TEST_H
#define FTM_TEST_H

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * The allocator's size classes.  THE one place to edit if they change.
 *   TINY  : 0 .. FTM_TINY_MAX bytes
 *   SMALL : FTM_TINY_MAX + 1 .. FTM_SMALL_MAX bytes
 *   LARGE : above FTM_SMALL_MAX (from FTM_LARGE_MIN)
 * ---------------------------------------------------------------------- */
#define FTM_TINY_MAX   ((size_t)1024)
#define FTM_SMALL_MAX  ((size_t)65536)
#define FTM_LARGE_MIN  (FTM_SMALL_MAX + 1)

/* Every pointer the allocator returns is aligned on this. */
#define FTM_ALIGN      ((size_t)16)

#define FTM_UNUSED __attribute__((unused))

/* The tests compare the addresses of freed blocks and free bad pointers on
 * purpose. */
#if defined(__GNUC__) && !defined(__clang__)
# pragma GCC diagnostic ignored "-Wpragmas"
# pragma GCC diagnostic ignored "-Wuse-after-free"
# pragma GCC diagnostic ignored "-Wfree-nonheap-object"
# pragma GCC diagnostic ignored "-Wmismatched-dealloc"
#endif

/* ------------------------------------------------------------------------
 * Keeping the compiler honest.  At -O1 GCC deletes a malloc() whose result
 * is only freed, and stores into memory that is freed afterwards; passing
 * pointers through ftm_opaque() (and sizes through ftm_size()) stops that,
 * and stops it from reasoning about constant huge sizes.
 * ---------------------------------------------------------------------- */
static inline void *ftm_opaque(void *p)
{
	__asm__ volatile("" : "+r"(p) : : "memory");
	return p;
}

static inline size_t ftm_size(size_t n)
{
	__asm__ volatile("" : "+r"(n));
	return n;
}

#define FTM_CLOBBER() __asm__ volatile("" : : : "memory")

/* ------------------------------------------------------------------------
 * Reporting
 * ---------------------------------------------------------------------- */
static int ftm_npass, ftm_nfail;
static const char *ftm_prog = "test";

static FTM_UNUSED void ftm_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Print a line on stdout (one write, so lines of several processes do not
 * mix); errno is preserved. */
static FTM_UNUSED __attribute__((format(printf, 1, 2)))
void ftm_printf(const char *fmt, ...)
{
	char buf[4096];
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	ftm_write_all(1, buf, (size_t)n);
	errno = saved;
}

/* A formatted name, in one of 16 rotating static buffers. */
static FTM_UNUSED __attribute__((format(printf, 1, 2)))
const char *ftm_name(const char *fmt, ...)
{
	static char bufs[16][256];
	static unsigned next;
	char *b = bufs[next++ % 16];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof bufs[0], fmt, ap);
	va_end(ap);
	errno = saved;
	return b;
}

static void ftm_clean_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/*
 * Report one assertion: "PASS: name" when cond holds, else
 * "FAIL: name -- detail".  Returns cond.  errno is preserved.
 */
static FTM_UNUSED __attribute__((format(printf, 3, 4)))
int ftm_check(int cond, const char *name, const char *fmt, ...)
{
	char line[4096], detail[3000], nm[512];
	int saved = errno;
	va_list ap;

	snprintf(nm, sizeof nm, "%s", name);
	ftm_clean_line(nm);
	if (cond) {
		ftm_npass++;
		snprintf(line, sizeof line, "PASS: %s\n", nm);
	} else {
		ftm_nfail++;
		detail[0] = '\0';
		if (fmt != NULL) {
			va_start(ap, fmt);
			vsnprintf(detail, sizeof detail, fmt, ap);
			va_end(ap);
		}
		ftm_clean_line(detail);
		snprintf(line, sizeof line, "FAIL: %s -- %s\n", nm, detail);
	}
	ftm_write_all(1, line, strlen(line));
	errno = saved;
	return cond;
}

/* A check this machine cannot make: "UNSUPPORTED: name -- why". */
static FTM_UNUSED void ftm_unsupported(const char *name, const char *why)
{
	char nm[300];
	snprintf(nm, sizeof nm, "%s", name);
	ftm_clean_line(nm);
	ftm_printf("UNSUPPORTED: %s -- %s\n", nm, why);
}

static FTM_UNUSED int ftm_end(void)
{
	ftm_printf("FTM-END %s pass=%d fail=%d\n", ftm_prog, ftm_npass, ftm_nfail);
	return 0;
}

/*
 * Prove that this process runs on ft_malloc: show_alloc_mem must be
 * visible, and the malloc the dynamic linker resolves must come from
 * libft_malloc.  When that fails the program stops (with FTM-END, so only
 * this failure is reported) unless FTM_ALLOW_GLIBC is set in the
 * environment (to develop the tests against the C library).
 */
static FTM_UNUSED void ftm_begin(const char *prog)
{
#ifdef FTM_PREFIXED
	/* the prefixed build (src/prefix.h, make check-sanitize): the calls
	 * were renamed at compile time; prove it by the renamed symbol */
	void *mine = NULL;
	ftm_prog = prog;
	mine = malloc(1);       /* a foreign pointer would be refused: abort */
	ftm_check(mine != NULL && malloc_usable_size(mine) >= 1,
	    "process runs on ft_malloc (prefixed build)", "malloc(1) gave %p", mine);
	free(mine);
	return;
#endif
	void *sam, *m;
	const char *where = "(unknown)";
	Dl_info info;
	int ok;

	ftm_prog = prog;
	sam = dlsym(RTLD_DEFAULT, "show_alloc_mem");
	m = dlsym(RTLD_DEFAULT, "malloc");
	if (m != NULL && dladdr(m, &info) != 0 && info.dli_fname != NULL)
		where = info.dli_fname;
	ok = sam != NULL && strstr(where, "libft_malloc") != NULL;
	ftm_check(ok, "process runs on ft_malloc",
	    "dlsym(show_alloc_mem)=%p, malloc resolved in %s", sam, where);
	if (!ok && getenv("FTM_ALLOW_GLIBC") == NULL) {
		ftm_end();
		exit(0);
	}
}

/* ------------------------------------------------------------------------
 * Small utilities
 * ---------------------------------------------------------------------- */
static inline int ftm_is_pow2(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static inline int ftm_aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

static inline size_t ftm_next_pow2(size_t x)
{
	size_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

static inline size_t ftm_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Which class a request falls in: "TINY", "SMALL" or "LARGE". */
static inline const char *ftm_class(size_t n)
{
	return n <= FTM_TINY_MAX ? "TINY" : n <= FTM_SMALL_MAX ? "SMALL" : "LARGE";
}

/* xorshift64: the seeded PRNG of the tests. */
static inline uint64_t ftm_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* uniform-ish in [lo, hi] */
static inline size_t ftm_rand_range(uint64_t *s, size_t lo, size_t hi)
{
	return lo + (size_t)(ftm_rand(s) % (uint64_t)(hi - lo + 1));
}

static inline uint64_t ftm_seed_mix(uint64_t seed)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* Fill n bytes at p with the pattern of seed. */
static FTM_UNUSED void ftm_fill(void *p, size_t n, uint64_t seed)
{
	unsigned char *c = p;
	uint64_t s = ftm_seed_mix(seed), w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		w = ftm_rand(&s);
		memcpy(c + i, &w, 8);
	}
	if (i < n) {
		w = ftm_rand(&s);
		memcpy(c + i, &w, n - i);
	}
	FTM_CLOBBER();
}

/* Check the pattern of seed over n bytes at p: returns the offset of the
 * first wrong byte, or (size_t)-1 when all is well. */
static FTM_UNUSED size_t ftm_verify(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *c = p;
	uint64_t s = ftm_seed_mix(seed), w, v;
	size_t i = 0, k;

	for (; i + 8 <= n; i += 8) {
		w = ftm_rand(&s);
		memcpy(&v, c + i, 8);
		if (v != w)
			break;
	}
	if (i < n) {
		w = (i + 8 <= n) ? w : ftm_rand(&s);
		for (k = 0; i + k < n && k < 8; k++)
			if (c[i + k] != ((const unsigned char *)&w)[k])
				return i + k;
	}
	return (size_t)-1;
}

/* Offset of the first byte of [p, p+n) that is not `byte`, or -1. */
static FTM_UNUSED size_t ftm_find_not(const void *p, size_t n, int byte)
{
	const unsigned char *c = p;
	size_t i;
	for (i = 0; i < n; i++)
		if (c[i] != (unsigned char)byte)
			return i;
	return (size_t)-1;
}

/* Read a whole file into buf (NUL-terminated) without allocating. */
static FTM_UNUSED ssize_t ftm_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	return (ssize_t)len;
}

/* Number of lines of /proc/self/maps (the number of mappings). */
static FTM_UNUSED long ftm_count_maps(void)
{
	static char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	long lines = 0;
	ssize_t r, i;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		for (i = 0; i < r; i++)
			lines += buf[i] == '\n';
	}
	close(fd);
	return lines;
}

/* A "Key:   N kB" field of /proc/self/status, in bytes (-1 if absent). */
static FTM_UNUSED long long ftm_status_bytes(const char *key)
{
	static char buf[16384];
	size_t klen = strlen(key);
	char *l;

	if (ftm_read_file("/proc/self/status", buf, sizeof buf) < 0)
		return -1;
	for (l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, klen) == 0 && l[klen] == ':')
			return strtoll(l + klen + 1, NULL, 10) * 1024;
	return -1;
}

static FTM_UNUSED long ftm_minflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* ------------------------------------------------------------------------
 * Running something in a child process
 * ---------------------------------------------------------------------- */
typedef struct {
	int status;          /* as from waitpid */
	int timed_out;       /* killed by our alarm */
	char err[8192];      /* what the child wrote on stderr (NUL-terminated) */
	size_t errlen;
} ftm_child_t;

/*
 * Run fn(arg) in a forked child whose stderr is captured, with no core
 * dump and an alarm of timeout_s seconds; the child exits 0 when fn
 * returns.  Returns 0, or -1 when fork or pipe failed.
 */
static FTM_UNUSED int ftm_run_child(void (*fn)(void *), void *arg,
    unsigned timeout_s, ftm_child_t *res)
{
	int fds[2];
	pid_t pid;
	ssize_t r;

	memset(res, 0, sizeof *res);
	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };
		setrlimit(RLIMIT_CORE, &nocore);
		close(fds[0]);
		dup2(fds[1], 2);
		close(fds[1]);
		signal(SIGALRM, SIG_DFL);
		alarm(timeout_s);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		r = read(fds[0], res->err + res->errlen,
		    sizeof res->err - 1 - res->errlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		res->errlen += (size_t)r;
		if (res->errlen == sizeof res->err - 1) {
			char sink[4096];
			while (read(fds[0], sink, sizeof sink) > 0)
				;
			break;
		}
	}
	res->err[res->errlen] = '\0';
	close(fds[0]);
	while (waitpid(pid, &res->status, 0) < 0 && errno == EINTR)
		;
	res->timed_out = WIFSIGNALED(res->status) && WTERMSIG(res->status) == SIGALRM;
	return 0;
}

/* "exited 3", "killed by signal 11 (Segmentation fault)", ... */
static FTM_UNUSED const char *ftm_status_str(int status)
{
	if (WIFEXITED(status))
		return ftm_name("exited %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return ftm_name("killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	return ftm_name("status 0x%x", status);
}

/* ------------------------------------------------------------------------
 * Capturing what a function writes on stdout (fd 1), without allocating:
 * into a memfd, read back into buf.  Returns the length, or -1.
 * ---------------------------------------------------------------------- */
static FTM_UNUSED ssize_t ftm_capture_stdout(void (*fn)(void), char *buf, size_t cap)
{
	int mfd = memfd_create("ftm_capture", MFD_CLOEXEC);
	int saved;
	size_t len = 0;
	ssize_t r;

	if (mfd < 0)
		return -1;
	saved = dup(1);
	if (saved < 0) {
		close(mfd);
		return -1;
	}
	dup2(mfd, 1);
	fn();
	dup2(saved, 1);
	close(saved);
	if (lseek(mfd, 0, SEEK_SET) != 0) {
		close(mfd);
		return -1;
	}
	while (len + 1 < cap && (r = read(mfd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(mfd);
	return (ssize_t)len;
}

/* ------------------------------------------------------------------------
 * Running this test program again with FT_MALLOC_* variables set (the
 * library reads them at start-up, so a forked child would keep the
 * parent's): "PROG --case N", with every FT_MALLOC_* variable of ours
 * removed but FT_MALLOC_SHOW*, and `vars` (NULL-terminated) added.
 * ---------------------------------------------------------------------- */
extern char **environ;
static char ftm_self_path[4096];

typedef struct {
	unsigned c;
	const char *const *vars;
} ftm_self_job_t;

/* In main, first: the case number N of "PROG --case N", or -1. */
static FTM_UNUSED int ftm_self_case(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--case") == 0)
		return atoi(argv[2]);
	return -1;
}

/* In main, first: run as "PROG --case N", run case N (fn_of(N) names its
 * function) and leave with status 0 (2: no such case). */
#define FTM_SELF_DISPATCH(argc, argv, ncases, fn_of)                      \
	do {                                                              \
		int k_ = ftm_self_case(argc, argv);                       \
		if (k_ >= 0) {                                            \
			if ((unsigned)k_ >= (ncases))                     \
				return 2;                                 \
			fn_of(k_)();                                      \
			return 0;                                         \
		}                                                         \
	} while (0)

static FTM_UNUSED void ftm_self_exec(void *arg)
{
	const ftm_self_job_t *j = arg;
	static char *env[512], idx[16];
	size_t n = 0;
	for (char **e = environ; *e && n < 480; e++)
		if (strncmp(*e, "FT_MALLOC_", 10) != 0 || strncmp(*e, "FT_MALLOC_SHOW", 14) == 0)
			env[n++] = *e;
	for (int i = 0; j->vars && j->vars[i] && n < 510; i++)
		env[n++] = (char *)j->vars[i];
	env[n] = NULL;
	snprintf(idx, sizeof idx, "%u", j->c);
	char *argv[] = { ftm_self_path, "--case", idx, NULL };
	execve(ftm_self_path, argv, env);
	_exit(127);
}

/* Run case c with `vars`; 0, or -1 if the program or a child cannot be had. */
static FTM_UNUSED int ftm_run_self(unsigned c, const char *const *vars, unsigned timeout_s,
    ftm_child_t *res)
{
	if (!ftm_self_path[0]) {
		ssize_t n = readlink("/proc/self/exe", ftm_self_path, sizeof ftm_self_path - 1);
		if (n <= 0)
			return -1;
		ftm_self_path[n] = '\0';
	}
	ftm_self_job_t j = { c, vars };
	return ftm_run_child(ftm_self_exec, &j, timeout_s, res);
}

/* How many lines of s begin with prefix. */
static FTM_UNUSED int ftm_count_lines(const char *s, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, prefix, len) == 0)
			n++;
	return n;
}

#endif /* FTM_TEST_H */
