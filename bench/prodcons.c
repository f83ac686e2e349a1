/* prodcons.c - producer/consumer: one thread allocates, another frees.
 *
 *   prodcons SCALE
 *
 * Models a pipeline stage: a reader thread builds messages (random sizes,
 * 16 B - 2 KiB) and hands them through a queue to a worker thread, which
 * checks and frees them.  Every free is a remote free: the block goes back
 * to an allocator structure owned by another thread, the case that per-
 * thread caches handle worst (memory piles up on the wrong side, or every
 * free takes a lock).
 *
 * The queue is a single-producer single-consumer ring of 1024 pointers;
 * either side spins briefly, then yields, when the ring is full or empty.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include "common.h"

#define RING 1024

/* Wait for the other side: spin briefly, then give the CPU away. */
static void backoff(unsigned *spins)
{
	if (++*spins < 200) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else
		sched_yield();
}

static void *ring[RING];
static _Atomic uint64_t head, tail; /* head: next to write; tail: next to read */
static uint64_t messages;

static void *producer(void *arg)
{
	(void)arg;
	rng_t r;
	rng_seed(&r, 7);
	for (uint64_t i = 0; i < messages; i++) {
		size_t n = rng_range(&r, 16, 2048);
		void *p = xmalloc(n);
		stamp(p, n, make_tag(2, i));
		unsigned spins = 0;
		while (i - atomic_load_explicit(&tail, memory_order_acquire) >= RING)
			backoff(&spins);
		ring[i % RING] = p;
		atomic_store_explicit(&head, i + 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < messages; i++) {
		unsigned spins = 0;
		while (atomic_load_explicit(&head, memory_order_acquire) <= i)
			backoff(&spins);
		void *p = ring[i % RING];
		atomic_store_explicit(&tail, i + 1, memory_order_release);
		if (unstamp(p, "prodcons") != make_tag(2, i))
			verify_fail("prodcons: message out of order");
		sum += make_tag(2, i);
		free(p);
	}
	return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv)
{
	messages = scaled(bench_scale(argc, argv), 1500000, 1000);
	pthread_t pt, ct;
	void *sum;

	double t0 = now_s();
	if (pthread_create(&ct, NULL, consumer, NULL) ||
	    pthread_create(&pt, NULL, producer, NULL)) {
		perror("pthread_create");
		return 3;
	}
	pthread_join(pt, NULL);
	pthread_join(ct, &sum);
	double t = now_s() - t0;

	report(t, messages, (uintptr_t)sum, "");
	return 0;
}
