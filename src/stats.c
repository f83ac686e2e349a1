/*
 * stats.c - FT_MALLOC_STATS: what the program asked of the allocator, and
 * what that cost, printed to stderr at exit.
 *
 * Two kinds of counts:
 *  - per thread, always on (ftm_tstats in the thread's ftm_tcache): calls
 *    by function, and the calls the thread cache served.  One increment of
 *    thread-local memory per call, on the path the call takes; no atomic.
 *    A thread's counts are added to `exited` when it ends; the live
 *    threads are found through the registry below.
 *  - process-wide, only with FT_MALLOC_STATS=1 (relaxed atomics, from the
 *    slow paths only): blocks and bytes out of the zones' free lists and
 *    their peak, zones made and unmapped, LARGE mappings, the LARGE cache's
 *    hits, mmap and munmap calls and the bytes mapped.
 * The report reads other threads' counters without stopping them: a count
 * may be a few calls behind.  Nothing here allocates.
 */
#include "tcache.h"

#include <unistd.h>

static const char *const fn_name[FTM_FN_COUNT] = {
	"malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
};

ftm_gstats ftm_gst;

/* ---- the registry of live threads' caches ------------------------------ */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ftm_tcache *registry;            /* live registered threads, a list */
static ftm_tstats exited;               /* counts of threads that ended */
static size_t threads_seen;

static void add_counts(ftm_tstats *to, const ftm_tstats *from)
{
	for (unsigned i = 0; i < FTM_FN_COUNT; i++)
		to->calls[i] += FTM_LOAD(from->calls[i]);    /* see FTM_COUNT */
	to->malloc_hits += FTM_LOAD(from->malloc_hits);
	to->free_hits += FTM_LOAD(from->free_hits);
}

/* tc's thread registered its cache (tcache.c): its counts are read from
 * here on, until it ends. */
void ftm_stats_thread_start(ftm_tcache *tc)
{
	pthread_mutex_lock(&registry_lock);
	tc->stats_next = registry;
	tc->stats_prev = NULL;
	if (registry)
		registry->stats_prev = tc;
	registry = tc;
	threads_seen++;
	pthread_mutex_unlock(&registry_lock);
}

/* tc's thread is ending (its TLS goes away after this): keep its counts.
 * Calls it makes after this, from later destructors, are counted in a
 * cache no one reads any more. */
void ftm_stats_thread_end(ftm_tcache *tc)
{
	pthread_mutex_lock(&registry_lock);
	add_counts(&exited, &tc->st);
	tc->st = (ftm_tstats){ 0 };
	if (tc->stats_prev)
		tc->stats_prev->stats_next = tc->stats_next;
	else
		registry = tc->stats_next;
	if (tc->stats_next)
		tc->stats_next->stats_prev = tc->stats_prev;
	tc->stats_next = tc->stats_prev = NULL;
	pthread_mutex_unlock(&registry_lock);
}

void ftm_stats_lock(void) { pthread_mutex_lock(&registry_lock); }
void ftm_stats_unlock(void) { pthread_mutex_unlock(&registry_lock); }

/* In the child of fork: only the forking thread goes on.  The others'
 * caches will never end, and their memory may become a new thread's: their
 * counts are kept, and they leave the list. */
void ftm_stats_atfork_child(void)
{
	ftm_tcache *self = &ftm_tc;
	for (ftm_tcache *t = registry; t; t = t->stats_next)
		if (t != self)
			add_counts(&exited, &t->st);
	bool listed = false;
	for (ftm_tcache *t = registry; t; t = t->stats_next)
		listed |= t == self;
	registry = listed ? self : NULL;
	self->stats_next = self->stats_prev = NULL;
	pthread_mutex_unlock(&registry_lock);      /* held since ftm_stats_lock() */
}

/* ---- the process-wide counts (FT_MALLOC_STATS=1 only) -------------------- */

static void raise_peak(_Atomic int64_t *peak, int64_t v)
{
	int64_t p = atomic_load_explicit(peak, memory_order_relaxed);
	while (v > p && !atomic_compare_exchange_weak_explicit(peak, &p, v, memory_order_relaxed,
	                                                       memory_order_relaxed))
		;
}

/* blocks (bytes: their usable sizes) left the free lists (> 0) or came
 * back (< 0): live in the program, or waiting in a thread cache. */
void ftm_stats_held(int64_t bytes, int64_t blocks)
{
	int64_t b = atomic_fetch_add_explicit(&ftm_gst.held_bytes, bytes, memory_order_relaxed) + bytes;
	int64_t n = atomic_fetch_add_explicit(&ftm_gst.held_blocks, blocks, memory_order_relaxed) + blocks;
	raise_peak(&ftm_gst.peak_bytes, b);
	raise_peak(&ftm_gst.peak_blocks, n);
}

/* A zone of that kind was mapped (+1) or unmapped (-1); kind FTM_LARGE:
 * a LARGE block's mapping. */
void ftm_stats_zone(enum ftm_kind kind, int delta)
{
	int64_t now = atomic_fetch_add_explicit(&ftm_gst.zones[kind], delta, memory_order_relaxed) + delta;
	raise_peak(&ftm_gst.zones_peak[kind], now);
	atomic_fetch_add_explicit(delta > 0 ? &ftm_gst.zones_made[kind] : &ftm_gst.zones_gone[kind], 1,
	                          memory_order_relaxed);
}

/* A system call mapped (> 0) or unmapped (< 0) that many bytes. */
void ftm_stats_mapped(int64_t bytes)
{
	int64_t now = atomic_fetch_add_explicit(&ftm_gst.mapped, bytes, memory_order_relaxed) + bytes;
	raise_peak(&ftm_gst.mapped_peak, now);
	atomic_fetch_add_explicit(bytes > 0 ? &ftm_gst.mmaps : &ftm_gst.munmaps, 1, memory_order_relaxed);
}

/* ---- the report ----------------------------------------------------------- */

static int64_t get(_Atomic int64_t *v) { return atomic_load_explicit(v, memory_order_relaxed); }

static void out_i(ftm_out *o, int64_t v)
{
	if (v < 0) {
		ftm_out_str(o, "-");
		v = -v;
	}
	ftm_out_dec(o, (size_t)v);
}

/* "A<mid>B<end>" */
static void out_two(ftm_out *o, int64_t a, const char *mid, int64_t b, const char *end)
{
	out_i(o, a);
	ftm_out_str(o, mid);
	out_i(o, b);
	ftm_out_str(o, end);
}

/* " (91.4%)": part of whole, one decimal. */
static void out_percent(ftm_out *o, uint64_t part, uint64_t whole)
{
	uint64_t permille = whole ? (part * 1000 + whole / 2) / whole : 0;
	ftm_out_str(o, " (");
	ftm_out_dec(o, permille / 10);
	ftm_out_str(o, ".");
	ftm_out_dec(o, permille % 10);
	ftm_out_str(o, "%)");
}

static void out_cache_line(ftm_out *o, const char *fn, uint64_t hits, uint64_t calls)
{
	ftm_out_str(o, fn);
	ftm_out_str(o, " ");
	ftm_out_dec(o, hits);
	ftm_out_str(o, " of ");
	ftm_out_dec(o, calls);
	out_percent(o, hits, calls);
}

/* "2 now, 3 peak, 5 mapped, 3 unmapped" (made, gone: the verbs) */
static void out_zone(ftm_out *o, enum ftm_kind k, const char *made, const char *gone)
{
	out_i(o, get(&ftm_gst.zones[k]));
	ftm_out_str(o, " now, ");
	out_i(o, get(&ftm_gst.zones_peak[k]));
	ftm_out_str(o, " peak, ");
	out_i(o, get(&ftm_gst.zones_made[k]));
	ftm_out_str(o, made);
	out_i(o, get(&ftm_gst.zones_gone[k]));
	ftm_out_str(o, gone);
}

/*
 * The report, one line per subject, "ft_malloc: stats: SUBJECT: ..." so
 * that a script can pick lines out of a program's stderr.  Calls counts
 * every call, successful or not; free(NULL) included.
 */
void ftm_stats_print(int fd)
{
	ftm_tstats t = { 0 };
	size_t threads;
	pthread_mutex_lock(&registry_lock);
	add_counts(&t, &exited);
	for (ftm_tcache *c = registry; c; c = c->stats_next)
		add_counts(&t, &c->st);
	threads = threads_seen;
	if (!ftm_tc.stats_prev && registry != &ftm_tc)     /* this thread never registered */
		add_counts(&t, &ftm_tc.st);
	pthread_mutex_unlock(&registry_lock);
	t.calls[FTM_FN_MALLOC] += t.malloc_hits;          /* calls[] counts the others */
	t.calls[FTM_FN_FREE] += t.free_hits;

	ftm_census n;
	ftm_census_take(&n);

	ftm_out o = { .fd = fd };
	ftm_out_str(&o, "ft_malloc: stats: calls:");
	for (unsigned i = 0; i < FTM_FN_COUNT; i++) {
		ftm_out_str(&o, i ? ", " : " ");
		ftm_out_str(&o, fn_name[i]);
		ftm_out_str(&o, " ");
		ftm_out_dec(&o, t.calls[i]);
	}
	ftm_out_str(&o, "\nft_malloc: stats: thread cache hits: ");
	out_cache_line(&o, "malloc", t.malloc_hits, t.calls[FTM_FN_MALLOC]);
	ftm_out_str(&o, ", ");
	out_cache_line(&o, "free", t.free_hits, t.calls[FTM_FN_FREE]);
	ftm_out_str(&o, "; threads ");
	ftm_out_dec(&o, threads);
	ftm_out_str(&o, "\nft_malloc: stats: live now: ");
	out_two(&o, (int64_t)(n.used_blocks + n.zones[FTM_LARGE]), " blocks, ", (int64_t)n.total,
	        " bytes asked for; cached ");
	out_two(&o, (int64_t)n.cached_blocks, " blocks, ", (int64_t)n.cached_bytes, " bytes");
	ftm_out_str(&o, "\nft_malloc: stats: held peak: ");
	out_two(&o, get(&ftm_gst.peak_blocks), " blocks, ", get(&ftm_gst.peak_bytes),
	        " bytes (live or cached; now ");
	out_two(&o, get(&ftm_gst.held_blocks), " blocks, ", get(&ftm_gst.held_bytes), " bytes)");
	ftm_out_str(&o, "\nft_malloc: stats: zones: TINY ");
	out_zone(&o, FTM_TINY, " mapped, ", " unmapped");
	ftm_out_str(&o, "; SMALL ");
	out_zone(&o, FTM_SMALL, " mapped, ", " unmapped");
	ftm_out_str(&o, "\nft_malloc: stats: LARGE blocks: ");
	out_zone(&o, FTM_LARGE, " allocated, ", " freed");
	int64_t hits = get(&ftm_gst.large_hits), asked = hits + get(&ftm_gst.large_misses);
	ftm_out_str(&o, "; cache hits ");
	out_two(&o, hits, " of ", asked, "");
	out_percent(&o, (uint64_t)hits, (uint64_t)asked);
	ftm_out_str(&o, "\nft_malloc: stats: memory mapped: ");
	out_two(&o, get(&ftm_gst.mapped), " bytes now, ", get(&ftm_gst.mapped_peak), " peak; mmap ");
	out_two(&o, get(&ftm_gst.mmaps), ", munmap ", get(&ftm_gst.munmaps), "");
	ftm_out_str(&o, "\n");
	ftm_out_flush(&o);
}
