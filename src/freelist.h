/*
 * freelist.h - the seal of a free block's list links (freelist.c), which
 * zone.c also checks, inline, on a free neighbour before it merges it.
 */
#ifndef FTM_FREELIST_H
#define FTM_FREELIST_H

#include "internal.h"

/*
 * The seal is linear over XOR (fold(a ^ b) == fold(a) ^ fold(b), and the
 * same for mix_prev), so one link's change updates it without reading the
 * other link.  A linear map of 128 bits to 32 ignores some changes: a
 * write changes the seal by fold(new ^ old) of each link.  Over a link that
 * held a pointer that is a 2^-32 chance.  Over a NULL link (a block alone in
 * its list, the ends of a list) it is the value written, so these two are
 * chosen (by rank computations over GF(2)) to miss none that repeats every
 * 1, 2, 4, 8, 16 or 32 bits (a memset of any byte, all ones, a repeated
 * word), nor any small integer, written into next, into prev or into both.
 * Plain x ^ x >> 32 and a rotation, the first design, missed all of them.
 */
static inline uint32_t ftm_seal_fold(uint64_t x)
{
	uint32_t hi = (uint32_t)(x >> 32);
	return (uint32_t)x ^ (hi << 1 | hi >> 31) ^ (hi >> 1);
}

/* prev's own map, so that next == prev does not cancel; mix_prev(NULL) == 0 */
static inline uint64_t ftm_seal_mix_prev(const ftm_block *p)
{
	uint64_t x = (uintptr_t)p;
	return (x << 17 | x >> 47) ^ (x >> 2);
}

static inline uint32_t ftm_seal_of(const ftm_block *b)
{
	const ftm_links *lk = ftm_blinks((ftm_block *)b);
	return ftm_seal_fold((uintptr_t)b ^ ftm_g.secret ^ (uintptr_t)lk->next ^
	                     ftm_seal_mix_prev(lk->prev));
}

/* The free block b's links are the ones we wrote: they may be followed. */
static inline bool ftm_freelist_sealed(const ftm_block *b)
{
	return b->req == ftm_seal_of(b);
}

#endif
