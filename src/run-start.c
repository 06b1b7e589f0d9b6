/*
 * run-start.c: a run's start and its end. Before anything runs: every
 * host the run uses gets its record directories checked, signals are
 * caught (SIGINT, SIGTERM stop gracefully), and the host-key gate holds
 * the run until every key it needs is known; then the scheduler starts
 * (run_start) or a resume takes the run up (run_start_resumed). At the
 * end, run_free() frees it with its tasks, sessions and handles.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hostkey.h"
#include "observe.h"
#include "plan.h"
#include "probe.h"
#include "remote.h"
#include "resume.h"
#include "run-start.h"
#include "run.h"
#include "scheduler.h"
#include "secret.h"
#include "sudo-gate.h"
#include "task.h"
#include "wrapper.h"
#include "xmalloc.h"

/* Signals: SIGINT and SIGTERM stop gracefully; SIGHUP is ignored. */
static void
run_signal_cb(uv_signal_t *h, int signum)
{
	struct run *r = h->data;

	if (signum == SIGHUP)
		return;
	run_note(r, "%s: stopping; running tasks get %u s to end",
	    signum == SIGINT ? "SIGINT" : "SIGTERM", r->opts.grace_ms / 1000);
	sched_stop(r);
}

/* The check of a host's record directories, and what it said. */
struct run_prepare {
	struct run_host *rh;
	struct remote *remote; /* the session it ran on */
	struct buf out;
};

/* Output of the check. */
static void
run_prepare_output_cb(void *arg, const char *data, size_t len, int is_stderr)
{
	struct run_prepare *p = arg;

	if (!is_stderr && p->out.len < 4096)
		buf_add(&p->out, data, len);
}

/*
 * The check ended: if every directory passed, later tasks on the same
 * session (the same machine) check them with built-ins only.
 */
static void
run_prepare_done_cb(void *arg, const struct remote_result *res)
{
	struct run_prepare *p = arg;

	if (res->error == NULL && res->exit_status == 0 &&
	    p->out.data != NULL && strstr(p->out.data, WRAPPER_PREPARED) &&
	    p->rh->remote == p->remote)
		p->rh->records_verified = 1;
}

/* The check's job is freed. */
static void
run_prepare_release_cb(void *arg)
{
	struct run_prepare *p = arg;

	buf_free(&p->out);
	free(p);
}

static const struct remote_job_cb run_prepare_cb = { run_prepare_output_cb,
	run_prepare_done_cb, run_prepare_release_cb };

/*
 * Make and check the record base and the run's directory for each host
 * name a session serves, with one command, so that each task's wrapper
 * finds them and, once this said they passed, checks them without an exec
 * of its own (an exec per task costs more than a small command).
 */
static void
run_prepare_records(struct run *r, struct run_host *rh)
{
	struct run_prepare *p;
	const char **names = NULL;
	char *script;
	size_t i, j, k, n = 0;

	for (i = 0; i < r->nphases; i++)
		for (j = 0; j < r->phases[i].ntasks; j++) {
			const struct run_task *t = &r->phases[i].tasks[j];

			if (t->rh != rh)
				continue;
			for (k = 0; k < n && strcmp(names[k], t->host) != 0;
			     k++)
				;
			if (k < n)
				continue;
			names = xreallocarray(names, n + 1, sizeof *names);
			names[n++] = t->host;
		}
	if (n == 0)
		return;
	script = wrapper_prepare_script(r->uid, names, n);
	p = xcalloc(1, sizeof *p);
	p->rh = rh;
	p->remote = run_remote(rh);
	buf_init(&p->out);
	run_host_exec(rh, script, 0, &run_prepare_cb, p);
	free(script);
	free(names);
}

/* What a started run holds: the signals, the grace timer. */
static void
run_begin(struct run *r, void (*done)(struct run *))
{
	r->finished = done;
	/* The tasks tell the scheduler through these. */
	r->task_ended = sched_task_ended;
	r->control_done = sched_control_done;
	/* The waiter tells the task and the resume through these. */
	r->task_finish = task_finish;
	r->task_exec_detach = run_task_exec_detach;
	r->task_lost = resume_lost;
	uv_signal_init(r->loop, &r->sigint);
	uv_signal_init(r->loop, &r->sigterm);
	uv_signal_init(r->loop, &r->sighup);
	r->sigint.data = r->sigterm.data = r->sighup.data = r;
	uv_signal_start(&r->sigint, run_signal_cb, SIGINT);
	uv_signal_start(&r->sigterm, run_signal_cb, SIGTERM);
	uv_signal_start(&r->sighup, run_signal_cb, SIGHUP);
	uv_timer_init(r->loop, &r->grace);
	r->grace.data = r;
	r->handles = 4;
}

/* Whether a template holds ${hosts.NAME.host_key}. */
static int
run_text_mentions(const char *tmpl, const char *needle)
{
	return tmpl != NULL && strstr(tmpl, needle) != NULL;
}

/*
 * Whether the plan expands ${hosts.NAME.host_key} anywhere (a script, an
 * unless, a put, a manual text, a variable). For a swapped name the key
 * may be either machine's, so a mention of one swapped name counts for
 * both.
 */
static int
run_key_mentioned(const struct plan *p, const char *name)
{
	const struct step *st;
	char needle[512];
	size_t i, j, k;
	int n, swapped = plan_swapped_host(p, name);

	for (k = 0; k < (swapped != -1 ? 2 : 1); k++) {
		n = snprintf(needle, sizeof needle, "hosts.%s.host_key",
		    k == 0 ? name : p->swap_hosts[1 - swapped]);
		if (n < 0 || (size_t)n >= sizeof needle)
			continue;
		for (i = 0; i < p->nvars + p->inv->nvars; i++)
			if (run_text_mentions(i < p->nvars
				    ? p->vars[i].value
				    : p->inv->vars[i - p->nvars].value,
				needle))
				return 1;
		for (i = 0; i < p->nphases; i++)
			for (j = 0; j < p->phases[i].nsteps; j++) {
				st = &p->phases[i].steps[j];
				if (run_text_mentions(st->script, needle) ||
				    run_text_mentions(st->unless, needle) ||
				    run_text_mentions(st->manual, needle) ||
				    run_text_mentions(
					st->put.content, needle) ||
				    run_text_mentions(st->put.path, needle))
					return 1;
			}
	}
	return 0;
}

/* The key gate is open: the phases start (or the resume goes on). */
static void
run_gate_go_cb(void *arg)
{
	struct run *r = arg;
	void (*go)(struct run *) = r->gate_go;

	if (go == NULL)
		return; /* opened already */
	r->gate_go = NULL;
	if (r->stopping)
		sched_finish(r, r->aborted ? RUN_ABORTED : RUN_INTERRUPTED);
	else
		go(r);
}

/*
 * The key gate (SPEC v3 §3: a fingerprint pin is completed by the first
 * connection that presents the key). A step may expand
 * ${hosts.NAME.host_key} before its task's own connection exists, or for
 * a host no task of this run reaches: so before the first phase (or the
 * resume) the run connects every name the plan expands the key of whose
 * machine is known only by its fingerprint, and goes on once each key is
 * committed in full, or that connection failed. Preflight, when it runs,
 * has completed most keys already; then nothing waits.
 */
static void
run_gate_start(struct run *r, void (*go)(struct run *))
{
	const struct hostkey *k;
	struct run_host *rh;
	char msg[256];
	size_t i, n = 0;

	for (i = 0; i < r->nhosts && !r->opts.dry_run; i++) {
		rh = &r->hosts[i];
		k = run_expected_key(rh);
		if (k == NULL || hostkey_is_full(k) ||
		    !run_key_mentioned(r->plan, rh->host->name))
			continue;
		rh->key_gate = 1;
		run_remote(rh);
		n++;
	}
	if (n == 0) {
		go(r);
		return;
	}
	snprintf(msg, sizeof msg,
	    "connecting first to the %zu host%s whose pinned fingerprint "
	    "${hosts.NAME.host_key} needs as a key line",
	    n, n == 1 ? "" : "s");
	observe_note(r, msg, 0);
	r->gate_go = go;
	r->gate_open = run_gate_go_cb;
	run_gate_check(r);
}

/* Start the run; done is called once it has ended. */
void
run_start(struct run *r, void (*done)(struct run *))
{
	size_t i;

	run_begin(r, done);
	if (r->started_ms == 0)
		r->started_ms = run_now_ms();
	observe_run(r, OBSERVE_RUN_STARTED, r->state);
	/* Every host the tasks use connects at once, in parallel. */
	for (i = 0; i < r->nhosts && !r->opts.dry_run; i++)
		if (run_host_used(r, &r->hosts[i]))
			run_prepare_records(r, &r->hosts[i]);
	run_gate_start(r, sched_start);
}

/*
 * Take up a run from the state file (run_record_restore() filled it): the
 * outcomes of the tasks that were running are learnt from their records
 * first (resume.c), then the phase goes on.
 */
void
run_start_resumed(struct run *r, void (*done)(struct run *))
{
	run_begin(r, done);
	r->state = RUN_RUNNING;
	r->finished_ms = 0;
	observe_run(r, OBSERVE_RUN_RESUMED, r->state);
	run_gate_start(r, resume_start);
}

/* Free the run: what its tasks have under way first, then the run with
 * its sessions and handles (the loop then drains). */
void
run_free(struct run *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nphases; i++)
		for (j = 0; j < r->phases[i].ntasks; j++)
			task_release(&r->phases[i].tasks[j]);
	run_release(r);
}
