/*
 * os.c - every system call ft_malloc makes, and nothing else.
 *
 * Memory comes from anonymous private mmap() only and goes back with
 * munmap(), or, for idle pages inside a zone that stays mapped, with
 * madvise(MADV_DONTNEED); page size, resource limits and the processor
 * count are read here.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
# define MAP_FIXED_NOREPLACE 0x100000   /* Linux >= 4.17; older kernels take it as a hint */
#endif

/* User space ends below 2^47 unless a program asks for more with a hint;
 * the page map covers exactly this range (pagemap.c). */
#define FTM_ADDR_LIMIT ((uintptr_t)1 << 47)

/* errno is left as it was: a failure may be retried after reclaiming, and
 * the public functions set ENOMEM themselves when they give up. */
void *ftm_os_map(size_t len)
{
	return ftm_os_map_near(NULL, len);
}

/* As ftm_os_map(), at hint if that range is free (else where the kernel
 * puts it). */
void *ftm_os_map_near(void *hint, size_t len)
{
	int saved = errno;
	void *p = mmap(hint, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = saved;
	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p + len > FTM_ADDR_LIMIT) {   /* beyond what the page map covers */
		munmap(p, len);
		return NULL;
	}
	if (FTM_STATS_ON())
		ftm_stats_mapped((int64_t)len);
	return p;
}

/* Map exactly at addr, or fail without disturbing anything already there.
 * A failure is an answer, not an error: errno is left as it was. */
void *ftm_os_map_at(void *addr, size_t len)
{
	if ((uintptr_t)addr + len > FTM_ADDR_LIMIT || (uintptr_t)addr + len < (uintptr_t)addr)
		return NULL;
	int saved = errno;
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED && p != addr) {   /* an old kernel placed it elsewhere */
		munmap(p, len);
		p = MAP_FAILED;
	}
	errno = saved;
	if (p == MAP_FAILED)
		return NULL;
	if (FTM_STATS_ON())
		ftm_stats_mapped((int64_t)len);
	return p;
}

/* Make [addr, addr + len) (page-aligned, inside one of our mappings)
 * inaccessible: a guard page (FT_MALLOC_GUARD).  A mapping over it, as the
 * rest of our memory is made; false if that failed (the caller unmaps the
 * whole mapping). */
bool ftm_os_guard(void *addr, size_t len)
{
	int saved = errno;
	void *p = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	errno = saved;
	return p == addr;
}

/*
 * Give the pages of [addr, addr + len) (page-aligned, ours, holding
 * nothing anyone needs) back to the kernel, keeping the range mapped: it
 * reads as zeros, resident again only where touched.  madvise, not an
 * mmap(MAP_FIXED) over the range: that unmaps first, and when the new
 * mapping then fails (Linux 6.1 charges strict overcommit only after the
 * unmap) it leaves a hole inside a zone.  madvise fails without changing
 * anything; then the old pages simply stay.
 */
void ftm_os_refresh(void *addr, size_t len)
{
	int saved = errno;
	madvise(addr, len, MADV_DONTNEED);
	errno = saved;
}

/* Ask for transparent huge pages on [addr, addr + len): one fault per
 * 2 MiB instead of one per page, for big buffers that will be written
 * whole.  Only advice: memory still comes from mmap, and an old kernel or
 * THP switched off just says no. */
void ftm_os_hint_huge(void *addr, size_t len)
{
#ifdef MADV_HUGEPAGE
	int saved = errno;
	madvise(addr, len, MADV_HUGEPAGE);
	errno = saved;
#else
	(void)addr;
	(void)len;
#endif
}

/* errno is left as it was: callers such as realloc succeed all the same. */
void ftm_os_unmap(void *addr, size_t len)
{
	if (len) {
		int saved = errno;
		if (munmap(addr, len) == 0 && FTM_STATS_ON())
			ftm_stats_mapped(-(int64_t)len);
		errno = saved;
	}
}

size_t ftm_os_page_size(void)
{
	int ps = getpagesize();
	if (ps <= 0 || (ps & (ps - 1)))     /* never trust a strange answer */
		return FTM_CONFIG_PAGE_SIZE;
	return (size_t)ps;
}

/* The smaller of the soft RLIMIT_AS and RLIMIT_DATA limits (both count
 * anonymous mappings on Linux), or SIZE_MAX when neither is set. */
size_t ftm_os_vm_limit(void)
{
	size_t limit = SIZE_MAX;
	struct rlimit rl;
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < limit)
		limit = (size_t)rl.rlim_cur;
	if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < limit)
		limit = (size_t)rl.rlim_cur;
	return limit;
}

/*
 * Processors this process may run on (its affinity mask), at least 1; the
 * kernel fills a mask on the stack: nothing allocates.  Through syscall(), not libc's
 * sched_getaffinity() and CPU_COUNT(): those sit in a part of libc's text
 * that few programs use, and calling them faults it in, 64 KiB of RSS in
 * every process (syscall() sits beside mmap(), which programs touch).
 */
size_t ftm_os_cpu_count(void)
{
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
	int saved = errno;
	long got = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);  /* bytes written */
	errno = saved;
	size_t n = 0;
	for (long i = 0; i < got / (long)sizeof mask[0]; i++)
		n += (size_t)__builtin_popcountl(mask[i]);
	return n > 0 ? n : 1;
}

void ftm_os_write(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* FT_MALLOC_TRACE=PATH: the file the trace goes to, appended to; -1 if it
 * cannot be opened. */
int ftm_os_open_append(const char *path)
{
	int saved = errno;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	errno = saved;
	return fd;
}

/* The calling thread's id, for the trace. */
long ftm_os_tid(void)
{
	return syscall(SYS_gettid);
}
