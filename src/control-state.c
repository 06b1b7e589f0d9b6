/*
 * control-state.c: approve / reject / abort for a daemon without an HTTP
 * endpoint (`hostswap run --listen none`). When the state file's newest
 * run names no endpoint and a daemon holds the file, the decision is
 * written into the state file (store-decide.c); the daemon takes it
 * within a second (inbox.c) and writes what came of it, which this
 * command waits for and reports as the endpoint's answer would be. A
 * decision the daemon does not take in time is withdrawn: nothing is
 * ever decided later behind the operator's back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control-state.h"
#include "exitcode.h"
#include "store.h"

/* How long the command waits for the daemon to take its decision. */
#define CONTROL_STATE_WAIT_MS 10000
#define CONTROL_STATE_POLL_MS 100

/* Sleep a little between two looks at the state file. */
static void
control_state_pause(void)
{
	struct timespec ts = { 0, CONTROL_STATE_POLL_MS * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The decision `name` ("approve", "reject", "abort") on the task
 * phase/step on host (task is the operator's PHASE/STEP, NULL for abort),
 * through the state file. Returns -1 when the decision goes over HTTP
 * instead (the run names an endpoint, or the file cannot be read and
 * client_open() says why), else the exit status, with what happened
 * printed.
 */
int
control_state_decide(const char *name, const char *state, const char *task,
    int phase, const char *step, const char *host, const char *by)
{
	struct store_run_info ri;
	struct store *st;
	char *err = NULL, *url, *outcome = NULL;
	int64_t id;
	long pid;
	int rc, waited;

	if (store_open(state, STORE_READ, &st, &err) != STORE_OK) {
		free(err);
		return -1;
	}
	if (store_newest_run(st, &ri) != STORE_OK) {
		store_free(st);
		return -1;
	}
	if ((url = store_run_url(st, ri.id)) != NULL) {
		free(url);
		store_run_info_free(&ri);
		store_free(st);
		return -1;
	}
	if (!store_decide_held(state, &pid)) {
		fprintf(stderr,
		    "hostswap %s: no daemon holds %s and run %d (%s) names "
		    "no endpoint: nothing can take the decision now "
		    "('hostswap resume --state %s' asks again)\n",
		    name, state, ri.id, ri.state, state);
		rc = EXIT_UNAVAILABLE;
		goto out;
	}
	id = store_decide_add(st, ri.id, name, phase, step, host, by, &err);
	if (id <= 0) {
		fprintf(stderr, "hostswap %s: %s\n", name, err);
		free(err);
		rc = id == 0 ? EXIT_UNAVAILABLE : EXIT_FAILED;
		goto out;
	}
	for (waited = 0; !store_decide_outcome(st, id, &outcome);
	     waited += CONTROL_STATE_POLL_MS) {
		if (waited >= CONTROL_STATE_WAIT_MS &&
		    store_decide_withdraw(st, id)) {
			fprintf(stderr,
			    "hostswap %s: the daemon (pid %ld) did not take "
			    "the decision within %d s: withdrawn, nothing was "
			    "decided\n",
			    name, pid, CONTROL_STATE_WAIT_MS / 1000);
			rc = EXIT_UNAVAILABLE;
			goto out;
		}
		control_state_pause();
	}
	if (outcome != NULL && strcmp(outcome, "done") == 0) {
		if (task == NULL)
			printf("abort: the run stops once its running tasks "
			       "end\n");
		else
			printf("%s %s: done\n", task, name);
		rc = EXIT_OK;
	} else {
		fprintf(stderr, "hostswap %s: the daemon answered: %s\n", name,
		    outcome != NULL ? outcome : "no reason given");
		rc = EXIT_FAILED;
	}
out:
	free(outcome);
	store_run_info_free(&ri);
	store_free(st);
	return rc;
}
