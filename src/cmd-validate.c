/*
 * cmd-validate.c: hostswap validate PLAN [--inventory FILE] — load the plan
 * and its inventory, report every problem, exit 65 if there is one.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "exitcode.h"
#include "plan.h"

static int cmd_validate_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_validate_entry = { "validate",
	"PLAN [--inventory FILE]",
	"check a plan and its inventory; every problem as "
	"FILE:LINE:COL",
	"  --inventory FILE  use this inventory instead of the plan's own\n",
	cmd_validate_exec };

/* hostswap validate */
static int
cmd_validate_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = { { "inventory", required_argument,
						  NULL, 'i' },
		{ NULL, 0, NULL, 0 } };
	const char *inv = NULL;
	struct plan *p;
	size_t i, j, tasks = 0;
	int ch, rc;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			inv = optarg;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(self,
		    argc - optind == 0 ? "missing PLAN" : "too many arguments");
	if ((rc = cmd_load_plan(argv[optind], inv, &p)) != EXIT_OK)
		return rc;
	for (i = 0; i < p->nphases; i++)
		for (j = 0; j < p->phases[i].nsteps; j++)
			tasks += p->phases[i].steps[j].on_local
			    ? 1
			    : p->phases[i].steps[j].non;
	printf("%s: valid: %zu phase%s, %zu task%s, %zu host%s\n", p->path,
	    p->nphases, p->nphases == 1 ? "" : "s", tasks,
	    tasks == 1 ? "" : "s", p->inv->nhosts,
	    p->inv->nhosts == 1 ? "" : "s");
	plan_free(p);
	return EXIT_OK;
}
