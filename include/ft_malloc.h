/*
 * ft_malloc.h - public interface of libft_malloc.
 *
 * libft_malloc replaces the C library's allocator: linking with it (or
 * preloading it) makes every malloc, free, realloc, ... of the program go
 * through it.  The standard functions keep their standard prototypes and
 * meanings (ISO C, POSIX and the GNU extensions) and are declared by the
 * system headers included here; this header adds ft_malloc's own functions.
 */
#ifndef FT_MALLOC_H
#define FT_MALLOC_H

#include <stddef.h>
#include <stdlib.h>   /* malloc free calloc realloc reallocarray posix_memalign aligned_alloc valloc */
#include <malloc.h>   /* memalign pvalloc malloc_usable_size */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Print the heap to standard output: each zone (TINY, SMALL, LARGE) by
 * increasing address, each allocated block with the size the program asked
 * for, then the total of those sizes.  Written with write(2); allocates
 * nothing.
 */
void show_alloc_mem(void);

/*
 * Everything show_alloc_mem() prints, plus the free blocks of every zone,
 * each zone's free space and largest free block, and a fragmentation summary.
 */
void show_alloc_mem_ex(void);

#ifdef __cplusplus
}
#endif

#endif /* FT_MALLOC_H */
