/* churn.c - thread churn: short-lived threads leave long-lived objects.
 *
 *   churn SCALE
 *
 * Models thread-per-task programs (a thread per connection, a build tool
 * spawning workers, a pool that retires idle threads).  Each round starts 4
 * threads; each allocates 2000 temporaries (16 B - 1 KiB, freed in small
 * batches) and 300 long-lived objects (16 B - 4 KiB) that it hands over to
 * the main thread, then exits.  The main thread keeps the objects of the
 * last 8 rounds and frees older ones: memory allocated by threads that no
 * longer exist.  This exercises per-thread state setup and teardown, and
 * shows memory stranded in the caches or arenas of dead threads (in RSS).
 */
#include <pthread.h>
#include "common.h"

#define THREADS 4
#define TEMPS 2000
#define KEEPS 300
#define GENERATIONS 8

typedef struct {
	uint64_t id;
	uint64_t sum;
	void *keep[KEEPS];
} task_t;

static void *worker(void *arg)
{
	task_t *t = arg;
	rng_t r;
	rng_seed(&r, t->id);
	uint64_t seq = 0;

	for (int i = 0; i < TEMPS; i += 8) {
		void *tmp[8];
		for (int j = 0; j < 8; j++) {
			size_t n = rng_range(&r, 16, 1024);
			tmp[j] = xmalloc(n);
			stamp(tmp[j], n, make_tag(t->id, seq++));
		}
		for (int j = 0; j < 8; j++) {
			t->sum += unstamp(tmp[j], "churn temp");
			free(tmp[j]);
		}
	}
	for (int i = 0; i < KEEPS; i++) {
		size_t n = rng_range(&r, 16, 4096);
		t->keep[i] = xmalloc(n);
		stamp(t->keep[i], n, make_tag(t->id, seq++));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t rounds = scaled(bench_scale(argc, argv), 600, 20);
	static task_t gen[GENERATIONS][THREADS];
	uint64_t sum = 0;

	double t0 = now_s();
	for (uint64_t round = 0; round < rounds + GENERATIONS; round++) {
		task_t *g = gen[round % GENERATIONS];
		if (round >= GENERATIONS) { /* free the oldest generation */
			for (int i = 0; i < THREADS; i++)
				for (int k = 0; k < KEEPS; k++) {
					sum += unstamp(g[i].keep[k], "churn keep");
					free(g[i].keep[k]);
				}
		}
		if (round >= rounds)
			continue; /* the last GENERATIONS rounds only drain */
		pthread_t th[THREADS];
		for (int i = 0; i < THREADS; i++) {
			g[i].id = 1 + round * THREADS + i;
			if (pthread_create(&th[i], NULL, worker, &g[i])) {
				perror("pthread_create");
				return 3;
			}
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(th[i], NULL);
			sum += g[i].sum;
			g[i].sum = 0;
		}
	}
	double t = now_s() - t0;

	report(t, rounds * THREADS, sum, "");
	return 0;
}
