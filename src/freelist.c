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
 */
#include "internal.h"

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
	lk->prev = NULL;
	lk->next = fl->heads[c];
	if (lk->next)
		ftm_blinks(lk->next)->prev = b;
	else
		mark(fl, c);
	fl->heads[c] = b;
}

void ftm_freelist_remove(ftm_freelist *fl, ftm_block *b)
{
	unsigned c = class_floor(ftm_bsize(b));
	ftm_links *lk = ftm_blinks(b);
	if (lk->prev)
		ftm_blinks(lk->prev)->next = lk->next;
	else
		fl->heads[c] = lk->next;
	if (lk->next)
		ftm_blinks(lk->next)->prev = lk->prev;
	if (!fl->heads[c])
		unmark(fl, c);
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
		     b = ftm_blinks(b)->next, probe++)
			if (ftm_bsize(b) >= size && (!best || ftm_bsize(b) < ftm_bsize(best)))
				best = b;
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
