/*
 * pagemap.c - which zone or LARGE mapping owns an address, in O(1).
 *
 * A three-level radix tree indexed by the 4 KiB granule number of an
 * address (addresses are below 2^47, so 35 bits: 12 + 9 + 14).  An entry
 * holds the owner: an ftm_zone pointer, or an ftm_large pointer tagged with
 * FTM_OWNER_LARGE.  Zones register every granule they span; a LARGE mapping
 * registers only the granule of the pointer it returned.  An address with
 * no entry is not ours: that is how free() tells our pointers from others.
 *
 * Readers take no lock (entries and node pointers are atomic); writers and
 * node creation hold pagemap_lock.  Nodes are never freed, so a reader can
 * never touch unmapped metadata.
 */
#include "internal.h"

#include <string.h>

#define ROOT_BITS FTM_PM_ROOT_BITS
#define MID_BITS  FTM_PM_MID_BITS
#define LEAF_BITS FTM_PM_LEAF_BITS
#define KEY_BITS  (ROOT_BITS + MID_BITS + LEAF_BITS)   /* 47 - FTM_MAP_SHIFT */

typedef ftm_pm_leaf leaf;
typedef ftm_pm_mid mid;

/* The root; lookups (ftm_pagemap_get) are inline in internal.h. */
_Atomic(ftm_pm_mid *) ftm_pagemap_root[1u << FTM_PM_ROOT_BITS];
#define pagemap_root ftm_pagemap_root
static pthread_mutex_t pagemap_lock = PTHREAD_MUTEX_INITIALIZER;

_Static_assert(KEY_BITS + FTM_MAP_SHIFT == 47, "the page map covers the 47-bit user space");

static inline uintptr_t key_of(const void *a) { return (uintptr_t)a >> FTM_MAP_SHIFT; }

/* The leaf slot for key k, creating nodes when `create`; NULL if absent. */
static _Atomic uintptr_t *slot(uintptr_t k, bool create)
{
	if (k >> KEY_BITS)
		return NULL;
	_Atomic(mid *) *rp = &pagemap_root[k >> (MID_BITS + LEAF_BITS)];
	mid *m = atomic_load_explicit(rp, memory_order_acquire);
	if (!m) {
		if (!create || !(m = ftm_os_map(sizeof(mid))))
			return NULL;
		atomic_store_explicit(rp, m, memory_order_release);
	}
	_Atomic(leaf *) *mp = &m->leaves[(k >> LEAF_BITS) & ((1u << MID_BITS) - 1)];
	leaf *l = atomic_load_explicit(mp, memory_order_acquire);
	if (!l) {
		if (!create || !(l = ftm_os_map(sizeof(leaf))))
			return NULL;
		atomic_store_explicit(mp, l, memory_order_release);
	}
	return &l->owner[k & ((1u << LEAF_BITS) - 1)];
}


/* Register [start, start+len) as owned by `owner`; false if out of memory
 * for the map's own nodes (then nothing stays registered). */
bool ftm_pagemap_set(const void *start, size_t len, uintptr_t owner)
{
	uintptr_t first = key_of(start);
	uintptr_t last = key_of((const char *)start + len - 1);
	ftm_lock(&pagemap_lock);
	for (uintptr_t k = first; k <= last; k++) {
		_Atomic uintptr_t *s = slot(k, true);
		if (!s) {
			for (uintptr_t j = first; j < k; j++)
				atomic_store_explicit(slot(j, false), 0, memory_order_release);
			ftm_unlock(&pagemap_lock);
			return false;
		}
		atomic_store_explicit(s, owner, memory_order_release);
	}
	ftm_unlock(&pagemap_lock);
	return true;
}

void ftm_pagemap_clear(const void *start, size_t len)
{
	uintptr_t first = key_of(start);
	uintptr_t last = key_of((const char *)start + len - 1);
	ftm_lock(&pagemap_lock);
	for (uintptr_t k = first; k <= last; k++) {
		_Atomic uintptr_t *s = slot(k, false);
		if (s)
			atomic_store_explicit(s, 0, memory_order_release);
	}
	ftm_unlock(&pagemap_lock);
}

/*
 * Call visit(owner) once per registered zone and LARGE block, in increasing
 * address order.  The caller holds the page map lock (ftm_pagemap_lock), so
 * no LARGE mapping can be unmapped meanwhile (large.c clears its entry under
 * that lock before it unmaps).
 */
void ftm_pagemap_walk(ftm_pagemap_visit visit, void *ctx)
{
	uintptr_t prev = 0;
	for (uintptr_t r = 0; r < (1u << ROOT_BITS); r++) {
		mid *m = atomic_load_explicit(&pagemap_root[r], memory_order_acquire);
		if (!m)
			continue;
		for (uintptr_t i = 0; i < (1u << MID_BITS); i++) {
			leaf *l = atomic_load_explicit(&m->leaves[i], memory_order_acquire);
			if (!l)
				continue;
			for (uintptr_t j = 0; j < (1u << LEAF_BITS); j++) {
				uintptr_t o = atomic_load_explicit(&l->owner[j], memory_order_relaxed);
				/* a zone spans many granules: report it on its first one */
				if (o && o != prev)
					visit(o, ctx);
				prev = o;
			}
		}
	}
}

void ftm_pagemap_lock(void) { ftm_lock(&pagemap_lock); }
void ftm_pagemap_unlock(void) { ftm_unlock(&pagemap_lock); }
void ftm_pagemap_atfork_child(bool held)
{
	if (held)
		pthread_mutex_unlock(&pagemap_lock);
}
