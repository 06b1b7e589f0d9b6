/*
 * waiter.c: detach, reboot and wait — the steps whose host goes away and
 * comes back. Each is a small state machine driven by a timer that polls
 * once a second within the step's timeout.
 *
 * A probe is a throw-away session to an address that expects one key. It
 * succeeds only when that key is presented: a refused connection, or the
 * old key seen for a moment while the two machines of a swap move, only
 * means "poll again"; no command is ever sent to a machine whose key is not
 * the expected one. At the timeout the step fails naming the host, the
 * address, the expected and the last-seen fingerprints.
 *
 * detach, in the swap phase, waits under the post-swap identity: the name
 * N that ran the script must answer with the other machine's key (then N
 * has moved), and the other name's address must answer with N's machine's
 * key — that session reads N's record, on the machine that ran it.
 * Elsewhere detach polls N's record over N's own (re)connected session.
 * reboot reads the boot id, reboots, and waits for a new boot id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plan.h"
#include "remote.h"
#include "run.h"
#include "store.h"
#include "waiter.h"
#include "wrapper.h"
#include "xmalloc.h"

/* How often a waiting step polls. */
#define WAITER_POLL_MS 1000

enum waiter_stage {
	W_START,          /* start the script / read the boot id */
	W_STARTING,       /* that job is under way */
	W_PROBE_SELF,     /* swap: N's address shows the other key */
	W_PROBE_OTHER,    /* swap: the other address shows N's key */
	W_RECORD,         /* read the record (detach) / boot id (reboot) */
	W_RECORD_RUNNING, /* that job is under way */
	W_REBOOT,         /* reboot: once the boot id is committed */
	W_CHECK,          /* resume, swap: did the script start at all? */
	W_CHECKING,       /* that job is under way */
	W_DONE,
};

struct waiter {
	struct run_task *task;
	enum waiter_stage stage;
	uv_timer_t *poll;
	struct remote *probe;
	struct remote_job *job;
	char *boot_id; /* reboot: before */
	char *last_error;
	char *last_seen;  /* fingerprint */
	struct buf reply; /* the job's stdout */
	struct buf reply_err;
	int swap; /* detach in the swap phase */
};

static void waiter_step(struct waiter *);

/* The host's name that the other machine of the swap answers to. */
static struct run_host *
waiter_other(struct run_task *t)
{
	struct run *r = t->phase->run;
	int i = plan_swapped_host(r->plan, t->host);

	return i == -1 ? NULL : run_host(r, r->plan->swap_hosts[1 - i]);
}

/* The poll timer fired. */
static void
waiter_poll_cb(uv_timer_t *h)
{
	waiter_step(h->data);
}

/* Note why the last poll did not succeed, for the timeout's message. */
static void
waiter_note(struct waiter *w, const char *error, const struct hostkey *seen)
{
	free(w->last_error);
	w->last_error = error ? xstrdup(error) : NULL;
	if (seen != NULL && seen->fingerprint != NULL) {
		free(w->last_seen);
		w->last_seen = xstrdup(seen->fingerprint);
	}
}

/* End the task (once) and stop polling. */
static void
waiter_end(struct waiter *w, int ok, const char *error)
{
	struct run_task *t = w->task;

	w->stage = W_DONE;
	uv_timer_stop(w->poll);
	if (w->probe != NULL) {
		remote_free(w->probe);
		w->probe = NULL;
	}
	task_finish(t, ok, error, w->reply.data);
}

/* Probe events: the expected machine answers, or not (yet). */
static void
waiter_probe_ready(struct remote *rem, void *arg)
{
	struct waiter *w = arg;

	(void)rem;
	remote_free(w->probe);
	w->probe = NULL;
	if (w->stage == W_PROBE_SELF) {
		run_host_mark_swapped(w->task->rh);
		w->stage = W_PROBE_OTHER;
	} else if (w->stage == W_PROBE_OTHER) {
		run_host_mark_swapped(waiter_other(w->task));
		w->stage = W_RECORD;
	}
	waiter_step(w);
}

static void
waiter_probe_failed(struct remote *rem, const char *error, void *arg)
{
	struct waiter *w = arg;

	waiter_note(w, error, remote_seen_key(rem));
	remote_free(w->probe);
	w->probe = NULL;
	uv_timer_start(w->poll, waiter_poll_cb, WAITER_POLL_MS, 0);
}

static const struct remote_events waiter_probe_events = { waiter_probe_ready,
	waiter_probe_failed, NULL };

/* Start a probe of address:port expecting key. */
static void
waiter_probe(struct waiter *w, const struct host *h, const struct hostkey *key)
{
	struct remote_cfg cfg;

	memset(&cfg, 0, sizeof cfg);
	cfg.name = h->name;
	cfg.address = h->address;
	cfg.port = h->port;
	cfg.user = h->user;
	cfg.identity = h->identity;
	cfg.max_channels = 1;
	cfg.expected = key;
	cfg.connect_timeout_ms = 5000;
	w->probe = remote_new(
	    w->task->phase->run->loop, &cfg, &waiter_probe_events, w);
	remote_connect(w->probe);
}

/* Job output. */
static void
waiter_output_cb(void *arg, const char *data, size_t len, int is_stderr)
{
	struct waiter *w = arg;

	buf_add(is_stderr ? &w->reply_err : &w->reply, data, len);
}

static void waiter_started_cb(void *, const struct remote_result *);
static const struct remote_job_cb waiter_started_jcb = { waiter_output_cb,
	waiter_started_cb, NULL };

/* The boot id is committed: reboot, detached so the channel can close. */
static void
waiter_reboot_go(void *arg)
{
	struct run_task *t = arg;
	struct waiter *w = t->waiter;

	if (w == NULL || w->stage != W_REBOOT)
		return;
	w->stage = W_STARTING;
	run_task_exec_plain(t,
	    "(sleep 1; reboot) </dev/null "
	    ">/dev/null 2>&1 &",
	    &waiter_started_jcb, w, &w->job);
}

/* The first job (start the script, or read the boot id) ended. */
static void
waiter_started_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	const struct step *st = t->step;
	char *nl;

	w->job = NULL;
	if (w->stage != W_STARTING)
		return;
	if (res->error != NULL || res->exit_status != 0) {
		char msg[1024];

		snprintf(msg, sizeof msg, "%s",
		    res->error              ? res->error
			: w->reply_err.data ? w->reply_err.data
					    : "could not start");
		if ((nl = strchr(msg, '\n')) != NULL)
			*nl = '\0';
		waiter_end(w, 0, msg);
		return;
	}
	if (st->kind == STEP_REBOOT && w->boot_id == NULL) {
		w->boot_id = xstrdup(w->reply.data ? w->reply.data : "");
		if ((nl = strchr(w->boot_id, '\n')) != NULL)
			*nl = '\0';
		buf_free(&w->reply);
		buf_free(&w->reply_err);
		/* A resume compares the boot id with this one: it is in
		 * the state file before the reboot is sent. */
		free(t->note);
		t->note = xstrdup(w->boot_id);
		store_task_note(t->phase->run->store, t, t->note);
		w->stage = W_REBOOT;
		run_after_commit(t->phase->run, waiter_reboot_go, t);
		return;
	}
	buf_free(&w->reply);
	buf_free(&w->reply_err);
	w->stage = w->swap ? W_PROBE_SELF : W_RECORD;
	uv_timer_start(
	    w->poll, waiter_poll_cb, st->kind == STEP_REBOOT ? 2000 : 200, 0);
}

/* The record (or boot id) was read. */
static void
waiter_record_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	const char *out = w->reply.data ? w->reply.data : "";
	char msg[256], *rest;
	int status = -1;
	char sig[32] = "";

	w->job = NULL;
	if (w->stage != W_RECORD_RUNNING)
		return;
	w->stage = W_RECORD;
	if (res->error != NULL || res->exit_status != 0) {
		/* Not back yet: the session failed (refused, or another key:
		 * nothing was sent) or the command did. */
		struct run_host *rh = w->swap ? waiter_other(t) : t->rh;

		waiter_note(w, res->error ? res->error : "not answering",
		    rh->remote ? remote_seen_key(rh->remote) : NULL);
		buf_free(&w->reply);
		buf_free(&w->reply_err);
		uv_timer_start(w->poll, waiter_poll_cb, WAITER_POLL_MS, 0);
		return;
	}
	if (t->step->kind == STEP_REBOOT || t->step->kind == STEP_WAIT) {
		if (t->step->kind == STEP_REBOOT &&
		    strncmp(out, w->boot_id, strlen(w->boot_id)) == 0) {
			waiter_note(w, "still the same boot id", NULL);
			buf_free(&w->reply);
			uv_timer_start(
			    w->poll, waiter_poll_cb, WAITER_POLL_MS, 0);
			return;
		}
		buf_free(&w->reply);
		waiter_end(w, 1, NULL);
		return;
	}
	/* detach: "status S signal [SIG]" then the script's output. */
	if (strncmp(out, "status ", 7) == 0) {
		char first[128];
		size_t n = strcspn(out, "\n");

		snprintf(
		    first, sizeof first, "%.*s", (int)(n < 127 ? n : 127), out);
		if (sscanf(first, "status %d signal %31s", &status, sig) < 1)
			status = -1;
		rest = strchr(out, '\n');
		if (rest != NULL)
			memmove(w->reply.data, rest + 1, strlen(rest + 1) + 1);
		else
			w->reply.data[0] = '\0';
		w->reply.len = strlen(w->reply.data);
		if (w->reply_err.len > 0)
			buf_add(&w->reply, w->reply_err.data, w->reply_err.len);
		t->exit_code = sig[0] != '\0' ? -1 : status;
		if (sig[0] != '\0') {
			snprintf(msg, sizeof msg, "killed by signal %s", sig);
			waiter_end(w, 0, msg);
		} else if (run_task_expected_exit(t, status))
			waiter_end(w, 1, NULL);
		else {
			snprintf(msg, sizeof msg, "exit status %d", status);
			waiter_end(w, 0, msg);
		}
		return;
	}
	if (strncmp(out, "dead", 4) == 0 && t->output_lost) {
		resume_lost(t,
		    "its record has no exit status and its processes are "
		    "gone");
		return;
	}
	if (strncmp(out, "none", 4) == 0 && t->output_lost) {
		resume_lost(t, "no record on the host: it never started");
		return;
	}
	if (strncmp(out, "dead", 4) == 0) {
		waiter_end(w, 0,
		    "the detached script died without an exit "
		    "status");
		return;
	}
	/* "running" (or "none" before it wrote its record): poll again. */
	buf_free(&w->reply);
	buf_free(&w->reply_err);
	uv_timer_start(w->poll, waiter_poll_cb, WAITER_POLL_MS / 4, 0);
}

static const struct remote_job_cb waiter_record_jcb = { waiter_output_cb,
	waiter_record_cb, NULL };

/*
 * Resume, swap phase: the record as the pre-swap machine has it. No answer
 * under its key (it moved, or is moving): wait for the post-swap identity.
 */
static void
waiter_check_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	const char *out = w->reply.data ? w->reply.data : "";
	int status = -1;

	w->job = NULL;
	if (w->stage != W_CHECKING)
		return;
	if (res->error == NULL && res->exit_status == 0) {
		if (strncmp(out, "none", 4) == 0) {
			resume_lost(
			    t, "no record on the host: it never started");
			return;
		}
		if (strncmp(out, "dead", 4) == 0) {
			resume_lost(t,
			    "its record has no exit status and its processes "
			    "are gone");
			return;
		}
		if (sscanf(out, "status %d", &status) == 1 &&
		    !run_task_expected_exit(t, status)) {
			char msg[64];

			t->exit_code = status;
			snprintf(msg, sizeof msg, "exit status %d", status);
			waiter_end(w, 0, msg);
			return;
		}
	}
	buf_free(&w->reply);
	buf_free(&w->reply_err);
	w->stage = W_PROBE_SELF;
	uv_timer_start(w->poll, waiter_poll_cb, 200, 0);
}

static const struct remote_job_cb waiter_check_jcb = { waiter_output_cb,
	waiter_check_cb, NULL };

/* Advance the waiting step as far as it goes now. */
static void
waiter_step(struct waiter *w)
{
	struct run_task *t = w->task;
	struct run_host *other, *rh;
	char *cmd;

	switch (w->stage) {
	case W_START:
		w->stage = W_STARTING;
		if (t->step->kind == STEP_DETACH)
			run_task_exec_detach(
			    t, &waiter_started_jcb, w, &w->job);
		else if (t->step->kind == STEP_REBOOT)
			run_task_exec_plain(t,
			    "cat /proc/sys/kernel/random/"
			    "boot_id",
			    &waiter_started_jcb, w, &w->job);
		else {
			w->stage = W_RECORD;
			waiter_step(w);
		}
		return;
	case W_CHECK:
		/* Resume in the swap phase: while the name still answers
		 * with its own machine's key, that machine holds the record:
		 * a script that never started will never move anything. */
		if (t->rh->swapped) {
			w->stage = W_PROBE_SELF;
			waiter_step(w);
			return;
		}
		w->stage = W_CHECKING;
		cmd = wrapper_probe_script(t->record);
		w->job = run_host_exec(t->rh, cmd, 0, &waiter_check_jcb, w);
		free(cmd);
		return;
	case W_PROBE_SELF:
		/* The name's address must now show the other machine's key. */
		if (t->rh->swapped) {
			w->stage = W_PROBE_OTHER;
			waiter_step(w);
			return;
		}
		other = waiter_other(t);
		waiter_probe(w, t->rh->host, &other->machine_key);
		return;
	case W_PROBE_OTHER:
		other = waiter_other(t);
		if (other->swapped) {
			w->stage = W_RECORD;
			waiter_step(w);
			return;
		}
		waiter_probe(w, other->host, &t->rh->machine_key);
		return;
	case W_RECORD:
		/* The machine that ran the script: after a swap, the other
		 * name answers with it. */
		rh = w->swap ? waiter_other(t) : t->rh;
		w->stage = W_RECORD_RUNNING;
		if (t->step->kind != STEP_REBOOT && t->step->kind != STEP_WAIT)
			cmd = wrapper_probe_script(t->record);
		else if (t->step->kind == STEP_REBOOT)
			cmd = xstrdup("cat /proc/sys/kernel/random/boot_id");
		else
			cmd = xstrdup("true");
		w->job = run_host_exec(rh, cmd, 0, &waiter_record_jcb, w);
		free(cmd);
		return;
	default:
		return;
	}
}

/* Free a waiter's poll timer once closed. */
static void
waiter_timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* A waiter for a task; it is the task's until waiter_cancel(). */
static struct waiter *
waiter_new(struct run_task *t)
{
	struct run *r = t->phase->run;
	struct waiter *w = xcalloc(1, sizeof *w);
	struct run_host *other;

	w->task = t;
	buf_init(&w->reply);
	buf_init(&w->reply_err);
	w->poll = xcalloc(1, sizeof *w->poll);
	uv_timer_init(r->loop, w->poll);
	w->poll->data = w;
	other = waiter_other(t);
	w->swap = t->step->kind == STEP_DETACH && r->plan->has_swap &&
	    r->plan->phases[t->phase->index].id == r->plan->swap_after_phase &&
	    r->plan->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE &&
	    other != NULL && other->has_key && t->rh->has_key;
	t->waiter = w;
	return w;
}

/* Start a detach, reboot or wait step. */
void
waiter_start(struct run_task *t)
{
	waiter_step(waiter_new(t));
}

/*
 * Resume: see a task through that was under way when hostswap went away
 * — its script already started (a run, put or detach: its record tells
 * how it ends, read on the machine that ran it) or a reboot already sent
 * (its boot id before is in the state file).
 */
void
waiter_resume(struct run_task *t)
{
	struct waiter *w = waiter_new(t);

	if (t->step->kind == STEP_REBOOT)
		w->boot_id = xstrdup(t->note ? t->note : "");
	w->stage = w->swap ? W_CHECK : W_RECORD;
	waiter_step(w);
}

/*
 * Stop waiting (the task ended by its timeout, or the run stops). The
 * message for a timeout comes from here: what was last seen.
 */
void
waiter_cancel(struct run_task *t)
{
	struct waiter *w = t->waiter;

	if (w == NULL)
		return;
	t->waiter = NULL;
	if (w->job != NULL)
		remote_job_abandon(w->job);
	if (w->probe != NULL)
		remote_free(w->probe);
	uv_close((uv_handle_t *)w->poll, waiter_timer_closed_cb);
	buf_free(&w->reply);
	buf_free(&w->reply_err);
	free(w->boot_id);
	free(w->last_error);
	free(w->last_seen);
	free(w);
}

/* Why the waiting step has not succeeded yet, for a timeout's message. */
char *
waiter_describe(const struct run_task *t)
{
	const struct waiter *w = t->waiter;
	const struct hostkey *k;
	struct run_host *rh;
	char *s;

	if (w == NULL)
		return NULL;
	rh = t->rh;
	if (w->stage == W_PROBE_OTHER)
		rh = waiter_other((struct run_task *)t);
	k = w->stage == W_PROBE_SELF && waiter_other((struct run_task *)t)
	    ? &waiter_other((struct run_task *)t)->machine_key
	    : w->stage == W_PROBE_OTHER ? &t->rh->machine_key
					: run_expected_key(rh);
	xasprintf(&s,
	    "%s (%s:%d) did not answer as expected: expected key "
	    "%s, last seen %s%s%s",
	    rh->host->name, rh->host->address, rh->host->port,
	    k && k->fingerprint ? k->fingerprint : "unknown",
	    w->last_seen ? w->last_seen : "none",
	    w->last_error ? "; last error: " : "",
	    w->last_error ? w->last_error : "");
	return s;
}
