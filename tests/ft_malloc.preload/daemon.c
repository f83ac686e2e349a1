/*
 * daemon.c - a long-running process that creates and ends many threads.
 *
 * DAEMON_THREADS threads in waves of DAEMON_WAVE; each allocates about
 * 500 KB in DAEMON_ALLOCS blocks of mixed sizes (TINY, SMALL, LARGE), frees most of it and
 * hands DAEMON_HANDED blocks to the main thread, which checks and frees
 * them one wave later (after their thread has ended).  The resident size
 * (/proc/self/statm) at the end must stay within DAEMON_RSS_SLACK of the
 * one after the first 100 threads: memory of ended threads is reused.
 */
#include "preload.h"

#include <pthread.h>

enum {
	DAEMON_THREADS = 1000,
	DAEMON_WAVE = 8,
	DAEMON_ALLOCS = 300,      /* per thread */
	DAEMON_HANDED = 12,       /* per thread, freed later by main */
	DAEMON_BASE_AFTER = 100,  /* threads before the reference RSS */
};
#define DAEMON_RSS_SLACK ((long long)8 << 20)

typedef struct {
	unsigned id;
	int bad;
	size_t bytes;                     /* total allocated */
	void *handed[DAEMON_HANDED];
	size_t handed_n[DAEMON_HANDED];
	uint64_t handed_seed[DAEMON_HANDED];
} job_t;

static job_t jobs[2][DAEMON_WAVE];   /* this wave and the previous one */

static void *work(void *arg)
{
	job_t *j = arg;
	void *b[DAEMON_ALLOCS];
	size_t n[DAEMON_ALLOCS];
	uint64_t rs = ftm_seed_mix(j->id);
	int i, h = 0;

	j->bytes = 0;
	for (i = 0; i < DAEMON_ALLOCS; i++) {
		uint64_t k = ftm_rand(&rs) % 100;
		n[i] = k < 70 ? ftm_rand_range(&rs, 1, 1024)          /* TINY */
		     : k < 98 ? ftm_rand_range(&rs, 1025, 4096)        /* SMALL */
		     : ftm_rand_range(&rs, 33000, 50000);              /* LARGE */
		b[i] = malloc(n[i]);
		if (b[i] == NULL) {
			j->bad++;
			continue;
		}
		j->bytes += n[i];
		ftm_fill(b[i], n[i], (uint64_t)j->id << 20 | (uint64_t)i);
		/* free some right away, in a mixed order */
		if (i % 3 == 2 && b[i - 1] != NULL) {
			if (ftm_verify(b[i - 1], n[i - 1], (uint64_t)j->id << 20 | (uint64_t)(i - 1)) != (size_t)-1)
				j->bad++;
			free(b[i - 1]);
			b[i - 1] = NULL;
		}
	}
	for (i = 0; i < DAEMON_ALLOCS; i++) {
		if (b[i] == NULL)
			continue;
		if (ftm_verify(b[i], n[i], (uint64_t)j->id << 20 | (uint64_t)i) != (size_t)-1)
			j->bad++;
		if (h < DAEMON_HANDED && i % 7 == 0) {
			j->handed[h] = b[i];
			j->handed_n[h] = n[i];
			j->handed_seed[h] = (uint64_t)j->id << 20 | (uint64_t)i;
			h++;
		} else {
			free(b[i]);
		}
	}
	for (; h < DAEMON_HANDED; h++) {
		j->handed[h] = NULL;
		j->handed_n[h] = 0;
	}
	return NULL;
}

static long long rss_bytes(void)
{
	char buf[256];
	long long size = 0, res = 0;
	if (ftm_read_file("/proc/self/statm", buf, sizeof buf) < 0)
		return -1;
	if (sscanf(buf, "%lld %lld", &size, &res) != 2)
		return -1;
	return res * (long long)ftm_page();
}

/* check and free the blocks a finished wave handed over */
static int drain(job_t *w, int count)
{
	int bad = 0;
	for (int t = 0; t < count; t++) {
		for (int h = 0; h < DAEMON_HANDED; h++) {
			if (w[t].handed[h] == NULL)
				continue;
			if (malloc_usable_size(w[t].handed[h]) < w[t].handed_n[h] ||
			    ftm_verify(w[t].handed[h], w[t].handed_n[h],
				w[t].handed_seed[h]) != (size_t)-1)
				bad++;
			free(w[t].handed[h]);
			w[t].handed[h] = NULL;
		}
		bad += w[t].bad;
	}
	return bad;
}

int main(void)
{
	pthread_t th[DAEMON_WAVE];
	int started = 0, wave = 0, bad = 0, create_fail = 0, cur, prev_count = 0;
	long long rss_base = -1, rss_end, rss_max = 0;
	size_t bytes = 0;
	double t0 = pl_now();

	ftm_begin("daemon");
	while (started < DAEMON_THREADS) {
		int count = DAEMON_THREADS - started < DAEMON_WAVE ? DAEMON_THREADS - started : DAEMON_WAVE;
		cur = wave % 2;
		for (int t = 0; t < count; t++) {
			memset(&jobs[cur][t], 0, sizeof jobs[cur][t]);
			jobs[cur][t].id = (unsigned)(started + t + 1);
			if (pthread_create(&th[t], NULL, work, &jobs[cur][t]) != 0) {
				create_fail++;
				jobs[cur][t].bad++;
				th[t] = 0;
			}
		}
		for (int t = 0; t < count; t++)
			if (th[t] != 0)
				pthread_join(th[t], NULL);
		for (int t = 0; t < count; t++)
			bytes += jobs[cur][t].bytes;
		/* the previous wave's blocks: their threads ended a wave ago */
		bad += drain(jobs[1 - cur], prev_count);
		prev_count = count;
		started += count;
		wave++;
		if (rss_base < 0 && started >= DAEMON_BASE_AFTER)
			rss_base = rss_bytes();
		if (rss_base >= 0) {
			long long r = rss_bytes();
			rss_max = r > rss_max ? r : rss_max;
		}
	}
	bad += drain(jobs[(wave - 1) % 2], prev_count);
	rss_end = rss_bytes();

	ftm_check(create_fail == 0, ftm_name("%d threads created in waves of %d", DAEMON_THREADS, DAEMON_WAVE),
	    "%d pthread_create failures", create_fail);
	ftm_check(bad == 0, "every thread's blocks keep their contents; handed-over blocks free",
	    "%d errors", bad);
	fprintf(stderr, "daemon: %d threads, %.1f MiB allocated in all, %.2f s; RSS after %d threads "
	    "%.2f MiB, at the end %.2f MiB (max %.2f MiB), bound +%lld MiB\n",
	    started, (double)bytes / 1048576.0, pl_now() - t0, DAEMON_BASE_AFTER,
	    (double)rss_base / 1048576.0, (double)rss_end / 1048576.0,
	    (double)rss_max / 1048576.0, DAEMON_RSS_SLACK >> 20);
	ftm_check(rss_base > 0 && rss_end > 0 && rss_end <= rss_base + DAEMON_RSS_SLACK,
	    ftm_name("RSS after %d threads stays within %lld MiB of RSS after %d",
		DAEMON_THREADS, DAEMON_RSS_SLACK >> 20, DAEMON_BASE_AFTER),
	    "RSS %lld bytes after %d threads, %lld bytes at the end (%+lld)",
	    rss_base, DAEMON_BASE_AFTER, rss_end, rss_end - rss_base);
	return ftm_end();
}
