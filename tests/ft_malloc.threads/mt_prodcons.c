/*
 * mt_prodcons: producers allocate, consumers check and free.  Every free is
 * a remote free: the block goes back, through the freeing thread's cache,
 * to the arena of a thread that is still allocating (its remote list), or
 * of a thread that has exited.
 *
 * Two generations of producer/consumer pairs run one after the other.
 * Every block must arrive intact; after each generation every block is
 * freed, show_alloc_mem() must list no more live bytes than before, and the
 * second generation must reuse the first one's memory (the arenas and
 * transfer lists of exited threads): it may not end with more zones than
 * the first one did, but for a quarter more for timing.
 *
 * ftm-mode: linked (show_alloc_mem is ft_malloc's own function)
 */
#include "ftm_test.h"
#include "ft_malloc.h"
#include <pthread.h>

enum { PAIRS = 2, MSGS = 120000, RING = 512 };

typedef struct {
	unsigned char *p;
	size_t n;
	uint64_t seed;
} msg_t;

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t more, room;
	msg_t ring[RING];
	unsigned head, tail;        /* tail - head messages waiting */
	int id;
	long null, corrupt, got;
} chan_t;

static chan_t chans[PAIRS];

/* Sizes like a pipeline's messages: mostly small, some SMALL, a few LARGE. */
static size_t msg_size(uint64_t *r)
{
	uint64_t x = ftm_rand(r) % 1000;
	if (x < 900)
		return ftm_rand_range(r, 1, 2048);
	if (x < 995)
		return ftm_rand_range(r, 2049, 65536);
	return ftm_rand_range(r, 65537, 300000);
}

static void *producer(void *arg)
{
	chan_t *c = arg;
	uint64_t r = 0x1234u + (uint64_t)c->id;
	for (long i = 0; i < MSGS; i++) {
		msg_t m = { NULL, msg_size(&r), ((uint64_t)c->id << 40) | (uint64_t)i };
		m.p = malloc(m.n);
		if (m.p == NULL) {
			c->null++;
			continue;
		}
		ftm_fill(m.p, m.n, m.seed);
		pthread_mutex_lock(&c->lock);
		while (c->tail - c->head == RING)
			pthread_cond_wait(&c->room, &c->lock);
		c->ring[c->tail++ % RING] = m;
		pthread_cond_signal(&c->more);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_lock(&c->lock);
	while (c->tail - c->head == RING)
		pthread_cond_wait(&c->room, &c->lock);
	c->ring[c->tail++ % RING] = (msg_t){ NULL, 0, 0 };     /* the end */
	pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void *consumer(void *arg)
{
	chan_t *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (c->tail == c->head)
			pthread_cond_wait(&c->more, &c->lock);
		msg_t m = c->ring[c->head++ % RING];
		pthread_cond_signal(&c->room);
		pthread_mutex_unlock(&c->lock);
		if (m.p == NULL)
			return NULL;
		if (ftm_verify(m.p, m.n, m.seed) != (size_t)-1)
			c->corrupt++;
		c->got++;
		free(m.p);
	}
}

static char shown[8 << 20];

/* Zones listed by show_alloc_mem(), and the Total it prints. */
static void census(long *zones, long long *total)
{
	ssize_t n = ftm_capture_stdout(show_alloc_mem, shown, sizeof shown - 1);
	*zones = 0;
	*total = -1;
	if (n <= 0)
		return;
	shown[n] = '\0';
	for (const char *l = shown; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, "TINY : ", 7) == 0 || strncmp(l, "SMALL : ", 8) == 0)
			(*zones)++;
		if (strncmp(l, "Total : ", 8) == 0)
			*total = strtoll(l + 8, NULL, 10);
	}
}

static long long total0;

static long generation(int g)
{
	pthread_t prod[PAIRS], cons[PAIRS];
	long zones;
	long long total;
	for (int i = 0; i < PAIRS; i++) {
		chan_t *c = &chans[i];
		memset(c, 0, sizeof *c);
		pthread_mutex_init(&c->lock, NULL);
		pthread_cond_init(&c->more, NULL);
		pthread_cond_init(&c->room, NULL);
		c->id = g * PAIRS + i;
		if (pthread_create(&cons[i], NULL, consumer, c) != 0 ||
		    pthread_create(&prod[i], NULL, producer, c) != 0) {
			ftm_check(0, ftm_name("generation %d: threads start", g), "pthread_create failed");
			return -1;
		}
	}
	long null = 0, corrupt = 0, got = 0;
	for (int i = 0; i < PAIRS; i++) {
		pthread_join(prod[i], NULL);
		pthread_join(cons[i], NULL);
		null += chans[i].null;
		corrupt += chans[i].corrupt;
		got += chans[i].got;
	}
	ftm_check(null == 0 && got == (long)PAIRS * MSGS,
	    ftm_name("generation %d: every message allocated and delivered", g),
	    "%ld NULL, %ld delivered", null, got);
	ftm_check(corrupt == 0, ftm_name("generation %d: every message arrives intact", g),
	    "%ld messages changed on the way", corrupt);
	census(&zones, &total);
	ftm_check(total == total0,
	    ftm_name("generation %d: show_alloc_mem lists no more live bytes afterwards", g),
	    "Total : %lld, before: %lld", total, total0);
	return zones;
}

int main(void)
{
	long zones0;
	ftm_begin("mt_prodcons");
	/* the C library keeps a little memory per thread stack it caches (the
	 * TLS vector): let as many threads as a generation runs come and go
	 * before the baseline, so that memory is in it */
	pthread_t warm[2 * PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		chans[i].ring[chans[i].tail++ % RING] = (msg_t){ NULL, 0, 0 };
		chans[i].ring[chans[i].tail++ % RING] = (msg_t){ NULL, 0, 0 };
	}
	for (int i = 0; i < 2 * PAIRS; i++)
		if (pthread_create(&warm[i], NULL, consumer, &chans[i % PAIRS]) != 0)
			warm[i] = pthread_self();
	for (int i = 0; i < 2 * PAIRS; i++)
		if (!pthread_equal(warm[i], pthread_self()))
			pthread_join(warm[i], NULL);
	census(&zones0, &total0);
	census(&zones0, &total0);
	long first = generation(0);
	long second = generation(1);
	/* timing moves the peak a little; memory kept by exited threads would
	 * double the zones */
	ftm_check(first > 0 && second >= 0 && second <= first + first / 4,
	    "the second generation reuses the memory of the first one's exited threads",
	    "zones after the first generation %ld, after the second %ld", first, second);
	return ftm_end();
}
