/*
 * resume.c: takes up a run that the state file says is unfinished, without
 * guessing (SPEC §4).
 *
 * The run goes on with its first phase that has not succeeded. A task of
 * that phase that succeeded or was skipped never runs again; a failed one
 * runs again. A task that was running when hostswap went away (or was
 * interrupted by a stop) may have gone on without it, so its outcome is
 * learnt from its record on the host, never assumed:
 *
 *   - the record holds an exit status  -> that is the outcome, except
 *     129 and 141 (a command killed by SIGHUP or SIGPIPE, what the lost
 *     connection does to a script that prints: read as a signal);
 *   - the process group still lives    -> wait for it, within its timeout;
 *   - killed by a signal, no status and no live process, or no record at
 *     all (the intent was committed, the command never sent) -> the task
 *     is `interrupted`: run again if the step is idempotent.
 *
 * While an interrupted task that is not idempotent is undecided, the
 * resume runs nothing: the run ends `waiting` (exit 3) and names the task
 * and the `hostswap mark` command that decides it. A detach is seen
 * through by its waiter (which reads the record on the machine that ran
 * it, under the post-swap identity in the swap phase); a reboot compares
 * the boot id committed before it was sent with the host's, and is never
 * sent to a host that has rebooted since (waiter.c). A failed reboot runs
 * again like any failed task — its new attempt asks the boot id first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "observe.h"
#include "plan.h"
#include "remote.h"
#include "resume.h"
#include "run.h"
#include "scheduler.h"
#include "task.h"
#include "waiter.h"
#include "wrapper.h"
#include "xmalloc.h"

struct resume {
	struct run *run;
	size_t phase; /* index of the phase that goes on */
	int left;     /* record probes under way */
};

struct resume_probe {
	struct resume *rs;
	struct run_task *t;
	struct buf out;
};

/* The phase id of a task. */
static int
resume_phase_id(const struct run_task *t)
{
	return t->phase->run->plan->phases[t->phase->index].id;
}

/*
 * An interrupted task: pending again if idempotent, else left for the
 * operator (undecided). Returns 1 when it is undecided.
 */
static int
resume_interrupted(struct run_task *t, const char *why)
{
	struct run *r = t->phase->run;

	if (t->step->idempotent) {
		run_note(r,
		    "%d/%s on %s was interrupted (%s); it is "
		    "idempotent: running it again",
		    resume_phase_id(t), t->step->id, t->host, why);
		t->state = TASK_PENDING;
		observe_task(t, OBSERVE_TASK_RECORDED);
		return 0;
	}
	task_set_state(t, TASK_INTERRUPTED, "%s", why);
	return 1;
}

/* Every probe answered: decide, then go on with the phase (or wait). */
static void
resume_decide(struct resume *rs)
{
	struct run *r = rs->run;
	size_t i, undecided = 0, phase = rs->phase;
	struct run_phase *ph = &r->phases[phase];

	for (i = 0; i < ph->ntasks; i++) {
		if (ph->tasks[i].state != TASK_INTERRUPTED)
			continue;
		undecided++;
		sched_ask(&ph->tasks[i]);
	}
	if (undecided > 0) {
		free(rs);
		sched_finish(r, RUN_WAITING);
		return;
	}
	/* Tasks still under way on their hosts are watched, not re-run. */
	for (i = 0; i < ph->ntasks; i++) {
		struct run_task *t = &ph->tasks[i];

		if (t->state != TASK_RUNNING)
			continue;
		run_note(r,
		    "%d/%s on %s is still under way on the host: "
		    "waiting for it",
		    resume_phase_id(t), t->step->id, t->host);
		observe_task(t, OBSERVE_TASK_RECORDED);
		task_watch(t);
	}
	free(rs);
	sched_resume_phase(r, phase);
}

/*
 * A watched task turned out never to have started, or to have died
 * (its waiter saw the record): run it again if idempotent, else leave it
 * interrupted for the operator (the barrier then ends the run waiting).
 */
void
resume_lost(struct run_task *t, const char *why)
{
	waiter_cancel(t);
	if (resume_interrupted(t, why) == 0)
		task_start(t);
}

/* A probe is over. */
static void
resume_probe_done(struct resume *rs)
{
	if (--rs->left == 0)
		resume_decide(rs);
}

/* A record probe answered: "status S signal X", running, dead or none. */
static void
resume_probe_cb(void *arg, const struct remote_result *res)
{
	struct resume_probe *p = arg;
	struct run_task *t = p->t;
	const char *out = p->out.data ? p->out.data : "";
	char sig[32] = "", why[512];
	int status = -1;

	if (res->error != NULL || res->exit_status != 0) {
		snprintf(why, sizeof why, "cannot read its record on %s: %s",
		    t->host, res->error ? res->error : "the probe failed");
		resume_interrupted(t, why);
	} else if (strncmp(out, "status ", 7) == 0 &&
	    sscanf(out, "status %d signal %31s", &status, sig) >= 1) {
		t->exit_code = sig[0] != '\0' ? -1 : status;
		output_add(&t->out, &t->phase->run->secrets,
		    "(ended while hostswap was away: its output was not "
		    "seen)\n",
		    58, 0);
		t->output_lost = 1;
		if (sig[0] != '\0') {
			snprintf(why, sizeof why,
			    "killed by signal %s while hostswap was away", sig);
			resume_interrupted(t, why);
		} else if ((status == 129 || status == 141) &&
		    !run_task_expected_exit(t, status)) {
			/* A command of the script died of SIGHUP or SIGPIPE
			 * (128 + 1, 128 + 13) and errexit passed its status
			 * on: what a lost connection does to a script that
			 * prints. The script did not fail by itself. */
			snprintf(why, sizeof why,
			    "exit status %d while hostswap was away: a command "
			    "died of SIG%s when the connection went",
			    status, status == 129 ? "HUP" : "PIPE");
			resume_interrupted(t, why);
		} else if (!run_task_expected_exit(t, status))
			task_set_state(t, TASK_FAILED,
			    "exit status %d (while hostswap was away)", status);
		else if (t->step->capture != NULL)
			resume_interrupted(t,
			    "it ended while hostswap was away, and the "
			    "output it captures is lost");
		else {
			run_note(t->phase->run,
			    "%d/%s on %s ended while hostswap was away: "
			    "exit status %d",
			    resume_phase_id(t), t->step->id, t->host, status);
			task_set_state(t, TASK_SUCCEEDED, NULL);
		}
	} else if (strncmp(out, "running", 7) == 0) {
		t->state = TASK_RUNNING; /* watched in resume_decide() */
	} else if (strncmp(out, "dead", 4) == 0) {
		resume_interrupted(t,
		    "its record has no exit status and its processes are "
		    "gone");
	} else {
		resume_interrupted(
		    t, "no record on the host: it never started");
	}
	buf_free(&p->out);
	resume_probe_done(p->rs);
	free(p);
}

/* Output of a probe. */
static void
resume_probe_output_cb(void *arg, const char *data, size_t len, int is_stderr)
{
	struct resume_probe *p = arg;

	if (!is_stderr)
		buf_add(&p->out, data, len);
}

static const struct remote_job_cb resume_probe_jcb = { resume_probe_output_cb,
	resume_probe_cb, NULL };

/* Ask the host how a task's attempt ended. */
static void
resume_probe(struct resume *rs, struct run_task *t)
{
	struct resume_probe *p = xcalloc(1, sizeof *p);
	char *script = wrapper_probe_script(t->record);

	p->rs = rs;
	p->t = t;
	buf_init(&p->out);
	rs->left++;
	run_host_exec(t->rh, script, 0, &resume_probe_jcb, p);
	free(script);
}

/* What a task of the phase that goes on must do now. */
static void
resume_task(struct resume *rs, struct run_task *t)
{
	t->base_attempt = t->attempt;
	switch (t->state) {
	case TASK_SUCCEEDED:
	case TASK_SKIPPED:
	case TASK_PENDING:
		return;
	case TASK_FAILED:
		run_note(rs->run, "%d/%s on %s failed: running it again",
		    resume_phase_id(t), t->step->id, t->host);
		t->state = TASK_PENDING;
		observe_task(t, OBSERVE_TASK_RECORDED);
		return;
	case TASK_WAITING:
		t->state = TASK_PENDING;
		observe_task(t, OBSERVE_TASK_RECORDED);
		return;
	default:
		break;
	}
	/* Running or interrupted: what did it do while we were away? */
	if (t->attempt == 0 || t->record == NULL) {
		resume_interrupted(t, "it never started");
		return;
	}
	if (t->rh == NULL) {
		resume_interrupted(
		    t, "it ran on the controller, which went away");
		return;
	}
	switch (t->step->kind) {
	case STEP_MANUAL:
	case STEP_WAIT:
		t->state = TASK_PENDING;
		return;
	case STEP_REBOOT:
		if (t->note == NULL) {
			/* A reboot is sent only once its boot id is
			 * committed: none is, so none was sent. */
			run_note(rs->run,
			    "%d/%s on %s: no boot id was committed, so no "
			    "reboot was sent: running it again",
			    resume_phase_id(t), t->step->id, t->host);
			t->state = TASK_PENDING;
			observe_task(t, OBSERVE_TASK_RECORDED);
			return;
		}
		/* The waiter asks the host's boot id before anything is
		 * sent: rebooted since, sent and awaited, or never sent. */
		t->state = TASK_RUNNING;
		return;
	case STEP_DETACH:
		t->state = TASK_RUNNING; /* the waiter reads its record */
		return;
	default:
		resume_probe(rs, t);
		return;
	}
}

/* Take the run up again: find the phase that goes on, learn, decide. */
void
resume_start(struct run *r)
{
	struct resume *rs;
	struct run_phase *ph;
	size_t i;

	for (i = 0; i < r->nphases; i++) {
		ph = &r->phases[i];
		if (ph->state != PHASE_SUCCEEDED && ph->state != PHASE_SKIPPED)
			break;
	}
	if (i == r->nphases || !run_phase_in_range(r, i)) {
		/* Nothing in range is left but perhaps skipped phases and
		 * the clean-up of the records. */
		r->current = i;
		sched_continue(r);
		return;
	}
	rs = xcalloc(1, sizeof *rs);
	rs->run = r;
	rs->phase = i;
	r->current = i;
	/* The barrier stays shut until every outcome is known. */
	ph->state = PHASE_PENDING;
	rs->left = 1;
	for (i = 0; i < ph->ntasks; i++)
		resume_task(rs, &ph->tasks[i]);
	resume_probe_done(rs);
}
