/*
 * init.c - process-wide state: set up on the first call, whoever makes it.
 *
 * The first malloc may come from the dynamic loader, from another library's
 * constructor or from a thread, before our constructor runs: ftm_init() is
 * called by every entry point, and the set-up calls nothing that allocates
 * (getpagesize, getauxval, getrlimit; env.c reads environ in place).
 */
#include "tcache.h"

#include <sys/auxv.h>
#include <unistd.h>

ftm_globals ftm_g;

static uint64_t read_secret(void)
{
	uint64_t s = 0x243f6a8885a308d3ull;               /* fallback: digits of pi */
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	if (r)                                            /* 16 random bytes from the kernel */
		for (int i = 0; i < 8; i++)
			s = (s << 8 | (s >> 56)) ^ r[i] ^ ((uint64_t)r[i + 8] << 32);
	s ^= (uintptr_t)&s;                               /* and the stack's ASLR */
	return s | 1;
}

void ftm_init_slow(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong_explicit(&ftm_g.state, &expected, 1,
	                                            memory_order_acq_rel, memory_order_acquire)) {
		ftm_g.page_size = ftm_os_page_size();
		ftm_g.secret = read_secret();
		ftm_g.cache_key = (ftm_g.secret * 0x9e3779b97f4a7c15ull) | 1;
		ftm_g.vm_limit = ftm_os_vm_limit();
		ftm_env_load();
		ftm_arena_setup();
		ftm_tcache_setup();
		ftm_debug_setup();              /* after the classes: it may turn the caches off */
		atomic_store_explicit(&ftm_g.state, 2, memory_order_release);
		return;
	}
	/* another thread is setting up: it takes microseconds, wait */
	while (atomic_load_explicit(&ftm_g.state, memory_order_acquire) != 2)
		ftm_cpu_relax();
}

/*
 * Fork: the heap's locks are held across it, so the child inherits a heap
 * that no other thread was changing.  While the process has one thread
 * ftm_lock() takes no lock at all; whether prepare_fork() took them is
 * remembered, because the child may not see the same answer (a sanitizer
 * runtime may start a thread in the child before our handler runs).
 */
static bool fork_held;

static void prepare_fork(void)
{
	fork_held = !ftm_single_threaded();
	ftm_arenas_lock_all();              /* no lock taken if !fork_held */
	ftm_stats_lock();                   /* always taken */
}

static void parent_after_fork(void)
{
	ftm_stats_unlock();
	ftm_arenas_unlock_all();            /* the parent's answer cannot change */
}

static void child_after_fork(void)
{
	ftm_stats_atfork_child();
	ftm_arenas_atfork_child(fork_held);
}

__attribute__((constructor))
static void ftm_constructor(void)
{
	ftm_init();
	ftm_env_load();             /* if the first call came before environ was set */
	pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
}

__attribute__((destructor))
static void ftm_destructor(void)
{
	if (ftm_opt.show_at_exit)
		ftm_show(STDERR_FILENO, false);
	if (ftm_opt.stats)
		ftm_stats_print(STDERR_FILENO);
}
