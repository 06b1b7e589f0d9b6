/*
 * run-setup.c: sets a run up with its state file and its listeners
 * (observe.h). The state file listens first, so that a transition is
 * written before the console or a notification announces it; the
 * console second; notifications last.
 */
#include <stddef.h>

#include "console.h"
#include "notify.h"
#include "observe.h"
#include "plan.h"
#include "run-record.h"
#include "run-setup.h"
#include "run.h"
#include "store.h"
#include "task.h"

/* The console: transitions as they are announced, and every note. */
static void
run_setup_console_task(void *arg, const struct run_task *t, enum observe_task w)
{
	(void)arg;
	if (w == OBSERVE_TASK_CHANGED)
		console_task(t->phase->run, t);
}

static void
run_setup_console_phase(
    void *arg, const struct run_phase *ph, enum observe_phase w)
{
	(void)arg;
	if (w == OBSERVE_PHASE_CHANGED)
		console_phase(ph->run, ph);
}

static void
run_setup_console_run(
    void *arg, struct run *r, enum observe_run w, enum run_state old)
{
	(void)arg;
	(void)old;
	if (w == OBSERVE_RUN_STARTED || w == OBSERVE_RUN_ENDED)
		console_run(r);
	else if (w == OBSERVE_RUN_RESUMED)
		console_note(r, "resuming run %d (%s), uid %s, date %s", r->id,
		    r->plan->name, r->uid, r->date);
}

static void
run_setup_console_note(
    void *arg, const struct run *r, const char *msg, int keep)
{
	(void)arg;
	(void)keep;
	console_note(r, "%s", msg);
}

/* Notifications: the run entering a state. */
static void
run_setup_notify_run(
    void *arg, struct run *r, enum observe_run w, enum run_state old)
{
	if (w == OBSERVE_RUN_STATE && r->state != old)
		notify_run(arg, r);
}

/*
 * Set up a run made by run_new() (and, for a resume, filled by
 * run_record_restore()): its state file (NULL: none), and, when swapped is set,
 * the swap as done before it starts (run --assume-swapped); then its
 * listeners and notifications.
 */
void
run_setup(struct run *r, struct store *st, int swapped)
{
	struct run_listener store_l;
	const struct run_listener console_l = {
		.on_task = run_setup_console_task,
		.on_phase = run_setup_console_phase,
		.on_run = run_setup_console_run,
		.on_note = run_setup_console_note,
	};
	struct run_listener notify_l = { .on_run = run_setup_notify_run };

	if (swapped && r->plan->has_swap) {
		run_host(r, r->plan->swap_hosts[0])->swapped = 1;
		run_host(r, r->plan->swap_hosts[1])->swapped = 1;
		r->swapped = 1;
	}
	r->store = st;
	if (st != NULL) {
		store_attach(st, r->loop);
		run_record_listener(st, &store_l);
		observe_add(r, &store_l);
	}
	observe_add(r, &console_l);
	r->notify = notify_new(r);
	if (r->notify != NULL) {
		notify_l.arg = r->notify;
		observe_add(r, &notify_l);
	}
}
