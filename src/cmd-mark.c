/*
 * cmd-mark.c: hostswap mark PHASE/STEP [--host H] succeeded|failed|retry —
 * the operator's decision on a task a resume could not decide (an
 * interrupted task that is not idempotent). It writes the state file
 * directly, so no daemon may hold it; `hostswap resume` then goes on.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "log.h"
#include "store.h"

static int cmd_mark_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_mark_entry = { "mark",
	"PHASE/STEP [--host H] succeeded|failed|retry [--state FILE]",
	"decide the outcome of an interrupted task",
	"  --host H      the task's host (when the step runs on several)\n"
	"  --state FILE  the state file (default ./hostswap.db)\n"
	"  succeeded     it took effect: the resume goes on after it\n"
	"  failed        it failed: the run is failed; a resume runs it "
	"again\n"
	"  retry         run it again on resume\n",
	cmd_mark_exec };

/* hostswap mark */
static int
cmd_mark_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
	};
	const char *state = STORE_DEFAULT, *host = NULL, *decision;
	struct store_run_info ri;
	struct store *st = NULL;
	char *step = NULL, *err = NULL;
	int ch, rc, phase;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
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
	if (argc - optind != 2)
		return cmd_usage_error(self, "needs PHASE/STEP and a decision");
	decision = argv[optind + 1];
	if (strcmp(decision, "succeeded") != 0 &&
	    strcmp(decision, "failed") != 0 && strcmp(decision, "retry") != 0)
		return cmd_usage_error(self,
		    "the decision is succeeded, failed or retry, not '%s'",
		    decision);
	if (cmd_parse_task(self, argv[optind], &phase, &step) == -1)
		return EXIT_USAGE;
	if ((rc = cmd_open_state(state, &st, &ri)) != EXIT_OK) {
		free(step);
		return rc;
	}
	store_free(st);
	if ((rc = daemon_open_state(state, &st)) != EXIT_OK)
		goto out;
	if (!store_run_unfinished(&ri)) {
		log_warnx("run %d is %s: there is nothing to decide", ri.id,
		    ri.state);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (store_mark(st, ri.id, phase, step, host, decision, &err) == -1) {
		log_warnx("%s", err);
		free(err);
		rc = EXIT_FAILED;
		goto out;
	}
	printf("run %d: %d/%s%s%s marked %s; 'hostswap resume%s%s' goes on\n",
	    ri.id, phase, step, host ? " on " : "", host ? host : "", decision,
	    strcmp(state, STORE_DEFAULT) ? " --state " : "",
	    strcmp(state, STORE_DEFAULT) ? state : "");
	rc = EXIT_OK;
out:
	store_run_info_free(&ri);
	store_free(st);
	free(step);
	return rc;
}
