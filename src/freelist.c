/*
 * freelist.c - segregated free lists indexed by a two-level bitmap.
 *
 * The idea is TLSF's (Masmano et al., 2004): a free block of size s lives
 * in the list of class(s); a bitmap says which lists are non-empty, so the
 * smallest class that can serve a request is found with two bit scans.
 *
 * Classes:
 *   s <  1024: class s/16 (one class per 16 bytes: an exact fit)
 *   s >= 1024: fl = log2(s), 32 classes per power of two, so a class spans
 *              1/32 of its size and the fit is within about 3% of best.
 * find(size) first tries a few blocks of size's own class (which also
 * holds smaller blocks when size is off a class boundary), then takes the
 * first class whose every block is >= size: O(1) either way.
 *
 * The links live in the free block itself, where an overflow from the
 * block before it lands, and where a write after free lands.  A block's
 * links are followed only after its header check (an overflow reaches the
 * header first) and its links' seal held: smashed metadata is reported
 * (one line, abort) instead of followed into a crash.  The seal, in the
 * free block's req field (unused while free), is a keyed XOR of its
 * address and links: a neighbour's seal is updated for the one link that
 * changes (XOR out the old, in the new) without reading the rest, and a
 * smashed seal stays wrong through such updates, so it is never blessed.
 */
#include "internal.h"
#include "freelist.h"

#include <stddef.h>

static inline void seal(ftm_block *b) { b->req = ftm_seal_of(b); }

/* The links of b (in fl) were overwritten: report and abort, the arena's
 * lock released first (a SIGABRT handler may allocate). */
static FTM_NORETURN void smashed(ftm_freelist *fl, ftm_block *b)
{
	ftm_heap *h = (ftm_heap *)((char *)fl - offsetof(ftm_heap, free));
	ftm_unlock(&h->arena->lock);
	ftm_misuse("malloc", FTM_ERR_CORRUPT, ftm_buser(b), 0);
}

static inline void verify_links(ftm_freelist *fl, ftm_block *b)
{
	if (ftm_unlikely(!ftm_freelist_sealed(b)))
		smashed(fl, b);
}

static inline unsigned class_floor(uint32_t s)
{
	if (s < FTM_EXACT_LIMIT)
		return s >> 4;
	unsigned fl = 31u - (unsigned)__builtin_clz(s);
	unsigned sl = (s >> (fl - FTM_SL_BITS)) & ((1u << FTM_SL_BITS) - 1);
	return FTM_EXACT_LIMIT / 16u + (fl - 10u) * (1u << FTM_SL_BITS) + sl;
}

/* The first class in which every block is at least s bytes. */
static inline unsigned class_ceil(uint32_t s)
{
	if (s < FTM_EXACT_LIMIT)
		return (s + 15u) >> 4;
	unsigned fl = 31u - (unsigned)__builtin_clz(s);
	uint32_t step = (uint32_t)1 << (fl - FTM_SL_BITS);
	unsigned c = class_floor(s);
	return (s & (step - 1)) ? c + 1 : c;   /* not on a class boundary: next one */
}

static inline void mark(ftm_freelist *fl, unsigned c)
{
	fl->words[c >> 6] |= (uint64_t)1 << (c & 63);
	fl->summary |= (uint64_t)1 << (c >> 6);
}

static inline void unmark(ftm_freelist *fl, unsigned c)
{
	fl->words[c >> 6] &= ~((uint64_t)1 << (c & 63));
	if (!fl->words[c >> 6])
		fl->summary &= ~((uint64_t)1 << (c >> 6));
}

void ftm_freelist_insert(ftm_freelist *fl, ftm_block *b)
{
	unsigned c = class_floor(ftm_bsize(b));
	ftm_links *lk = ftm_blinks(b);
	ftm_block *head = fl->heads[c];
	lk->prev = NULL;
	lk->next = head;
	seal(b);
	if (head) {                                /* its prev: NULL -> b */
		ftm_blinks(head)->prev = b;
		head->req ^= ftm_seal_fold(ftm_seal_mix_prev(b));   /* mix_prev(NULL) is 0 */
	} else {
		mark(fl, c);
	}
	fl->heads[c] = b;
}

/* Take b, whose links were checked, out of its list. */
static inline void unlink_block(ftm_freelist *fl, ftm_block *b)
{
	unsigned c = class_floor(ftm_bsize(b));
	ftm_links *lk = ftm_blinks(b);
	ftm_block *prev = lk->prev, *next = lk->next;
	if (prev) {                                /* its next: b -> next */
		ftm_blinks(prev)->next = next;
		prev->req ^= ftm_seal_fold((uintptr_t)b ^ (uintptr_t)next);
	} else {
		fl->heads[c] = next;
	}
	if (next) {                                /* its prev: b -> prev */
		ftm_blinks(next)->prev = prev;
		next->req ^= ftm_seal_fold(ftm_seal_mix_prev(b) ^ ftm_seal_mix_prev(prev));
	}
	if (!fl->heads[c])
		unmark(fl, c);
}

/* Take b out of its list: its header and links are checked first. */
void ftm_freelist_remove(ftm_freelist *fl, ftm_block *b)
{
	if (ftm_unlikely(b->check != ftm_block_check(b)))
		smashed(fl, b);
	verify_links(fl, b);
	unlink_block(fl, b);
}

/* The same, for a caller that checked b's header and links already
 * (ftm_freelist_sealed), so that it reports a smashed one itself, as the
 * function the program called (ftm_zone_free's neighbours, realloc's
 * growth). */
void ftm_freelist_remove_checked(ftm_freelist *fl, ftm_block *b)
{
	unlink_block(fl, b);
}

/* The block after b in its list (b's links checked first). */
ftm_block *ftm_freelist_next(ftm_freelist *fl, ftm_block *b)
{
	verify_links(fl, b);
	return ftm_blinks(b)->next;
}

/* The class a free block of `size` bytes is listed in. */
unsigned ftm_freelist_class(uint32_t size)
{
	return class_floor(size);
}

/* How many blocks of the request's own class find() looks at. */
#define FTM_FLOOR_PROBE 8u

/*
 * A free block of at least `size` bytes, or NULL; it stays in its list:
 * the caller removes it.  Best fit first: a size off a class boundary
 * shares its class with smaller blocks, so the first few blocks of that
 * class are tried (the smallest that fits wins); then the first block of
 * the smallest class whose every block fits.
 */
ftm_block *ftm_freelist_find(ftm_freelist *fl, uint32_t size)
{
	unsigned floor = class_floor(size);
	unsigned c = class_ceil(size);
	if (floor != c && floor < FTM_NCLASSES) {
		ftm_block *best = NULL;
		unsigned probe = 0;
		for (ftm_block *b = fl->heads[floor]; b && probe < FTM_FLOOR_PROBE;
		     b = ftm_blinks(b)->next, probe++) {
			verify_links(fl, b);           /* before its next is followed (its size:
			                                  checked when it is taken) */
			if (ftm_bsize(b) >= size && (!best || ftm_bsize(b) < ftm_bsize(best)))
				best = b;
		}
		if (best)
			return best;
	}
	if (c >= FTM_NCLASSES)
		return NULL;
	unsigned w = c >> 6;
	uint64_t bits = fl->words[w] & (~(uint64_t)0 << (c & 63));
	if (!bits) {
		/* no class left in this word: the next non-empty word */
		uint64_t above = (w + 1 < 64) ? fl->summary & (~(uint64_t)0 << (w + 1)) : 0;
		if (!above)
			return NULL;
		w = (unsigned)__builtin_ctzll(above);
		bits = fl->words[w];
	}
	return fl->heads[(w << 6) + (unsigned)__builtin_ctzll(bits)];
}
