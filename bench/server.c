/* server.c - a multithreaded server: requests allocate, survivors move on.
 *
 *   server SCALE
 *
 * Models a server with a pool of 4 worker threads.  Each request allocates
 * some short-lived scratch blocks (parsing buffers, temporary strings),
 * freed before the request ends, and one "result" object that outlives the
 * request: it goes into a shared table (a cache, a session store, a reply
 * queue) where it replaces an older entry.  The entry it replaces was
 * usually made by another thread, so most long-lived blocks are freed by a
 * thread other than the one that allocated them.  Sizes are skewed like
 * real traffic: mostly 16-256 B, some up to 4 KiB, a few up to 64 KiB.
 *
 * The table is an array of atomic pointers; a swap takes the old entry out,
 * the swapping thread checks its stamp and frees it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "common.h"

#define THREADS 4
#define TABLE 8192
#define SCRATCH 4

static _Atomic(void *) table[TABLE];
static uint64_t requests_per_thread;

static size_t request_size(rng_t *r)
{
	uint64_t x = rng_next(r) % 100;
	if (x < 80)
		return rng_range(r, 16, 256);
	if (x < 97)
		return rng_range(r, 257, 4096);
	return rng_range(r, 4097, 65536);
}

static void *worker(void *arg)
{
	uint64_t id = (uintptr_t)arg;
	uint64_t sum = 0, seq = 0;
	rng_t r;
	rng_seed(&r, 1000 + id);

	for (uint64_t i = 0; i < requests_per_thread; i++) {
		void *scratch[SCRATCH];
		for (int k = 0; k < SCRATCH; k++) {
			size_t n = request_size(&r);
			scratch[k] = xmalloc(n);
			stamp(scratch[k], n, make_tag(id, seq++));
		}
		size_t n = request_size(&r);
		void *keep = xmalloc(n);
		stamp(keep, n, make_tag(id, seq++));
		for (int k = SCRATCH - 1; k >= 0; k--) {
			sum += unstamp(scratch[k], "server scratch");
			free(scratch[k]);
		}
		void *old = atomic_exchange(&table[rng_next(&r) % TABLE], keep);
		if (old) {
			sum += unstamp(old, "server table");
			free(old);
		}
	}
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	requests_per_thread = scaled(bench_scale(argc, argv), 300000, 1000);
	pthread_t th[THREADS];
	uint64_t sum = 0;

	double t0 = now_s();
	for (uintptr_t i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i)) {
			perror("pthread_create");
			return 3;
		}
	for (int i = 0; i < THREADS; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		sum += (uintptr_t)ret;
	}
	for (int i = 0; i < TABLE; i++) {
		void *p = atomic_load(&table[i]);
		if (p) {
			sum += unstamp(p, "server drain");
			free(p);
		}
	}
	double t = now_s() - t0;

	report(t, requests_per_thread * THREADS * (SCRATCH + 1), sum, "");
	return 0;
}
