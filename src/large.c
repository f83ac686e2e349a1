/*
 * large.c - LARGE blocks: each in a mapping of its own.
 *
 * Layout of a mapping:  [ftm_large header][padding for alignment][user block]
 * Without an alignment request the user block starts right after the
 * 32-byte header.  The page map registers only the granule of the user
 * pointer, with the header as owner (tagged FTM_OWNER_LARGE).
 * Free unmaps at once; realloc grows by mapping the pages right after the
 * block when they are free, and shrinks by unmapping the tail.
 */
#include "internal.h"

#include <errno.h>

uint64_t ftm_large_check(const ftm_large *l)
{
	uint64_t x = (uintptr_t)l ^ ftm_g.secret ^ ((uint64_t)l->map_size << 1) ^ (uintptr_t)l->user;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline void seal(ftm_large *l) { l->check = ftm_large_check(l); }

/* A fresh mapping for n bytes with the user pointer aligned to `align`
 * (a power of two >= 16).  Fresh anonymous memory is zero-filled. */
void *ftm_large_alloc(size_t n, size_t align)
{
	size_t page = ftm_g.page_size;
	size_t off = (FTM_LARGE_HDR + align - 1) & ~(align - 1);  /* user offset if align <= page */
	size_t slack = align > page ? align : 0;                  /* room to find an aligned spot */
	size_t span = n ? n : 1;         /* a 0-byte block still owns the byte at its pointer */
	size_t need;
	if (off < FTM_LARGE_HDR ||       /* align near 2^63: the rounding wrapped */
	    __builtin_add_overflow(off, slack, &need) ||
	    __builtin_add_overflow(need, span, &need) ||
	    __builtin_add_overflow(need, page, &need) ||
	    need > ftm_os_vm_limit()) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = ftm_page_round(off + slack + span);
	char *map = ftm_os_map(len);
	if (!map)
		return NULL;
	char *user = map + off;
	if (slack) {
		/* keep only the pages from the header before `user` to its end */
		user = (char *)(((uintptr_t)map + FTM_LARGE_HDR + align - 1) & ~(uintptr_t)(align - 1));
		char *start = (char *)((uintptr_t)(user - FTM_LARGE_HDR) & ~(uintptr_t)(page - 1));
		char *end = map + ftm_page_round((size_t)(user - map) + span);
		ftm_os_unmap(map, (size_t)(start - map));
		ftm_os_unmap(end, (size_t)(map + len - end));
		len = (size_t)(end - start);
		map = start;
	}
	ftm_large *l = (ftm_large *)map;
	l->map_size = len;
	l->req = n;
	l->user = user;
	seal(l);
	if (!ftm_pagemap_set(user, 1, (uintptr_t)l | FTM_OWNER_LARGE)) {
		ftm_os_unmap(map, len);
		return NULL;
	}
	return user;
}

/* Is p the pointer of the LARGE block whose header is l? */
ftm_err ftm_large_lookup(ftm_large *l, void *p)
{
	if (l->check != ftm_large_check(l))
		return FTM_ERR_CORRUPT;
	return l->user == p ? FTM_OK : FTM_ERR_NOT_BLOCK;
}

size_t ftm_large_usable(const ftm_large *l)
{
	return (size_t)((const char *)l + l->map_size - (const char *)l->user);
}

void ftm_large_free(ftm_large *l)
{
	/* leave the page map first: from then on nobody can reach the header */
	ftm_pagemap_clear(l->user, 1);
	ftm_os_unmap(l, l->map_size);
}

/* Serve n bytes (n > FTM_SMALL_MAX) from the same address if possible. */
bool ftm_large_resize(ftm_large *l, size_t n)
{
	size_t head = (size_t)((char *)l->user - (char *)l);
	if (n > SIZE_MAX - head - ftm_g.page_size)
		return false;
	size_t want = ftm_page_round(head + n);
	if (want > l->map_size) {
		if (!ftm_os_map_at((char *)l + l->map_size, want - l->map_size))
			return false;
	} else if (want < l->map_size) {
		ftm_os_unmap((char *)l + want, l->map_size - want);
	}
	l->map_size = want;
	l->req = n;
	seal(l);
	return true;
}
