/*
 * secure.c - secure-execution mode is off for an ordinary process, so the
 * FT_MALLOC_* variables count: preload.exp runs this program (linked and
 * preloaded) with FT_MALLOC_SHOW_AT_EXIT=1 and checks that the heap map
 * comes out on stderr at exit, with the block this program leaves
 * allocated (it prints that block's line as "FTM-EXPECT <line>"), and
 * without the variable, that it does not.  (The setuid case is tested in
 * ft_malloc.system.)
 */
#include "preload.h"

#include <sys/auxv.h>

enum { SECURE_KEPT = 12345 };

int main(void)
{
	unsigned long sec;
	char *kept;
	const char *v = getenv("FT_MALLOC_SHOW_AT_EXIT");

	ftm_begin("secure");
	errno = 0;
	sec = getauxval(AT_SECURE);
	ftm_check(sec == 0 && errno == 0, "getauxval(AT_SECURE) is 0 for an ordinary process",
	    "AT_SECURE=%lu errno=%d, uid %d euid %d gid %d egid %d", sec, errno,
	    (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
	ftm_check(getuid() == geteuid() && getgid() == getegid(),
	    "real and effective ids are the same", NULL);

	/* a block left allocated at exit: the map at exit must list it */
	kept = malloc(ftm_size(SECURE_KEPT));
	ftm_check(kept != NULL, "malloc a block left for the exit map", NULL);
	if (kept != NULL) {
		memset(kept, 'k', SECURE_KEPT);
		ftm_printf("FTM-EXPECT 0x%lX - 0x%lX : %d bytes\n",
		    (unsigned long)(uintptr_t)kept,
		    (unsigned long)((uintptr_t)kept + SECURE_KEPT), SECURE_KEPT);
	}
	ftm_printf("FTM-ENV FT_MALLOC_SHOW_AT_EXIT=%s\n", v ? v : "(unset)");
	return ftm_end();
}
