/*
 * config_limits.h - the size classes and zone sizes, in one place.
 *
 * docs/design.md explains how these numbers were chosen.  Invariants the
 * code relies on (checked at compile time below):
 *  - every block size is a multiple of FTM_ALIGN, and FTM_ALIGN is 16;
 *  - a zone holds at least FTM_ZONE_MIN_BLOCKS blocks of its largest size;
 *  - a zone is smaller than 4 GiB (block sizes are stored in 32 bits).
 */
#ifndef FTM_CONFIG_LIMITS_H
#define FTM_CONFIG_LIMITS_H

#define FTM_ALIGN            16u          /* alignment of every returned pointer */
#define FTM_TINY_MAX         1024u        /* largest TINY request, bytes */
#define FTM_SMALL_MAX        (64u * 1024) /* largest SMALL request; above is LARGE */
#define FTM_TINY_ZONE_SIZE   (128u * 1024)
#define FTM_SMALL_ZONE_SIZE  (8u * 1024 * 1024)
#define FTM_ZONE_MIN_BLOCKS  100u

/*
 * Empty zones (docs/design.md, "Memory policy"): a heap keeps up to
 * FTM_RESERVE_BYTES of them (at least one zone) for good; more empty zones
 * wait FTM_DECAY_OPS operations of their heap for reuse, then are unmapped;
 * never more than FTM_DECAY_MAX_BYTES of them wait.
 */
#define FTM_RESERVE_BYTES    (2u * 1024 * 1024)
#define FTM_DECAY_OPS        4096u
#define FTM_DECAY_MAX_BYTES  (16u * 1024 * 1024)
/* A free block of at least this size that stayed free FTM_DECAY_OPS
 * operations of its heap gives its pages back (zone.c, "idle pages"). */
#define FTM_IDLE_MIN         (1024u * 1024)

/* Freed LARGE mappings kept for reuse as spans (large.c): how many spans,
 * how many bytes in all (what live LARGE bytes leave of their recent peak, within
 * these two bounds), after how many LARGE allocations and frees an unused
 * span goes, and the smallest tail worth cutting off a span. */
#define FTM_LARGE_CACHE_SLOTS      32u
#define FTM_LARGE_CACHE_BYTES      (32u * 1024 * 1024)
#define FTM_LARGE_CACHE_MAX_BYTES  (256u * 1024 * 1024)
#define FTM_LARGE_CACHE_OPS        1024u
#define FTM_LARGE_SPLIT_MIN        (64u * 1024)
/* Free address space left above a fresh mapping for a growing block. */
#define FTM_LARGE_GAP              (64u * 1024 * 1024)
/* A fresh LARGE mapping from malloc this big asks for transparent huge
 * pages (large.c, huge_ok()). */
#define FTM_LARGE_HUGE_MIN         (4u * 1024 * 1024)
#define FTM_LARGE_HUGE_MAX         (64u * 1024 * 1024)

/* Arenas (arena.c): up to this many per processor the process may run on,
 * never more than FTM_MAX_ARENAS in all. */
#define FTM_ARENAS_PER_CPU   4u
#define FTM_MAX_ARENAS       64u

/* The page map's granule: every mapping we make starts on such a boundary. */
#define FTM_MAP_SHIFT        12u

/* Largest alignment served from inside a zone; larger ones get a LARGE mapping. */
#define FTM_ZONE_MAX_ALIGN   4096u

#endif /* FTM_CONFIG_LIMITS_H */
