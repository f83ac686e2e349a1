/*
 * early.h - the interface of libearly.so (early_lib.c), a shared library
 * whose constructor allocates before libft_malloc's constructor has run
 * (preload.exp orders the libraries so; it checks the order with
 * LD_DEBUG=init) and starts a thread that allocates while the rest of the
 * process starts up.
 */
#ifndef EARLY_H
#define EARLY_H

#include <stddef.h>

enum {
	EARLY_KEPT_SIZE = 3333,     /* the block the constructor keeps */
	EARLY_KEPT_SEED = 4242,
	EARLY_NCTOR = 64,           /* blocks kept for the destructor */
	EARLY_THREAD_BLOCKS = 4000, /* blocks of the constructor's thread */
};

typedef struct {
	int ran;                    /* the constructor ran */
	int ctor_bad;               /* errors seen in the constructor */
	char ctor_err[256];
	void *kept;                 /* EARLY_KEPT_SIZE bytes, pattern EARLY_KEPT_SEED */
	size_t kept_usable;         /* malloc_usable_size(kept) in the constructor */
	int thread_started;
	int thread_bad;             /* errors of the thread */
	int thread_blocks;          /* blocks it allocated and checked */
	int thread_overlap;         /* rounds it ran after main() had begun */
	void *thread_kept;          /* a block it leaves to main (1777 bytes, seed 1777) */
} early_state_t;

/* the state; early_join() waits for the constructor's thread */
early_state_t *early_state(void);
int early_join(void);
/* main() calls this when it begins, so the thread knows it overlaps */
void early_main_started(void);

#endif
