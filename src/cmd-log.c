/*
 * cmd-log.c: hostswap log PHASE/STEP [--host H] [--attempt N] — a task's
 * whole captured output (secrets scrubbed; nothing of a sensitive step),
 * from the state file. Works while a daemon runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "store.h"

static int cmd_log_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_log_entry = { "log",
	"PHASE/STEP [--host H] [--attempt N] [--state FILE]",
	"print a task's captured output",
	"  --host H      the task's host (when the step runs on several)\n"
	"  --attempt N   that attempt (default: the last one that ended)\n"
	"  --state FILE  the state file (default ./hostswap.db)\n",
	cmd_log_exec };

/* hostswap log */
static int
cmd_log_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "attempt", required_argument, NULL, 'A' },
		{ "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
	};
	const char *state = STORE_DEFAULT, *host = NULL;
	struct store_run_info ri;
	struct store *st;
	struct buf b;
	char *step = NULL, *err = NULL, *end;
	int ch, rc, phase, attempt = 0;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'A':
			attempt = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || attempt < 1)
				return cmd_usage_error(self,
				    "--attempt takes a number from 1, not "
				    "'%s'",
				    optarg);
			break;
		case 's':
			state = optarg;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(self, "needs PHASE/STEP");
	if (cmd_parse_task(self, argv[optind], &phase, &step) == -1)
		return EXIT_USAGE;
	if ((rc = cmd_open_state(state, &st, &ri)) != EXIT_OK) {
		free(step);
		return rc;
	}
	buf_init(&b);
	if (store_task_output(
		st, ri.id, phase, step, host, attempt, &b, &err) == -1) {
		fprintf(stderr, "hostswap log: %s\n", err);
		free(err);
		rc = EXIT_FAILED;
	} else if (b.len > 0)
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	store_run_info_free(&ri);
	store_free(st);
	free(step);
	return rc;
}
