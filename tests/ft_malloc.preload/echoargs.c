/*
 * echoargs.c - run by preload.exp through the ft-malloc command: prints
 * each argument between brackets on a line of its own, then whether
 * libft_malloc is mapped in the process ("MAPS yes" or "MAPS no").
 */
#include "preload.h"

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *line = malloc(strlen(argv[i]) + 4);
		if (line == NULL)
			return 2;
		sprintf(line, "[%s]\n", argv[i]);
		ftm_write_all(1, line, strlen(line));
		free(line);
	}
	ftm_printf("MAPS %s\n", pl_maps_have_ftm() ? "yes" : "no");
	return 0;
}
