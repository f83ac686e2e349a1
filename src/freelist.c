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
 * find(size) starts from the first class whose every block is >= size,
 * so it never has to look at a block twice: O(1).
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

/* A free block of at least `size` bytes from the smallest class that has
 * one, or NULL.  The block stays in its list: the caller removes it. */
ftm_block *ftm_freelist_find(ftm_freelist *fl, uint32_t size)
{
	unsigned c = class_ceil(size);
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
