/*
 * sched.c: moves a run through its phases.
 *
 * The barrier: every task of a phase starts at once (each host's session
 * caps its own channels), and the next phase starts only when every task
 * of this one has ended and all of them succeeded or were skipped. If any
 * failed, the tasks still running finish, the run ends `failed`, and
 * nothing of the next phase starts. A task waiting for an operator holds
 * the phase: the run ends `waiting` (resumable) once the others ended.
 *
 * A phase's gate (a manual step with `gate: true`, its point of no
 * return) starts alone: the phase's other tasks start only once it is
 * approved, and a rejection fails the phase with nothing else run.
 *
 * Phases outside --from-phase/--to-phase are `skipped`. When the phase
 * named by swap.after_phase succeeds, each swapped name now reaches the
 * other machine, and its session is reopened under that identity.
 */
#include <stdlib.h>
#include <string.h>

#include "observe.h"
#include "plan.h"
#include "remote.h"
#include "run.h"
#include "scheduler.h"
#include "store.h"
#include "task.h"
#include "wrapper.h"
#include "xmalloc.h"

static void sched_next_phase(struct run *);
static void sched_phase_check(struct run_phase *);

/* The one place a phase changes state. */
static void
sched_set_phase(struct run_phase *ph, enum phase_state s)
{
	ph->state = s;
	if (s == PHASE_RUNNING && ph->started_ms == 0)
		ph->started_ms = run_now_ms(); /* kept across a resume */
	else if (s != PHASE_PENDING)
		ph->finished_ms = run_now_ms();
	observe_phase(ph, OBSERVE_PHASE_CHANGED);
}

/* The one place the run changes state; entering one may notify. */
void
sched_set_run(struct run *r, enum run_state s)
{
	enum run_state old = r->state;

	r->state = s;
	observe_run(r, OBSERVE_RUN_STATE, old);
}

/* Report the end, once no control job (a kill) is still under way. */
static void
sched_report_end(struct run *r)
{
	if (r->control_jobs > 0) {
		r->finish_deferred = 1;
		return;
	}
	r->finish_deferred = 0;
	observe_run(r, OBSERVE_RUN_ENDED, r->state);
	if (r->finished != NULL)
		r->finished(r);
}

/*
 * The run has ended in state s. It ends once: a later call (another task
 * of the same stop ending) changes nothing, so its end is reported and
 * its finished callback called once.
 */
void
sched_finish(struct run *r, enum run_state s)
{
	if (r->finished_ms != 0)
		return;
	r->finished_ms = run_now_ms();
	sched_set_run(r, s);
	uv_timer_stop(&r->grace);
	sched_report_end(r);
}

/* A control job (a timeout's kill) ended. */
void
sched_control_done(struct run *r)
{
	if (--r->control_jobs == 0 && r->finish_deferred)
		sched_report_end(r);
}

struct sched_cleanup {
	struct run *run;
	int left;
};

/* One host's records are gone. */
static void
sched_cleanup_done_cb(void *arg, const struct remote_result *res)
{
	struct sched_cleanup *c = arg;

	(void)res;
	if (--c->left > 0)
		return;
	sched_finish(c->run, RUN_SUCCEEDED);
	free(c);
}

static const struct remote_job_cb sched_cleanup_cb = { NULL,
	sched_cleanup_done_cb, NULL };

/* The run succeeded: remove its records from every host it used. */
void
sched_succeeded(struct run *r)
{
	struct sched_cleanup *c = xcalloc(1, sizeof *c);
	struct run_host *rh;
	char *script;
	size_t i;

	c->run = r;
	c->left = 1;
	script = wrapper_cleanup_script(r->uid);
	for (i = 0; i < r->nhosts; i++) {
		rh = &r->hosts[i];
		/* Every host the run used: a resume may have opened no
		 * session to it yet. */
		if (!run_host_used(r, rh))
			continue;
		c->left++;
		run_host_exec(
		    rh, script, REMOTE_PRIORITY, &sched_cleanup_cb, c);
	}
	free(script);
	sched_cleanup_done_cb(c, NULL);
}

/* The swap phase succeeded: each swapped name reaches the other machine. */
static void
sched_swap(struct run *r)
{
	int i;

	for (i = 0; i < 2; i++)
		run_host_mark_swapped(run_host(r, r->plan->swap_hosts[i]));
	r->swapped = 1;
	observe_run(r, OBSERVE_RUN_STATE, r->state);
	run_note(r,
	    "the swap is done: %s and %s now reach the other "
	    "machine",
	    r->plan->swap_hosts[0], r->plan->swap_hosts[1]);
	/* The key a swapped name expects is the other machine's: known, or
	 * no session to it at all (never trust on first use). */
	for (i = 0; i < 2; i++)
		if (run_expected_key(run_host(r, r->plan->swap_hosts[i])) ==
		    NULL)
			run_note(r,
			    "%s now expects the host key of %s's machine, "
			    "which this run never saw: it is refused (trust "
			    "on first use does not apply to a swapped name; "
			    "pin the key in the inventory)",
			    r->plan->swap_hosts[i], r->plan->swap_hosts[1 - i]);
}

/* The phase's gate task, if it has one and it is not yet approved. */
static struct run_task *
sched_gate_shut(struct run_phase *ph)
{
	size_t i;

	for (i = 0; i < ph->ntasks; i++)
		if (ph->tasks[i].step->gate)
			return ph->tasks[i].state == TASK_SUCCEEDED ||
				ph->tasks[i].state == TASK_SKIPPED
			    ? NULL
			    : &ph->tasks[i];
	return NULL;
}

/* Start the phase's pending tasks: the gate alone while it is shut. */
static void
sched_start_tasks(struct run_phase *ph)
{
	struct run_task *gate = sched_gate_shut(ph);
	size_t i;

	if (gate != NULL) {
		task_start(gate);
		return;
	}
	for (i = 0; i < ph->ntasks && ph->state == PHASE_RUNNING; i++)
		task_start(&ph->tasks[i]);
}

/* A task ended (or began to wait): end the phase once all have. */
void
sched_task_ended(struct run_task *t)
{
	struct run_phase *ph = t->phase;
	struct run *r = ph->run;

	if (t->step->gate && t->state == TASK_SUCCEEDED &&
	    ph->index == r->current && ph->state == PHASE_RUNNING &&
	    !r->stopping) {
		if (r->state == RUN_WAITING)
			sched_set_run(r, RUN_RUNNING);
		sched_start_tasks(ph);
	}
	sched_phase_check(ph);
}

/*
 * Name an undecided task (interrupted, not idempotent) and the command
 * that decides it.
 */
void
sched_ask(struct run_task *t)
{
	struct run *r = t->phase->run;
	int id = r->plan->phases[t->phase->index].id;

	run_note(r,
	    "%d/%s on %s was interrupted and is not idempotent: hostswap "
	    "cannot tell whether it took effect. Check the host, then decide "
	    "with 'hostswap mark %d/%s --host %s succeeded|failed|retry "
	    "--state %s' and run 'hostswap resume' again",
	    id, t->step->id, t->host, id, t->step->id, t->host,
	    store_path(r->store));
}

/*
 * The barrier: once every task of the current phase has ended, end the
 * phase — succeeded only if all succeeded or were skipped — and start the
 * next one, or end the run.
 */
static void
sched_phase_check(struct run_phase *ph)
{
	struct run *r = ph->run;
	size_t i, failed = 0, waiting = 0, stopped = 0, undecided = 0;
	int gated;

	if (ph->index != r->current || ph->state != PHASE_RUNNING)
		return;
	gated = sched_gate_shut(ph) != NULL;
	for (i = 0; i < ph->ntasks; i++) {
		switch (ph->tasks[i].state) {
		case TASK_PENDING:
			/* Behind a shut gate a task waits with it. */
			if (gated && !r->stopping)
				break;
			/* Stopping: a task not started stays pending. */
			if (!r->stopping)
				return;
			stopped++;
			break;
		case TASK_RUNNING:
			return;
		case TASK_INTERRUPTED:
			/* Outside a stop, only a resume leaves a task
			 * interrupted: one the operator must decide. */
			if (r->stopping)
				stopped++;
			else
				undecided++;
			break;
		case TASK_FAILED:
			failed++;
			break;
		case TASK_WAITING:
			waiting++;
			break;
		default:
			break;
		}
	}
	if (failed > 0) {
		sched_set_phase(ph, PHASE_FAILED);
		sched_finish(r,
		    r->aborted        ? RUN_ABORTED
			: r->stopping ? RUN_INTERRUPTED
				      : RUN_FAILED);
		return;
	}
	if (stopped > 0) {
		/* The phase stays running: a resume goes on with it. */
		sched_finish(r, r->aborted ? RUN_ABORTED : RUN_INTERRUPTED);
		return;
	}
	if (undecided > 0) {
		for (i = 0; i < ph->ntasks; i++)
			if (ph->tasks[i].state == TASK_INTERRUPTED)
				sched_ask(&ph->tasks[i]);
		sched_finish(r, RUN_WAITING);
		return;
	}
	if (waiting > 0) {
		/* An operator decides over the endpoint: the daemon waits
		 * with the run. Without one, the run ends waiting (a resume
		 * asks again). */
		if (r->approvals && !r->stopping) {
			if (r->state != RUN_WAITING)
				sched_set_run(r, RUN_WAITING);
			return;
		}
		sched_finish(r, RUN_WAITING);
		return;
	}
	if (r->state == RUN_WAITING)
		sched_set_run(r, RUN_RUNNING);
	sched_set_phase(ph, PHASE_SUCCEEDED);
	if (r->plan->has_swap &&
	    r->plan->phases[ph->index].id == r->plan->swap_after_phase)
		sched_swap(r);
	if (r->stopping) {
		sched_finish(r, r->aborted ? RUN_ABORTED : RUN_INTERRUPTED);
		return;
	}
	r->current++;
	sched_next_phase(r);
}

/* Start the next phase in range, or end the run. */
static void
sched_next_phase(struct run *r)
{
	struct run_phase *ph;

	while (r->current < r->nphases) {
		ph = &r->phases[r->current];
		if (!run_phase_in_range(r, r->current)) {
			sched_set_phase(ph, PHASE_SKIPPED);
			r->current++;
			continue;
		}
		sched_set_phase(ph, PHASE_RUNNING);
		sched_start_tasks(ph);
		return;
	}
	sched_succeeded(r);
}

/*
 * Resume: go on with phase index i — start its pending tasks (the
 * resume has set the watched ones running already), or end it at once if
 * nothing is left to do in it.
 */
void
sched_resume_phase(struct run *r, size_t i)
{
	struct run_phase *ph = &r->phases[i];

	r->current = i;
	if (ph->state != PHASE_RUNNING)
		sched_set_phase(ph, PHASE_RUNNING);
	else
		observe_phase(ph, OBSERVE_PHASE_RECORDED);
	sched_start_tasks(ph);
	if (ph->state == PHASE_RUNNING)
		sched_phase_check(ph);
}

/*
 * Abort (POST /api/v1/abort): start nothing new, let the running tasks
 * end, then the run ends `aborted` (resumable). Waiting steps stop
 * waiting.
 */
void
sched_abort(struct run *r)
{
	struct run_phase *ph;
	size_t i;

	if (r->aborted || (r->state != RUN_RUNNING && r->state != RUN_WAITING))
		return;
	r->aborted = 1;
	r->stopping = 1;
	if (r->current >= r->nphases)
		return;
	ph = &r->phases[r->current];
	/* Each cancel ends a task, and the first may end the run: its end
	 * is reported once every waiting task is cancelled. */
	r->control_jobs++;
	for (i = 0; i < ph->ntasks; i++)
		if (ph->tasks[i].state == TASK_WAITING)
			task_cancel(&ph->tasks[i], "the run was aborted");
	sched_control_done(r);
	if (ph->state == PHASE_RUNNING)
		sched_phase_check(ph);
}

/* Go on from r->current: the next phase in range, or the run's end. */
void
sched_continue(struct run *r)
{
	sched_next_phase(r);
}

/* Whether phase index i is inside --from-phase/--to-phase. */
int
run_phase_in_range(const struct run *r, size_t i)
{
	int id = r->plan->phases[r->phases[i].index].id;

	return !((r->opts.from_phase >= 0 && id < r->opts.from_phase) ||
	    (r->opts.to_phase >= 0 && id > r->opts.to_phase));
}

/* Start the first phase. */
void
sched_start(struct run *r)
{
	r->current = 0;
	sched_next_phase(r);
}

/* The grace period is over: interrupt what still runs. */
static void
sched_grace_cb(uv_timer_t *h)
{
	struct run *r = h->data;
	struct run_phase *ph;
	size_t i;

	if (r->current >= r->nphases)
		return;
	ph = &r->phases[r->current];
	for (i = 0; i < ph->ntasks; i++)
		task_cancel(&ph->tasks[i], "interrupted: hostswap was stopped");
}

/*
 * Stop gracefully (SIGINT, SIGTERM): start nothing new; running tasks get
 * the grace period, then are interrupted; the run ends `interrupted`.
 */
void
sched_stop(struct run *r)
{
	struct run_phase *ph;
	size_t i;
	int busy = 0;

	if (r->stopping) {
		sched_grace_cb(&r->grace);
		return;
	}
	r->stopping = 1;
	if (r->current >= r->nphases)
		return;
	ph = &r->phases[r->current];
	for (i = 0; i < ph->ntasks; i++) {
		if (ph->tasks[i].state == TASK_RUNNING)
			busy = 1;
		if (ph->tasks[i].state == TASK_WAITING)
			task_cancel(&ph->tasks[i], "interrupted while waiting");
	}
	if (busy)
		uv_timer_start(&r->grace, sched_grace_cb, r->opts.grace_ms, 0);
	else if (r->state == RUN_RUNNING && ph->state == PHASE_RUNNING)
		sched_task_ended(&ph->tasks[0]);
}
