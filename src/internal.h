/*
 * internal.h - the shared vocabulary of ft_malloc's source files.
 *
 * Every internal name starts with ftm_ (or FTM_) and has hidden visibility:
 * the library is built with -fvisibility=hidden and exports only the names
 * listed in src/exports.sym.
 *
 * The pieces, each in a file of its own (docs/design.md tells the flow):
 *   os.c       every system call: mmap, munmap, getpagesize, getrlimit, write
 *   pagemap.c  address -> owner (zone or LARGE mapping), a radix tree
 *   freelist.c the segregated free lists with a two-level bitmap (TLSF-like);
 *              freelist.h, the seal of their links
 *   zone.c     TINY and SMALL zones: blocks, split, merge, zone life cycle
 *   large.c    LARGE blocks, one mapping each
 *   arena.c    the arena object: chooses TINY, SMALL or LARGE, takes locks
 *   alloc.c    the public allocation functions (malloc, calloc, realloc, ...)
 *   tcache.c   per-thread caches of blocks up to 4 KiB: the lock-free fast paths
 *   free.c     free() and pointer validation
 *   init.c     lazy initialisation, the per-process secret, fork handlers
 *   env.c      the FT_MALLOC_* environment variables, secure-execution mode
 *   show.c     show_alloc_mem(), show_alloc_mem_ex(), the heap census
 *   compat.c   glibc's mallopt, malloc_trim, mallinfo, ... for static links
 *   diag.c     formatted output without stdio, fatal diagnostics
 *   debug.c    the debugging switches: fill patterns, the freed-memory check
 */
#ifndef FTM_INTERNAL_H
#define FTM_INTERNAL_H

#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include "config_limits.h"

#define FTM_EXPORT   __attribute__((visibility("default")))
#define FTM_NORETURN __attribute__((noreturn))
#define ftm_likely(x)   __builtin_expect(!!(x), 1)
#define ftm_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Every lock of the allocator is taken with ftm_lock().  A process that has
 * never had a second thread (glibc's __libc_single_threaded, which a first
 * pthread_create clears for good before the thread starts) needs none:
 * only the running thread could contend, and it never creates a thread
 * while it holds one.  So a lock skipped is never unlocked for real, nor
 * the reverse.
 */
#if HAVE_DECL___LIBC_SINGLE_THREADED
# include <sys/single_threaded.h>
# define ftm_single_threaded() (__libc_single_threaded != 0)
#else
# define ftm_single_threaded() false
#endif

static inline void ftm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* A contended lock is tried again FTM_LOCK_SPINS times, a pause apart
 * (about 8 us here), before the thread sleeps (arena.c). */
#define FTM_LOCK_SPINS 256u
void ftm_lock_slow(pthread_mutex_t *m);

static inline void ftm_lock(pthread_mutex_t *m)
{
	if (!ftm_single_threaded() && pthread_mutex_trylock(m) != 0)
		ftm_lock_slow(m);
}

/* True if the lock is now held (always, while single-threaded). */
static inline bool ftm_trylock(pthread_mutex_t *m)
{
	return ftm_single_threaded() || pthread_mutex_trylock(m) == 0;
}

static inline void ftm_unlock(pthread_mutex_t *m)
{
	if (!ftm_single_threaded())
		pthread_mutex_unlock(m);
}

/* ------------------------------------------------------------------ */
/* Blocks: the unit inside a zone.                                     */
/* ------------------------------------------------------------------ */

/*
 * Every zone block starts with this 16-byte header; the program's pointer
 * is the address right after it, so headers and pointers are 16-aligned.
 * `check` is a keyed hash of the header's address and fields: a header that
 * an overflow smashed, or 16 bytes inside a block that a program passes as
 * a pointer, fail it (see ftm_block_check in zone.c).
 */
typedef struct ftm_block {
	uint32_t prev_size;   /* size of the block physically before this one */
	uint32_t size_flags;  /* size of this block, header included | FTM_B_* */
	uint32_t req;         /* bytes the program asked for; while free: its links' seal (freelist.c) */
	uint32_t check;       /* ftm_block_check() of the fields above but req */
} ftm_block;

#define FTM_B_FREE       1u  /* the block is free and sits in a free list */
#define FTM_B_PREV_FREE  2u  /* the block before this one is free */
#define FTM_B_FIRST      4u  /* the first block of its zone */
#define FTM_B_DECAY      8u  /* whole-zone free block on the heap's empty list */
#define FTM_B_FLAGS      15u
#define FTM_HDR          ((uint32_t)sizeof(ftm_block))
/* A free block keeps its list links after the header: 16 bytes of payload. */
#define FTM_MIN_BLOCK    (FTM_HDR + 16u)

typedef struct ftm_links {
	ftm_block *next, *prev;
} ftm_links;

/*
 * A live block's header is read without a lock by its owner's free and
 * realloc fast paths (tcache.h) while another thread, under the arena
 * lock, may rewrite prev_size, the PREV_FREE flag and the check (its
 * neighbour was freed or merged).  Those lock-free reads and the writes
 * of header words (zone.c, set_checked()) are relaxed atomics: the same
 * plain moves on x86, and no data race in C11's sense (or
 * ThreadSanitizer's).  Reads under the lock stay plain: every write of
 * those words holds it.  A torn pair (new flags, old check) fails the
 * check, and the slow path decides under the lock.
 */
#define FTM_LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define FTM_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static inline uint32_t ftm_bsize(const ftm_block *b) { return b->size_flags & ~FTM_B_FLAGS; }
static inline bool ftm_bfree(const ftm_block *b) { return b->size_flags & FTM_B_FREE; }
static inline ftm_block *ftm_bnext(ftm_block *b) { return (ftm_block *)((char *)b + ftm_bsize(b)); }
static inline ftm_links *ftm_blinks(ftm_block *b) { return (ftm_links *)(b + 1); }
static inline void *ftm_buser(ftm_block *b) { return b + 1; }
static inline ftm_block *ftm_bof(void *p) { return (ftm_block *)p - 1; }

/* ------------------------------------------------------------------ */
/* Free lists (freelist.c)                                             */
/* ------------------------------------------------------------------ */

/*
 * Classes: below 1 KiB one class per 16 bytes (exact fit); from 1 KiB up,
 * each power of two is cut into 32 classes (within 3% of best fit).
 */
#define FTM_EXACT_LIMIT  1024u
#define FTM_SL_BITS      5u
#define FTM_NCLASSES     (FTM_EXACT_LIMIT / 16u + (32u - 10u) * (1u << FTM_SL_BITS))
#define FTM_NWORDS       ((FTM_NCLASSES + 63u) / 64u)

typedef struct ftm_freelist {
	uint64_t summary;               /* bit w set <=> words[w] != 0 */
	uint64_t words[FTM_NWORDS];     /* bit c set <=> heads[c] != NULL */
	ftm_block *heads[FTM_NCLASSES];
} ftm_freelist;

void ftm_freelist_insert(ftm_freelist *fl, ftm_block *b);
void ftm_freelist_remove(ftm_freelist *fl, ftm_block *b);
void ftm_freelist_remove_checked(ftm_freelist *fl, ftm_block *b);
ftm_block *ftm_freelist_find(ftm_freelist *fl, uint32_t size);
ftm_block *ftm_freelist_next(ftm_freelist *fl, ftm_block *b);
unsigned ftm_freelist_class(uint32_t size);

/* ------------------------------------------------------------------ */
/* Zones and heaps (zone.c)                                            */
/* ------------------------------------------------------------------ */

enum ftm_kind { FTM_TINY = 0, FTM_SMALL = 1, FTM_LARGE = 2 };

struct ftm_arena;

/* A heap is the set of zones of one kind in one arena, with their free lists. */
typedef struct ftm_heap {
	ftm_freelist free;
	struct ftm_arena *arena;
	enum ftm_kind kind;
	uint32_t max_request;   /* largest request this heap serves */
	size_t zone_size;       /* bytes mapped per zone: a page multiple */
	size_t nzones;          /* zones mapped now */
	size_t nempty;          /* of which entirely free */
	size_t reserve;         /* empty zones kept for good, at most */
	size_t decay_max;       /* more empty zones that may wait to be reused */
	size_t ndecay;          /* empty zones on the empty list now */
	uint64_t ops;           /* allocations and frees so far: the decay clock */
	uint64_t idle_next;     /* when to look for idle free pages (zone.c) */
	ftm_block *decay_head;  /* the empty list, oldest first (see zone.c) */
	ftm_block *decay_tail;
} ftm_heap;

/*
 * A zone: one mapping of heap->zone_size bytes.  Layout:
 *   [ftm_zone 16 B][block][block]...[sentinel header 16 B]
 * The sentinel is a header of size 0 that is never free, so merging stops.
 */
typedef struct ftm_zone {
	ftm_heap *heap;
	uint32_t size;          /* bytes mapped */
	uint32_t check;         /* ftm_zone_check(): the page map's owner is sane */
} ftm_zone;

/* What a zone or large operation found wrong; reported by ftm_misuse(). */
typedef enum ftm_err {
	FTM_OK = 0,
	FTM_ERR_FOREIGN,      /* not memory we manage */
	FTM_ERR_UNALIGNED,    /* not 16-aligned: cannot be a pointer we returned */
	FTM_ERR_NOT_BLOCK,    /* in our memory, but not the start of a live block */
	FTM_ERR_DOUBLE_FREE,  /* the block is already free */
	FTM_ERR_CORRUPT,      /* a neighbour's header or free-list links were overwritten */
	FTM_ERR_WRITTEN_FREED, /* freed memory was written (FT_MALLOC_CHECK_FREED) */
} ftm_err;

void ftm_heap_setup(ftm_heap *h, struct ftm_arena *a, enum ftm_kind kind,
                    uint32_t max_request, size_t zone_size, size_t reserve, size_t decay_max);
void *ftm_heap_alloc(ftm_heap *h, size_t n, size_t align);
unsigned ftm_heap_carve(ftm_heap *h, ftm_block *prev, uint32_t size, unsigned k, void **out);
unsigned ftm_heap_alloc_run(ftm_heap *h, uint32_t size, unsigned k, void **out);
ftm_heap *ftm_heap_for(struct ftm_arena *a, size_t n);
ftm_err ftm_zone_lookup(ftm_zone *z, void *p, ftm_block **out);
ftm_err ftm_zone_free(ftm_zone *z, ftm_block *b);
ftm_err ftm_zone_resize(ftm_zone *z, ftm_block *b, size_t n, bool *resized);
size_t ftm_block_size_for(size_t n);

static inline ftm_block *ftm_zone_first(ftm_zone *z) { return (ftm_block *)(z + 1); }
static inline ftm_block *ftm_zone_sentinel(ftm_zone *z)
{
	return (ftm_block *)((char *)z + z->size - FTM_HDR);
}

/* ------------------------------------------------------------------ */
/* LARGE blocks (large.c)                                              */
/* ------------------------------------------------------------------ */

/* At the start of each LARGE mapping; the program's pointer follows it. */
typedef struct ftm_large {
	size_t map_size;        /* bytes mapped, from this header on */
	size_t req;             /* bytes the program asked for */
	void *user;             /* the pointer we returned */
	uint64_t check;         /* ftm_large_check(): catches a smashed header */
} ftm_large;

#define FTM_LARGE_HDR ((size_t)sizeof(ftm_large))
/* map_size's low bit (sizes are page multiples): the mapping ends with an
 * inaccessible guard page, the user block right before it (FT_MALLOC_GUARD,
 * large.c). */
#define FTM_LARGE_GUARDED ((size_t)1)
static inline size_t ftm_large_len(const struct ftm_large *l)
{
	return l->map_size & ~FTM_LARGE_GUARDED;
}

void *ftm_large_alloc(size_t n, size_t align);
void *ftm_large_alloc_zeroed(size_t n);
void *ftm_large_alloc_growing(size_t n);
bool ftm_large_cache_trim(void);
void ftm_large_cache_lock(void);
void ftm_large_cache_unlock(void);
void ftm_large_cache_atfork_child(bool held);
ftm_err ftm_large_lookup(ftm_large *l, void *p);
void ftm_large_free(ftm_large *l);
bool ftm_large_resize(ftm_large *l, size_t n);
size_t ftm_large_usable(const ftm_large *l);
uint64_t ftm_large_check(const ftm_large *l);

/* ------------------------------------------------------------------ */
/* The page map (pagemap.c): which zone or LARGE mapping owns an address */
/* ------------------------------------------------------------------ */

#define FTM_OWNER_LARGE ((uintptr_t)1)   /* tag bit: owner is an ftm_large */

bool ftm_pagemap_set(const void *start, size_t len, uintptr_t owner);
void ftm_pagemap_clear(const void *start, size_t len);

/* The radix tree's nodes (pagemap.c): 12 + 9 + 14 bits of granule number.
 * A leaf covers 64 MiB, so that free's fast path, which keeps the last
 * leaf it used, rarely looks one up (frag in bench/: 671 -> 650 million
 * instructions at scale 0.3, against 8 MiB leaves). */
#define FTM_PM_ROOT_BITS 12u
#define FTM_PM_MID_BITS  9u
#define FTM_PM_LEAF_BITS 14u
typedef struct ftm_pm_leaf { _Atomic uintptr_t owner[1u << FTM_PM_LEAF_BITS]; } ftm_pm_leaf;
typedef struct ftm_pm_mid { _Atomic(ftm_pm_leaf *) leaves[1u << FTM_PM_MID_BITS]; } ftm_pm_mid;
extern _Atomic(ftm_pm_mid *) ftm_pagemap_root[1u << FTM_PM_ROOT_BITS];

/* The leaf that holds granule k's entry, or NULL: two dependent loads, no
 * lock.  Nodes are never freed, so a leaf pointer stays valid for good
 * (free's fast path keeps the last one per thread, tcache.h). */
static inline ftm_pm_leaf *ftm_pagemap_leaf(uintptr_t k)
{
	if (ftm_unlikely(k >> (FTM_PM_ROOT_BITS + FTM_PM_MID_BITS + FTM_PM_LEAF_BITS)))
		return NULL;
	ftm_pm_mid *m = atomic_load_explicit(&ftm_pagemap_root[k >> (FTM_PM_MID_BITS + FTM_PM_LEAF_BITS)],
	                                     memory_order_acquire);
	if (ftm_unlikely(!m))
		return NULL;
	return atomic_load_explicit(&m->leaves[(k >> FTM_PM_LEAF_BITS) & ((1u << FTM_PM_MID_BITS) - 1)],
	                            memory_order_acquire);
}

/* Granule k's entry in its leaf l. */
static inline uintptr_t ftm_pagemap_entry(const ftm_pm_leaf *l, uintptr_t k)
{
	return atomic_load_explicit(&l->owner[k & ((1u << FTM_PM_LEAF_BITS) - 1)], memory_order_acquire);
}

/* The owner of addr's granule, or 0: three dependent loads, no lock
 * (entries are cleared before memory is unmapped). */
static inline uintptr_t ftm_pagemap_get(const void *addr)
{
	uintptr_t k = (uintptr_t)addr >> FTM_MAP_SHIFT;
	ftm_pm_leaf *l = ftm_pagemap_leaf(k);
	return l ? ftm_pagemap_entry(l, k) : 0;
}
typedef void (*ftm_pagemap_visit)(uintptr_t owner, void *ctx);
void ftm_pagemap_walk(ftm_pagemap_visit visit, void *ctx);
void ftm_pagemap_lock(void);
void ftm_pagemap_unlock(void);
void ftm_pagemap_atfork_child(bool held);

/* ------------------------------------------------------------------ */
/* The arena (arena.c)                                                 */
/* ------------------------------------------------------------------ */

/*
 * tcache.c: per-thread caches of blocks up to 4 KiB, by size class.  Block
 * sizes (header included) up to 528 B are classes of their own, 16 B
 * apart; above that, 8 classes per power of two, each a size on that grid
 * plus the header, so that requests of 1, 2 and 4 KiB fit exactly (1040
 * is also the largest TINY block).  A request is served a block of its
 * class's size, so a freed block serves every later request of its class:
 * at most 12.5% bigger than asked, and 56 lists instead of one per 16
 * bytes hit far more often.
 */
#define FTM_TCACHE_MAX_REQ   4096u   /* requests up to this size are cached */
#define FTM_TCACHE_MAX_BLOCK (FTM_TCACHE_MAX_REQ + FTM_HDR)
#define FTM_TC_SLOTS         (FTM_TCACHE_MAX_BLOCK / 16u + 1u)  /* block sizes / 16 */
#define FTM_TC_CLASSES       57u     /* class 0 means "not cached"; 1..56 */
#define FTM_TCACHE_BIN_BYTES 8192u   /* a list holds about this much (4 to 64 blocks) */
/* An arena's transfer lists hold up to this many blocks of a class (times
 * the thread cache's list limit), and this many bytes in all; its remote
 * list about this many bytes before other threads take its lock instead. */
#define FTM_XFER_LISTS       4u
#define FTM_XFER_BYTES       (256u * 1024)
#define FTM_REMOTE_BYTES     (1024u * 1024)

/*
 * An arena owns heaps of TINY and SMALL zones under one lock.  Threads are
 * spread over arenas (arena.c); ftm_arena_get() gives this thread's.
 *
 * Its transfer lists (tcache.c) hold blocks up to 4 KiB that thread caches
 * flushed, still whole and allocated as far as their zone knows, chained
 * and marked like a thread cache's lists: the next refill of that size
 * takes them without touching the zones.  Bounded; drained into the zones
 * before a new zone is mapped and when memory is reclaimed.  Threads of
 * other arenas push such blocks onto its remote list, lock-free, in
 * batches; the arena's own threads sort them into the transfer lists.
 */
typedef struct ftm_arena {
	pthread_mutex_t lock;
	ftm_heap tiny;
	ftm_heap small;
	void *xfer[FTM_TC_CLASSES];         /* transfer lists, by size class */
	uint16_t nxfer[FTM_TC_CLASSES];
	size_t xfer_bytes;
	_Atomic(void *) remote;             /* blocks other arenas' threads gave back */
	_Atomic size_t remote_bytes;
	_Atomic unsigned nthreads;          /* threads attached now (changed under arenas_lock) */
} ftm_arena;

struct ftm_tcache;
void ftm_arena_setup(void);
ftm_arena *ftm_arena_attach(void);
void ftm_arena_detach(struct ftm_tcache *tc);
void *ftm_alloc(size_t n, size_t align);
void *ftm_alloc_zeroed(size_t n);
bool ftm_reclaim_all(void);
void ftm_arenas_lock_all(void);
void ftm_arenas_unlock_all(void);
void ftm_arenas_atfork_child(bool held);
extern ftm_arena ftm_main_arena;

/* ------------------------------------------------------------------ */
/* Process-wide state (init.c)                                         */
/* ------------------------------------------------------------------ */

typedef struct ftm_globals {
	_Atomic int state;      /* 0 new, 1 initialising, 2 ready */
	size_t page_size;       /* getpagesize() at run time */
	uint64_t secret;        /* per-process key of the header checks */
	uint64_t cache_key;     /* marks a block sitting in a thread cache (tcache.c) */
	size_t vm_limit;        /* RLIMIT_AS / RLIMIT_DATA soft limit, or SIZE_MAX */
} ftm_globals;

extern ftm_globals ftm_g;
void ftm_init_slow(void);
static inline void ftm_init(void)
{
	if (ftm_unlikely(atomic_load_explicit(&ftm_g.state, memory_order_acquire) != 2))
		ftm_init_slow();
}

/*
 * A block header's check: one multiply keyed by the per-process secret,
 * cheap enough for every header write and every free.  A header that was
 * overwritten, or 16 bytes of user data taken for a header, match with a
 * chance of 2^-32.  `req` is not covered: it only feeds show_alloc_mem,
 * never a memory decision.
 */
static inline uint32_t ftm_block_check_of(const ftm_block *b, uint32_t prev_size, uint32_t size_flags)
{
	uint64_t fields = (uint64_t)size_flags << 32 | prev_size;
	return (uint32_t)((((uintptr_t)b ^ ftm_g.secret) + fields) * 0x9e3779b97f4a7c15ull >> 32);
}

static inline uint32_t ftm_block_check(const ftm_block *b)
{
	return ftm_block_check_of(b, b->prev_size, b->size_flags);
}

/* A zone header's check, the same way: its address, heap and size. */
static inline uint32_t ftm_zone_check(const ftm_zone *z)
{
	uint64_t fields = (uintptr_t)z->heap ^ ((uint64_t)z->size << 32);
	return (uint32_t)((((uintptr_t)z ^ ftm_g.secret) + fields) * 0x9e3779b97f4a7c15ull >> 32);
}

/* ------------------------------------------------------------------ */
/* The operating system (os.c): the only file that makes system calls  */
/* ------------------------------------------------------------------ */

void *ftm_os_map(size_t len);
void *ftm_os_map_at(void *addr, size_t len);
void *ftm_os_map_near(void *hint, size_t len);
void ftm_os_unmap(void *addr, size_t len);
void ftm_os_refresh(void *addr, size_t len);
void ftm_os_hint_huge(void *addr, size_t len);
bool ftm_os_guard(void *addr, size_t len);
size_t ftm_os_page_size(void);
size_t ftm_os_vm_limit(void);
size_t ftm_os_cpu_count(void);
void ftm_os_write(int fd, const char *buf, size_t len);
int ftm_os_open_append(const char *path);
long ftm_os_tid(void);

static inline size_t ftm_page_round(size_t n)
{
	return (n + ftm_g.page_size - 1) & ~(ftm_g.page_size - 1);
}

/* ------------------------------------------------------------------ */
/* Output and diagnostics (diag.c)                                     */
/* ------------------------------------------------------------------ */

/* A small buffered writer on the stack: no stdio, no allocation. */
typedef struct ftm_out {
	int fd;
	size_t len;
	char buf[1024];
} ftm_out;

void ftm_out_str(ftm_out *o, const char *s);
void ftm_out_hex(ftm_out *o, uintptr_t v);
void ftm_out_dec(ftm_out *o, size_t v);
void ftm_out_flush(ftm_out *o);

/*
 * Heap misuse.  ftm_refuse(): a call's own pointer found wrong before
 * anything was touched: one line on stderr and abort(), or, as
 * FT_MALLOC_ON_MISUSE says, the line and a return, or just a return; the
 * caller then does nothing more.  ftm_misuse(): corruption met inside the
 * allocator's own work (a cached block's link, a block that waited in a
 * cache): the line and abort() whatever the setting, since going on could
 * hand out the same memory twice.
 */
void ftm_refuse(const char *func, ftm_err err, const void *p, size_t block);
FTM_NORETURN void ftm_misuse(const char *func, ftm_err err, const void *p, size_t block);



/* env.c: the FT_MALLOC_* variables (all false/zero when unset or ignored) */
enum ftm_action { FTM_ACT_ABORT = 0, FTM_ACT_WARN, FTM_ACT_IGNORE };
/* FT_MALLOC_GUARD: no guard pages, after LARGE blocks, after every block */
enum ftm_guard { FTM_GUARD_OFF = 0, FTM_GUARD_LARGE, FTM_GUARD_ALL };

typedef struct ftm_options {
	bool loaded;            /* environ was read (or deliberately ignored) */
	bool show_at_exit;      /* FT_MALLOC_SHOW_AT_EXIT */
	bool stats;             /* FT_MALLOC_STATS */
	enum ftm_action on_misuse;   /* FT_MALLOC_ON_MISUSE */
	int fill_alloc;         /* FT_MALLOC_FILL_ALLOC: a byte, or -1 */
	int fill_free;          /* FT_MALLOC_FILL_FREE: a byte, or -1 */
	bool check_freed;       /* FT_MALLOC_CHECK_FREED */
	enum ftm_guard guard;   /* FT_MALLOC_GUARD */
	size_t show_hex;        /* FT_MALLOC_SHOW_HEX: bytes of each block show_alloc_mem_ex dumps */
	bool no_tcache;         /* FT_MALLOC_TCACHE=0 */
	size_t tcache_max;      /* FT_MALLOC_TCACHE_MAX: largest request cached (FTM_TCACHE_MAX_REQ) */
	size_t tcache_bytes;    /* FT_MALLOC_TCACHE_BYTES: a list's budget (FTM_TCACHE_BIN_BYTES) */
	size_t decay_ops;       /* FT_MALLOC_DECAY_OPS (FTM_DECAY_OPS) */
	size_t large_cache_max; /* FT_MALLOC_LARGE_CACHE_MB, in bytes (FTM_LARGE_CACHE_MAX_BYTES) */
	int trace_fd;           /* FT_MALLOC_TRACE: where every call is written, or -1 */
} ftm_options;

extern ftm_options ftm_opt;
void ftm_env_load(void);

/* debug.c: the fill patterns and the freed-memory check (any of them on:
 * ftm_debug_on, and the thread caches off) */
extern bool ftm_debug_on;
#define FTM_DEBUG_OURS 64u   /* the bytes at a free block's start that hold our metadata */
void ftm_debug_setup(void);
void *ftm_debug_new(void *p, size_t n, const char *func);
void ftm_debug_fill(void *from, size_t n);
void ftm_debug_fill_free_block(ftm_block *b);
/* FT_MALLOC_TRACE: one line for a call, "TID FUNCTION ARG... [-> RESULT]":
 * the pointer argument first if has_ptr, then nargs sizes (a, b) */
typedef struct ftm_call {
	const char *func;
	bool has_ptr;
	const void *ptr;
	int nargs;
	size_t a, b;
	bool has_result, result_is_ptr;
	uintptr_t result;
} ftm_call;
void ftm_trace(const ftm_call *c);
#define FTM_TRACING() ftm_unlikely(ftm_opt.trace_fd >= 0)
void ftm_arenas_fill_free(void);        /* arena.c */
void ftm_heap_fill_free(ftm_heap *h);   /* zone.c */
bool ftm_secure_mode(void);

/* show.c: the heap walked in address order, printed or counted */
typedef struct ftm_census {
	size_t total;           /* bytes the program asked for, all live blocks */
	size_t used_blocks, used_bytes;        /* zone blocks: count, usable bytes */
	size_t free_blocks, free_bytes, largest_free;   /* cached ones included */
	size_t cached_blocks, cached_bytes;    /* waiting in thread caches and transfer lists */
	size_t zones[3];        /* zones by kind; [FTM_LARGE]: LARGE mappings */
	size_t mapped;          /* bytes mapped by zones and LARGE mappings */
	size_t large_bytes;     /* of which LARGE mappings */
} ftm_census;

void ftm_show(int fd, bool ex);
void ftm_census_take(ftm_census *n);

/* zone.c: give every empty zone back (malloc_trim); true if any went */
bool ftm_heap_trim(ftm_heap *h);

/* stats.c: the counts FT_MALLOC_STATS prints.  Per thread, always kept:
 * the calls by function (for malloc and free: those the thread cache did
 * not serve), and the cache's hits. */
enum ftm_fn {
	FTM_FN_MALLOC, FTM_FN_FREE, FTM_FN_CALLOC, FTM_FN_REALLOC, FTM_FN_REALLOCARRAY,
	FTM_FN_POSIX_MEMALIGN, FTM_FN_ALIGNED_ALLOC, FTM_FN_MEMALIGN, FTM_FN_VALLOC,
	FTM_FN_PVALLOC, FTM_FN_USABLE_SIZE, FTM_FN_COUNT
};
typedef struct ftm_tstats {
	uint64_t calls[FTM_FN_COUNT];
	uint64_t malloc_hits, free_hits;
} ftm_tstats;
/* One more call in this thread's own counter.  Other threads read it
 * only for the report at exit (stats.c), where a count a few calls behind
 * is fine: a plain increment, one instruction on the fast paths; under
 * ThreadSanitizer a relaxed atomic one, so that the report's reads are not
 * flagged (3 instructions instead of 1). */
#if defined(__SANITIZE_THREAD__)
# define FTM_COUNT(x) FTM_STORE(x, FTM_LOAD(x) + 1)
#else
# define FTM_COUNT(x) ((void)(x)++)
#endif
/* Process-wide, counted only with FT_MALLOC_STATS=1, from the slow paths. */
typedef struct ftm_gstats {
	_Atomic int64_t held_bytes, held_blocks, peak_bytes, peak_blocks;
	_Atomic int64_t zones[3], zones_peak[3], zones_made[3], zones_gone[3];
	_Atomic int64_t large_hits, large_misses;
	_Atomic int64_t mapped, mapped_peak, mmaps, munmaps;
} ftm_gstats;
extern ftm_gstats ftm_gst;
#define FTM_STATS_ON() ftm_unlikely(ftm_opt.stats)
void ftm_stats_held(int64_t bytes, int64_t blocks);
void ftm_stats_zone(enum ftm_kind kind, int delta);
void ftm_stats_mapped(int64_t bytes);
void ftm_stats_print(int fd);
void ftm_stats_lock(void);
void ftm_stats_unlock(void);
void ftm_stats_atfork_child(void);

typedef struct ftm_tcache {
	/* The page map leaf free's fast path used last, and its number plus
	 * one (0: none): a free near the last one skips two of the three
	 * page map loads.  Leaves are never freed, so this never goes stale. */
	uintptr_t pm_key;
	ftm_pm_leaf *pm_leaf;
	void *head[FTM_TC_CLASSES];         /* by size class */
	/* How many more blocks list c may take: the one test of free's fast
	 * path.  All 0 while the cache is not active, so every push then
	 * takes the slow path.  While active, list c holds
	 * ftm_tcache_limit[c] - room[c] blocks. */
	uint16_t room[FTM_TC_CLASSES];
	ftm_arena *arena;                   /* this thread's arena, once attached */
	bool registered;                    /* flushed and detached at thread exit */
	bool disabled;                      /* the thread is exiting: no caching */
	bool active;                        /* registered and not disabled: free may cache */
	bool detached;                      /* the thread exited its arena */
	ftm_tstats st;                      /* this thread's counts (stats.c) */
	struct ftm_tcache *stats_next, *stats_prev;   /* the registry of live threads */
} ftm_tcache;

/* The fast paths, ftm_tcache_pop() and ftm_tcache_free(), are in tcache.h. */
extern __thread ftm_tcache ftm_tc __attribute__((tls_model("initial-exec")));
void ftm_tcache_register(ftm_tcache *tc);
void ftm_stats_thread_start(ftm_tcache *tc);
void ftm_stats_thread_end(ftm_tcache *tc);
void ftm_tcache_off(void);
void ftm_tcache_tune(void);
void ftm_tcache_flush(ftm_tcache *tc, unsigned idx, unsigned k);
void ftm_tcache_flush_all(ftm_tcache *tc, bool to_zones);
bool ftm_xfer_drain(ftm_arena *a);
static inline bool ftm_is_cached(const void *p)
{
	/* read by show_alloc_mem while the block's owner may cache it */
	return FTM_LOAD(((void *const *)p)[1]) == (void *)ftm_g.cache_key;
}

/* This thread's arena: attached on first use. */
static inline ftm_arena *ftm_arena_get(void)
{
	ftm_arena *a = ftm_tc.arena;
	return ftm_likely(a != NULL) ? a : ftm_arena_attach();
}

/* free.c: validation shared by free, realloc and malloc_usable_size */
uintptr_t ftm_owner_of(void *p, const char *func);
ftm_large *ftm_large_of(uintptr_t owner, void *p, const char *func);
void ftm_free_ptr(void *p, const char *func);
#endif /* FTM_INTERNAL_H */
