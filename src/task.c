/*
 * task.c: a task is one step on one host. task_set_state() is the one
 * place a task's state changes: it stamps times and reports the change
 * (and is where the state file will record it, before anything acts on
 * it). The rest runs one attempt: the `unless` check, then the step's
 * kind, under the attempt's limit (the step's timeout; a reboot's or
 * wait's own); a failed attempt is retried after retry_delay while retries
 * remain.
 *
 * A timeout ends what the attempt started on the host, never just the
 * channel to it (SPEC §3): the process group named in the record, killed
 * over a second channel. The script has its record; so has the `unless`
 * check (a record of its own beside the attempt's, see
 * task_unless_record()); a detach's detached shell writes its own group
 * into the attempt's record, which is found on the machine that ran it
 * (waiter_record_host()).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "captured.h"
#include "check.h"
#include "duration.h"
#include "local.h"
#include "observe.h"
#include "plan.h"
#include "step.h"
#include "probe.h"
#include "remote.h"
#include "run.h"
#include "scheduler.h"
#include "secret.h"
#include "store.h"
#include "task.h"
#include "waiter.h"
#include "wrapper.h"
#include "xmalloc.h"

static void task_attempt(struct run_task *);
static void task_attempt_failed(struct run_task *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether a state is final. */
int
task_state_final(enum task_state s)
{
	return s == TASK_SUCCEEDED || s == TASK_FAILED || s == TASK_SKIPPED ||
	    s == TASK_INTERRUPTED;
}

/* The one place a task changes state; error (printf-style) or NULL. */
void
task_set_state(struct run_task *t, enum task_state s, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		free(t->error);
		t->error = xstrdup(msg);
	}
	t->state = s;
	if (s == TASK_RUNNING && t->started_ms == 0)
		t->started_ms = run_now_ms();
	if (task_state_final(s))
		t->finished_ms = run_now_ms();
	observe_task(t, OBSERVE_TASK_CHANGED);
	if (task_state_final(s)) {
		if (t->timer != NULL)
			uv_timer_stop(t->timer);
		t->phase->run->task_ended(t);
	}
}

/* Output of the running job. */
static void
task_output_cb(void *arg, const char *data, size_t len, int is_stderr)
{
	struct run_task *t = arg;

	if (t->in_unless)
		return;
	output_add(&t->out, &t->phase->run->secrets, data, len, is_stderr);
}

/*
 * The captured value holds a secret's value: nothing of it is kept (not
 * the value, not the attempt's output), and the attempt fails naming the
 * secret, never its value.
 */
static void
task_capture_refused(struct run_task *t, char *v, const char *secret)
{
	static const char note[] =
	    "output not kept: the captured value would hold a secret\n";

	explicit_bzero(v, strlen(v));
	free(v);
	output_free(&t->out);
	output_init(&t->out, t->step->sensitive, 0);
	output_add(&t->out, NULL, note, sizeof note - 1, 0);
	task_attempt_failed(
	    t, "capture %s would hold secret %s", t->step->capture, secret);
}

/* The attempt succeeded. */
static void
task_succeeded(struct run_task *t)
{
	const char *secret;
	char *v;

	output_flush(&t->out, &t->phase->run->secrets);
	if (t->step->capture != NULL && t->output_lost) {
		/* Its output went to a controller that was gone. */
		task_set_state(t, TASK_INTERRUPTED,
		    "ended while hostswap was away: the output to capture "
		    "as '%s' is lost",
		    t->step->capture);
		return;
	}
	if (t->step->capture != NULL && output_capture_too_big(&t->out)) {
		task_attempt_failed(t,
		    "capture %s: its output is larger than "
		    "%d KiB",
		    t->step->capture, OUTPUT_CAPTURE / 1024);
		return;
	}
	if (t->step->capture != NULL) {
		v = output_captured(&t->out);
		if ((secret = secrets_find(&t->phase->run->secrets, v)) !=
		    NULL) {
			task_capture_refused(t, v, secret);
			return;
		}
		run_set_capture(t->phase->run, t->step->capture, t->host, v);
		if (!t->step->sensitive)
			store_capture(t->phase->run->store, t->phase->run->id,
			    t->step->capture, t->host, v);
		free(v);
	}
	task_set_state(t, TASK_SUCCEEDED, NULL);
}

/* The main job of an attempt ended. */
static void
task_done_cb(void *arg, const struct remote_result *res)
{
	struct run_task *t = arg;
	const char *unsafe;

	t->job = NULL;
	t->ljob = NULL;
	if (t->state != TASK_RUNNING || t->timed_out)
		return;
	if (res->error != NULL) {
		task_attempt_failed(t, "%s", res->error);
		return;
	}
	if (res->signal != NULL) {
		task_attempt_failed(t, "killed by signal %s", res->signal);
		return;
	}
	t->exit_code = res->exit_status;
	if (res->exit_status == WRAPPER_EXIT_RECORD &&
	    (unsafe = strstr(output_tail(&t->out), WRAPPER_UNSAFE)) != NULL) {
		/* The wrapper refused the record directory: nothing of the
		 * script ran. Its one line is the error. */
		task_attempt_failed(
		    t, "%.*s", (int)strcspn(unsafe, "\r\n"), unsafe);
		return;
	}
	if (!run_task_expected_exit(t, res->exit_status)) {
		task_attempt_failed(t, "exit status %d", res->exit_status);
		return;
	}
	task_succeeded(t);
}

static const struct remote_job_cb task_job_cb = { task_output_cb, task_done_cb,
	NULL };

/*
 * The record of an attempt's `unless` check: beside the attempt's own
 * (RUN_UID/HOST/PHASE-STEP-ATTEMPT.unless), never the same directory —
 * the step's wrapper must still find its own absent, and a resume reads
 * only the step's. A step id has no '.', so the name is no other record's.
 */
static char *
task_unless_record(const struct run_task *t)
{
	char *rec;

	xasprintf(&rec, "%s.unless", t->record);
	return rec;
}

/* Run a text under the wrapper, with that record, on the task's host (or
 * locally). */
static void
task_exec(struct run_task *t, enum wrapper_mode mode, const char *record,
    const char *text, const struct remote_job_cb *cb)
{
	struct remote_job *j;

	if (t->rh == NULL) {
		t->ljob =
		    local_run(t->phase->run->loop, text, strlen(text), cb, t);
		return;
	}
	/* NULL: the job already ended, and its callback has run (and may
	 * have started the next job of this task). */
	if ((j = run_host_start(t->rh, mode, record, text, 0, cb, t)) != NULL)
		t->job = j;
}

/* An unknown variable in a put, as the error of its attempt. */
static char *
task_put_unknown(char **err)
{
	char *msg;

	xasprintf(&msg, "cannot expand: unknown '%s'", *err ? *err : "?");
	free(*err);
	*err = msg;
	return NULL;
}

/* Build the script of a put: content from the plan or a controller file. */
static char *
task_put_script(struct run_task *t, char **err)
{
	const struct put_spec *ps = &t->step->put;
	struct run *r = t->phase->run;
	char *path, *content = NULL, *owner = NULL, *script, *full;

	if ((path = run_expand(r, t, ps->path, err)) == NULL)
		return task_put_unknown(err);
	if (ps->src != NULL) {
		if (ps->src[0] == '/')
			full = xstrdup(ps->src);
		else
			xasprintf(&full, "%s/%s", r->plan->dir, ps->src);
		if ((content = buf_read_file(full)) == NULL) {
			xasprintf(err, "cannot read %s", full);
			free(full);
			free(path);
			return NULL;
		}
		free(full);
	} else if ((content = run_expand(
			r, t, ps->content ? ps->content : "", err)) == NULL) {
		free(path);
		return task_put_unknown(err);
	}
	if (ps->owner != NULL &&
	    (owner = run_expand(r, t, ps->owner, err)) == NULL) {
		free(path);
		free(content);
		return task_put_unknown(err);
	}
	/* Content with a secret in it never takes its owner and mode from
	 * whatever file is found at the path (someone else may have put it
	 * there, in a directory they can write): the plan says them. */
	if ((!ps->has_mode || owner == NULL) &&
	    secrets_find(&r->secrets, content) != NULL) {
		xasprintf(err,
		    "put %s holds secret %s: give its owner and mode in the "
		    "plan",
		    path, secrets_find(&r->secrets, content));
		explicit_bzero(content, strlen(content));
		free(content);
		free(owner);
		free(path);
		return NULL;
	}
	script = wrapper_put_script(path, content, strlen(content),
	    ps->has_mode, ps->mode, owner, ps->backup, r->date);
	explicit_bzero(content, strlen(content));
	free(content);
	free(owner);
	free(path);
	return script;
}

/* A gate says so first: it is what the status page marks. */
static void
task_gate_line(struct run_task *t)
{
	char line[160];
	int n;

	n = snprintf(line, sizeof line,
	    "POINT OF NO RETURN: nothing else of phase %d starts before "
	    "this is approved.\n",
	    t->phase->run->plan->phases[t->phase->index].id);
	output_add(&t->out, &t->phase->run->secrets, line, (size_t)n, 0);
}

/*
 * A script of the plan (run, unless, detach; on a host or local), ready to
 * send: its captured values substituted as text only if they are text,
 * and the captures of earlier phases first, as HOSTSWAP_CAPTURED_*
 * variables on its first line (SPEC v3 §2). NULL with *err the message
 * that fails the attempt (allocated).
 */
static char *
task_script(struct run_task *t, const char *tmpl, char **err)
{
	struct run *r = t->phase->run;
	char *text, *pre, *full, *name = NULL;

	if (expand_captured_as_text(&r->env, tmpl, err) == -1)
		return NULL;
	if ((text = run_expand(r, t, tmpl, &name)) == NULL) {
		xasprintf(
		    err, "cannot expand: unknown '%s'", name ? name : "?");
		free(name);
		return NULL;
	}
	pre = captured_preamble(
	    r->plan, r->captures, r->ncaptures, t->phase->index);
	xasprintf(&full, "%s%s", pre, text);
	explicit_bzero(text, strlen(text));
	free(text);
	free(pre);
	return full;
}

/*
 * Whether the step's script or put may take its captured values as text:
 * asked before anything of the attempt runs, its `unless` included.
 */
static int
task_as_text(struct run_task *t, char **err)
{
	const struct put_spec *ps = &t->step->put;
	const struct expand_env *env = &t->phase->run->env;

	if (t->step->kind == STEP_RUN || t->step->kind == STEP_DETACH)
		return expand_captured_as_text(env, t->step->script, err);
	if (t->step->kind != STEP_PUT)
		return 0;
	if (expand_captured_as_text(env, ps->path, err) == -1)
		return -1;
	if (ps->src == NULL &&
	    expand_captured_as_text(env, ps->content, err) == -1)
		return -1;
	return expand_captured_as_text(env, ps->owner, err);
}

/* Start the step's own work (after `unless`, if any, said go). */
static void
task_main(struct run_task *t)
{
	const struct step *st = t->step;
	struct run *r = t->phase->run;
	char *text, *err = NULL;

	switch (st->kind) {
	case STEP_RUN:
	case STEP_PUT:
		text = st->kind == STEP_RUN ? task_script(t, st->script, &err)
					    : task_put_script(t, &err);
		if (text == NULL) {
			task_attempt_failed(t, "%s", err);
			free(err);
			return;
		}
		task_exec(t, WRAPPER_RUN, t->record, text, &task_job_cb);
		explicit_bzero(text, strlen(text));
		free(text);
		return;
	case STEP_MANUAL:
		if ((text = run_expand(r, t, st->manual, &err)) == NULL)
			break;
		if (st->gate)
			task_gate_line(t);
		if (r->opts.auto_approve) {
			output_add(&t->out, &r->secrets,
			    "auto-approved "
			    "(--auto-approve): ",
			    30, 0);
			output_add(&t->out, &r->secrets, text, strlen(text), 0);
			run_note(r, "auto-approved %d/%s: %s",
			    r->plan->phases[t->phase->index].id, st->id, text);
			free(text);
			task_succeeded(t);
			return;
		}
		run_note(r, "waiting for an operator: %d/%s: %s",
		    r->plan->phases[t->phase->index].id, st->id, text);
		/* The instructions are what the status page shows. */
		output_add(&t->out, &r->secrets, text, strlen(text), 0);
		output_flush(&t->out, &r->secrets);
		free(text);
		task_set_state(t, TASK_WAITING, NULL);
		t->phase->run->task_ended(t);
		return;
	case STEP_DETACH:
	case STEP_REBOOT:
	case STEP_WAIT:
		waiter_start(t);
		return;
	case STEP_HTTP:
	case STEP_SMTP:
	case STEP_POP3:
	case STEP_TCP:
		check_start(t, task_finish);
		return;
	default:
		task_attempt_failed(t,
		    "'%s' steps are not supported by this "
		    "version yet",
		    step_kind_name(st->kind));
		return;
	}
	task_attempt_failed(t, "cannot expand: unknown '%s'", err ? err : "?");
	free(err);
}

/* The `unless` check ended: exit 0 skips the step. */
static void
task_unless_done_cb(void *arg, const struct remote_result *res)
{
	struct run_task *t = arg;

	t->job = NULL;
	t->ljob = NULL;
	t->in_unless = 0;
	if (t->state != TASK_RUNNING || t->timed_out)
		return;
	if (res->error != NULL) {
		task_attempt_failed(t, "%s", res->error);
		return;
	}
	if (res->signal == NULL && res->exit_status == 0) {
		task_set_state(t, TASK_SKIPPED, NULL);
		return;
	}
	task_main(t);
}

static const struct remote_job_cb task_unless_cb = { task_output_cb,
	task_unless_done_cb, NULL };

/* Timer: the retry delay is over. */
static void
task_retry_cb(uv_timer_t *h)
{
	struct run_task *t = h->data;

	if (t->state == TASK_RUNNING && !t->phase->run->stopping)
		task_attempt(t);
	else if (t->state == TASK_RUNNING)
		task_set_state(t, TASK_FAILED, "stopped before attempt %d",
		    t->attempt + 1);
}

/* The kill sent after a timeout has run. */
static void
task_kill_done_cb(void *arg, const struct remote_result *res)
{
	struct run *r = arg;

	if (res->error != NULL || res->exit_status != 0)
		run_note(r,
		    "could not end a timed-out task's processes: "
		    "%s",
		    res->error ? res->error : "the kill command failed");
	r->control_done(r);
}

static const struct remote_job_cb task_kill_cb = { NULL, task_kill_done_cb,
	NULL };

/*
 * Send the kill of the process group that a record names over a second
 * channel, through the name whose machine holds the record. The run ends
 * only once it has run (sched_control_done).
 */
static void
task_kill(struct run_task *t, struct run_host *rh, const char *record)
{
	struct run *r = t->phase->run;
	char *script = wrapper_kill_script(record);

	r->control_jobs++;
	run_host_exec(rh, script, REMOTE_PRIORITY, &task_kill_cb, r);
	free(script);
}

/*
 * Let go of what the attempt waits for: its job on the host or the
 * controller, its check. Returns whether a job on the host was let go
 * (its process group may live on there).
 */
static int
task_abandon(struct run_task *t)
{
	int remote = t->job != NULL;

	if (t->job != NULL)
		remote_job_abandon(t->job);
	if (t->ljob != NULL)
		local_job_abandon(t->ljob);
	if (t->probe != NULL)
		probe_cancel(t->probe);
	t->job = NULL;
	t->ljob = NULL;
	t->probe = NULL;
	return remote;
}

/* Timer: the attempt took longer than its limit. */
static void
task_timeout_cb(uv_timer_t *h)
{
	struct run_task *t = h->data;
	unsigned long long secs =
	    (step_attempt_timeout_ms(t->step) + 999) / 1000;
	struct run_host *at;
	char *rec;

	if (t->state != TASK_RUNNING)
		return;
	t->timed_out = 1;
	if (t->waiter != NULL) {
		char *why = waiter_describe(t);

		/* A detach's script runs on, detached from every channel:
		 * end its group where its record is (NULL: reboot, wait). */
		at = waiter_record_host(t);
		waiter_cancel(t);
		if (at != NULL)
			task_kill(t, at, t->record);
		task_attempt_failed(t, "timed out after %llu s: %s", secs, why);
		free(why);
		return;
	}
	if (task_abandon(t)) {
		/* A second channel ends the whole process group: the step's,
		 * or its `unless` check's. */
		rec = t->in_unless ? task_unless_record(t) : xstrdup(t->record);
		task_kill(t, t->rh, rec);
		free(rec);
	}
	t->in_unless = 0;
	task_attempt_failed(t, "timed out after %llu s", secs);
}

/* An attempt failed: retry after the delay, or fail the task. */
static void
task_attempt_failed(struct run_task *t, const char *fmt, ...)
{
	char msg[2048], delay[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	output_flush(&t->out, &t->phase->run->secrets);
	if (t->attempt - t->base_attempt <= t->step->retries &&
	    !t->phase->run->stopping) {
		/* The failed attempt is kept, with its output and error. */
		free(t->error);
		t->error = xstrdup(msg);
		t->finished_ms = run_now_ms();
		observe_task(t, OBSERVE_TASK_RETRIED);
		duration_format(t->step->retry_delay_ms, delay, sizeof delay);
		run_note(t->phase->run,
		    "%d/%s on %s: attempt %d failed "
		    "(%s); retrying in %s",
		    t->phase->run->plan->phases[t->phase->index].id,
		    t->step->id, t->host, t->attempt, msg, delay);
		uv_timer_stop(t->timer);
		uv_timer_start(
		    t->timer, task_retry_cb, t->step->retry_delay_ms, 0);
		return;
	}
	task_set_state(t, TASK_FAILED, "%s", msg);
}

/*
 * The attempt's intent is in the state file: start it — the timeout,
 * `unless`, then the step. Nothing if the task ended meanwhile (a stop).
 */
static void
task_attempt_go(void *arg)
{
	struct run_task *t = arg;
	char *text, *rec, *err = NULL;

	if (t->state != TASK_RUNNING || t->job != NULL || t->ljob != NULL ||
	    t->waiter != NULL || t->probe != NULL)
		return;
	uv_timer_stop(t->timer);
	uv_timer_start(
	    t->timer, task_timeout_cb, step_attempt_timeout_ms(t->step), 0);
	if (task_as_text(t, &err) == -1) {
		task_attempt_failed(t, "%s", err);
		free(err);
		return;
	}
	if (t->step->unless != NULL) {
		if ((text = task_script(t, t->step->unless, &err)) == NULL) {
			task_attempt_failed(t, "'unless': %s", err);
			free(err);
			return;
		}
		/* Under a record of its own, so that a timeout can end
		 * its process group as it ends a script's. */
		rec = task_unless_record(t);
		t->in_unless = 1;
		task_exec(t, WRAPPER_RUN, rec, text, &task_unless_cb);
		explicit_bzero(text, strlen(text));
		free(text);
		free(rec);
		return;
	}
	task_main(t);
}

/*
 * One attempt: a new record and attempt number, committed to the state
 * file before anything is sent (intent before action); task_attempt_go()
 * then starts it.
 */
static void
task_attempt(struct run_task *t)
{
	struct run *r = t->phase->run;

	t->attempt++;
	t->timed_out = 0;
	t->in_unless = 0;
	t->exit_code = -1;
	t->output_lost = 0;
	free(t->record);
	t->record = wrapper_record_dir(r->uid, t->host,
	    r->plan->phases[t->phase->index].id, t->step->id, t->attempt);
	output_free(&t->out);
	output_init(&t->out, t->step->sensitive, t->step->capture != NULL);
	task_set_state(t, TASK_RUNNING, NULL);
	run_after_commit(r, task_attempt_go, t);
}

/* Run a control text on the task's host (the waiter's boot id, reboot). */
void
run_task_exec_plain(struct run_task *t, const char *text,
    const struct remote_job_cb *cb, void *arg, struct remote_job **job)
{
	*job = run_host_exec(t->rh, text, 0, cb, arg);
}

/* Start the task's script detached (a detach step). */
void
run_task_exec_detach(struct run_task *t, const struct remote_job_cb *cb,
    void *arg, struct remote_job **job)
{
	char *text, *err = NULL;

	*job = NULL;
	if ((text = task_script(t, t->step->script, &err)) == NULL) {
		task_finish(t, 0, err, NULL);
		free(err);
		return;
	}
	*job =
	    run_host_start(t->rh, WRAPPER_DETACH, t->record, text, 0, cb, arg);
	explicit_bzero(text, strlen(text));
	free(text);
}

/*
 * A waiting step ended: keep its output and succeed, or fail the attempt
 * (which may retry).
 */
void
task_finish(struct run_task *t, int ok, const char *error, const char *output)
{
	if (output != NULL && *output != '\0')
		output_add(&t->out, &t->phase->run->secrets, output,
		    strlen(output), 0);
	waiter_cancel(t);
	if (t->state != TASK_RUNNING)
		return;
	if (ok)
		task_succeeded(t);
	else
		task_attempt_failed(t, "%s", error ? error : "failed");
}

/* The task's timer (timeout, then retry delay), made on first use. */
static void
task_make_timer(struct run_task *t)
{
	if (t->timer != NULL)
		return;
	t->timer = xcalloc(1, sizeof *t->timer);
	uv_timer_init(t->phase->run->loop, t->timer);
	t->timer->data = t;
}

/* An operator approved a waiting manual step. */
void
task_approve(struct run_task *t)
{
	struct run *r = t->phase->run;

	if (t->state != TASK_WAITING)
		return;
	run_note(r, "%d/%s approved by the operator",
	    r->plan->phases[t->phase->index].id, t->step->id);
	output_add(&t->out, &r->secrets, "approved by operator\n", 21, 0);
	t->state = TASK_RUNNING;
	task_succeeded(t);
}

/* An operator rejected a waiting manual step: it fails, and the run. */
void
task_reject(struct run_task *t)
{
	struct run *r = t->phase->run;

	if (t->state != TASK_WAITING)
		return;
	run_note(r, "%d/%s rejected by the operator",
	    r->plan->phases[t->phase->index].id, t->step->id);
	task_set_state(t, TASK_FAILED, "rejected by operator");
}

/* Start a pending task. */
void
task_start(struct run_task *t)
{
	if (t->state != TASK_PENDING)
		return;
	task_make_timer(t);
	task_attempt(t);
}

/*
 * Resume: the task was running when hostswap went away and its record
 * says it still runs (or a detach or reboot waits to be seen through):
 * wait for it within what is left of its timeout. A reboot's wait starts
 * again in full: the controller may have been gone for longer than it,
 * and the host is asked before anything is sent (waiter.c), so waiting
 * costs nothing but time. Its output went to the controller that was
 * gone.
 */
void
task_watch(struct run_task *t)
{
	uint64_t now = run_now_ms(), left = step_attempt_timeout_ms(t->step);

	task_make_timer(t);
	if (t->step->kind != STEP_REBOOT && t->started_ms != 0 &&
	    now > t->started_ms)
		left = now - t->started_ms >= left
		    ? 1000
		    : left - (now - t->started_ms);
	t->state = TASK_RUNNING;
	t->output_lost = 1;
	output_free(&t->out);
	output_init(&t->out, t->step->sensitive, t->step->capture != NULL);
	uv_timer_stop(t->timer);
	uv_timer_start(t->timer, task_timeout_cb, left, 0);
	waiter_resume(t);
}

/* Stop a running task now: its job is abandoned; it ends interrupted. */
void
task_cancel(struct run_task *t, const char *why)
{
	if (t->state != TASK_RUNNING && t->state != TASK_WAITING)
		return;
	waiter_cancel(t);
	task_abandon(t);
	task_set_state(t, TASK_INTERRUPTED, "%s", why);
}

/* Free the timer once closed. */
static void
task_timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* Let go of what a task has under way (its job, waiter, timer) before
 * the run frees it. */
void
task_release(struct run_task *t)
{
	waiter_cancel(t);
	task_abandon(t);
	if (t->timer != NULL)
		uv_close((uv_handle_t *)t->timer, task_timer_closed_cb);
	t->timer = NULL;
}
