/*
 * prefix.h - the prefixed build, for the sanitizers (make check-sanitize).
 *
 * Included first (-include) into every file of the library and of each test
 * program, it renames every public function to ftm_san_NAME.  The allocator
 * is then an ordinary library beside the C library's malloc, which ASan,
 * UBSan and TSan keep for themselves and for the C library's own calls:
 * they check our code and its memory accesses, and the tests call us by the
 * new names without knowing it.  Not installed; never in a real build.
 */
#ifndef FTM_PREFIX_H
#define FTM_PREFIX_H

#define FTM_PREFIXED 1

#define malloc             ftm_san_malloc
#define free               ftm_san_free
#define calloc             ftm_san_calloc
#define realloc            ftm_san_realloc
#define reallocarray       ftm_san_reallocarray
#define posix_memalign     ftm_san_posix_memalign
#define aligned_alloc      ftm_san_aligned_alloc
#define memalign           ftm_san_memalign
#define valloc             ftm_san_valloc
#define pvalloc            ftm_san_pvalloc
#define malloc_usable_size ftm_san_malloc_usable_size
#define show_alloc_mem     ftm_san_show_alloc_mem
#define show_alloc_mem_ex  ftm_san_show_alloc_mem_ex
/* glibc's extras (compat.c) */
#define mallopt            ftm_san_mallopt
#define malloc_trim        ftm_san_malloc_trim
#define mallinfo           ftm_san_mallinfo
#define mallinfo2          ftm_san_mallinfo2
#define malloc_stats       ftm_san_malloc_stats
#define malloc_info        ftm_san_malloc_info

#endif /* FTM_PREFIX_H */
