/*
 * cmd-pending.c: the commands of SPEC §5 that are not built yet. Each has
 * its final usage and --help; run, it says it is not built and exits 70.
 * A command moves to its own cmd-NAME.c when it is built.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "exitcode.h"

static int cmd_pending_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_preflight_entry = { "preflight",
	"PLAN [--inventory FILE] [--known-hosts FILE]",
	"check every host before the night; changes nothing", NULL,
	cmd_pending_exec };

/* Answer --help; otherwise say the command is not built yet. */
static int
cmd_pending_exec(const struct cmd_entry *self, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] == '-' &&
		    argv[i][2] == '\0')
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cmd_usage(self, stdout);
			return EXIT_OK;
		}
	}
	fprintf(stderr, "hostswap: '%s' is not built yet in this version\n",
	    self->name);
	return EXIT_SOFTWARE;
}
