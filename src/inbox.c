/*
 * inbox.c: the decisions a daemon without an HTTP endpoint (`--listen
 * none`, or an endpoint that could not be started) takes from its state
 * file. `hostswap approve|reject|abort --state FILE` writes a decision
 * there (store-decide.c); the daemon looks every INBOX_POLL_MS, acts on
 * it exactly as the endpoint would (task_approve, task_reject,
 * sched_abort) and writes what came of it, which the command reports.
 * So a manual step waits for its operator, and the night goes on, with no
 * listening socket at all.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "inbox.h"
#include "plan.h"
#include "run.h"
#include "scheduler.h"
#include "store.h"
#include "task.h"
#include "xmalloc.h"

/* How often the state file is read for new decisions. */
#define INBOX_POLL_MS 500

struct inbox {
	struct run *run;
	struct store *store;
	uv_timer_t timer;
};

/* Act on one decision; what came of it, for the command that gave it. */
static const char *
inbox_decide(void *arg, const char *action, int phase, const char *step,
    const char *host, const char *by)
{
	struct inbox *in = arg;
	struct run_task *t;

	if (strcmp(action, "abort") == 0) {
		run_note(in->run,
		    "abort asked by %s through the state file: the run "
		    "stops once its running tasks end",
		    by ? by : "an operator");
		sched_abort(in->run);
		return "done";
	}
	if (step == NULL || host == NULL ||
	    (t = run_task_find(in->run, phase, step, host)) == NULL)
		return "no such task";
	if (t->state != TASK_WAITING)
		return "the task is not waiting for a decision";
	run_note(in->run, "%d/%s: decision from %s (through the state file)",
	    phase, step, by ? by : "an operator");
	if (strcmp(action, "approve") == 0)
		task_approve(t);
	else
		task_reject(t);
	return "done";
}

/* Time to read the state file. */
static void
inbox_poll_cb(uv_timer_t *h)
{
	struct inbox *in = h->data;

	store_decide_take(in->store, in->run->id, inbox_decide, in);
}

/*
 * Take the run's decisions from its state file from now on; manual steps
 * then wait for them (the run waits, the daemon goes on).
 */
struct inbox *
inbox_new(struct run *r, struct store *st)
{
	struct inbox *in = xcalloc(1, sizeof *in);

	in->run = r;
	in->store = st;
	store_decide_listen(st);
	uv_timer_init(r->loop, &in->timer);
	in->timer.data = in;
	uv_timer_start(&in->timer, inbox_poll_cb, INBOX_POLL_MS, INBOX_POLL_MS);
	/* The run, not the inbox, keeps the loop alive. */
	uv_unref((uv_handle_t *)&in->timer);
	r->approvals = 1;
	return in;
}

/* The timer closed: the inbox goes. */
static void
inbox_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Stop taking decisions. */
void
inbox_free(struct inbox *in)
{
	if (in == NULL)
		return;
	uv_close((uv_handle_t *)&in->timer, inbox_closed_cb);
}
