/*
 * waiter.c: detach, reboot and wait — the steps whose host goes away and
 * comes back. Each is a small state machine driven by a timer that polls
 * once a second within the attempt's limit (the step's timeout for a
 * detach; a reboot's or wait's own timeout, task.c). While a rebooting or
 * awaited host is away its sshd port is watched as well (knock.c): the
 * login is tried the moment it listens again, not at the next poll.
 *
 * A probe is a throw-away session to an address that expects one key. It
 * succeeds only when that key is presented: a refused connection, or the
 * old key seen for a moment while the two machines of a swap move, only
 * means "poll again"; no command is ever sent to a machine whose key is not
 * the expected one. At the timeout the step fails naming the host, the
 * address, the expected and the last-seen fingerprints.
 *
 * Where a detach's record is read. It is on the machine that ran the
 * script, wherever that machine answers now. Elsewhere than in the swap
 * phase that is the task's own name, over its own (re)connected session.
 * In the swap phase (the detach that moves the addresses) the machine
 * that ran it ends up at the other name's address:
 *
 *   - host_keys: follow_machine — each machine keeps its key, so the key
 *     says which machine answers: the name N that ran the script must
 *     answer with the other machine's key (then N has moved), and the
 *     other name's address must answer with N's machine's key — that
 *     session reads N's record.
 *   - host_keys: follow_address — each address keeps its key (the
 *     machines swap their host keys too), so a key says nothing about the
 *     machine behind it. The record itself does: RUN_UID/N/... exists only
 *     on the machine that ran N's script. It is looked for through N and
 *     through the other name in turn, each under the key expected at its
 *     address; a name that answers "none" reaches the other machine (or
 *     the record is not written yet). Found through the other name, that
 *     name has moved: the swap is recorded for it.
 *
 * A reboot never reboots a host twice (SPEC v3 §3, §4). Its boot id, and
 * the attempt that read it, are committed to the state (the task's note,
 * "BOOT_ID ATTEMPT") before the reboot is sent, and the reboot is sent
 * under the wrapper with the attempt's record, so the host itself says
 * whether it was. Every attempt and every resume first reads the host's
 * boot id (waiting for the host while it is away, when a reboot may be
 * under way):
 *
 *   - another boot id than the committed one: the host has rebooted since;
 *     the step succeeds and nothing is sent;
 *   - the same, and this attempt committed it (a resume, or a reboot
 *     command whose channel failed): the attempt's record says whether the
 *     reboot was sent — then only its new boot id is awaited — or never
 *     left the controller — then it is sent now;
 *   - the same, committed by an earlier attempt (a retry, or a resume of a
 *     failed task): that reboot did not take effect within its timeout;
 *     the boot id is committed again and the reboot sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "knock.h"
#include "plan.h"
#include "remote.h"
#include "run.h"
#include "store.h"
#include "waiter.h"
#include "wrapper.h"
#include "xmalloc.h"

/* How often a waiting step polls. */
#define WAITER_POLL_MS 1000

/* What reads a host's boot id, and what reboots it (detached from the
 * channel, so that the channel ends before the host goes down). */
#define WAITER_BOOT_ID "cat /proc/sys/kernel/random/boot_id"
#define WAITER_REBOOT  "(sleep 1; reboot) </dev/null >/dev/null 2>&1 &"

enum waiter_stage {
	W_START,          /* start the script (detach) */
	W_STARTING,       /* that job, or the reboot command, is under way */
	W_PROBE_SELF,     /* swap: N's address shows the other key */
	W_PROBE_OTHER,    /* swap: the other address shows N's key */
	W_RECORD,         /* read the record / the new boot id / `true` */
	W_RECORD_RUNNING, /* that job is under way */
	W_BOOT,           /* reboot: read the boot id before sending anything */
	W_BOOT_RUNNING,   /* that job is under way */
	W_SENT,           /* reboot: did this attempt's reboot leave? */
	W_SENT_RUNNING,   /* that job is under way */
	W_REBOOT,         /* reboot: once the boot id is committed */
	W_CHECK,          /* resume, swap: did the script start at all? */
	W_CHECKING,       /* that job is under way */
	W_DONE,
};

struct waiter {
	struct run_task *task;
	enum waiter_stage stage;
	uv_timer_t *poll;
	struct knock *knock; /* reboot, wait: the host's sshd watched */
	struct remote *probe;
	struct remote_job *job;
	char *boot_id;    /* reboot: the committed boot id, or NULL */
	int boot_attempt; /* the attempt that committed it; 0: unknown */
	char *last_error;
	char *last_seen;  /* fingerprint */
	struct buf reply; /* the job's stdout */
	struct buf reply_err;
	int swap;               /* detach in the swap phase, follow_machine */
	int search;             /* detach in the swap phase, follow_address */
	struct run_host *at;    /* search: the name asked now */
	struct run_host *found; /* detach: the name its record was read at */
	unsigned none;          /* search: names that said "none" (bits) */
	int running;            /* detach: its record last said "running" */
};

static void waiter_step(struct waiter *);

/* The host's name that the other machine of the swap answers to. */
static struct run_host *
waiter_other(const struct run_task *t)
{
	struct run *r = t->phase->run;
	int i = plan_swapped_host(r->plan, t->host);

	return i == -1 ? NULL : run_host(r, r->plan->swap_hosts[1 - i]);
}

/* The phase id of the task. */
static int
waiter_phase_id(const struct run_task *t)
{
	return t->phase->run->plan->phases[t->phase->index].id;
}

/* The poll timer fired. */
static void
waiter_poll_cb(uv_timer_t *h)
{
	struct waiter *w = h->data;

	knock_stop(w->knock);
	w->knock = NULL;
	waiter_step(w);
}

/* Go to a stage after a delay (0: at the next loop iteration). */
static void
waiter_later(struct waiter *w, enum waiter_stage stage, uint64_t ms)
{
	w->stage = stage;
	uv_timer_stop(w->poll);
	uv_timer_start(w->poll, waiter_poll_cb, ms, 0);
}

/* The host's sshd listens again after it was away: log in now. */
static void
waiter_knock_back(void *arg)
{
	struct waiter *w = arg;

	waiter_later(w, w->stage, 0);
}

/*
 * Reboot and wait: go to a stage after ms, or as soon as the host's sshd
 * listens again after it was seen away (knock.c) — a rebooted host is
 * noticed within a tenth of a second of answering, not up to a second
 * later. Through a bastion the host's port is not the controller's to
 * knock: the poll alone.
 */
static void
waiter_await(struct waiter *w, enum waiter_stage stage, uint64_t ms)
{
	const struct host *h = w->task->rh->host;

	waiter_later(w, stage, ms);
	knock_stop(w->knock);
	w->knock = h->bastion != NULL
	    ? NULL
	    : knock_watch(w->task->phase->run->loop, h->address, h->port,
		  waiter_knock_back, w);
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

/* Forget a job's output. */
static void
waiter_reply_free(struct waiter *w)
{
	buf_free(&w->reply);
	buf_free(&w->reply_err);
}

/* End the task (once) and stop polling; w is gone afterwards. */
static void
waiter_end(struct waiter *w, int ok, const char *error)
{
	struct run_task *t = w->task;

	w->stage = W_DONE;
	uv_timer_stop(w->poll);
	knock_stop(w->knock);
	w->knock = NULL;
	if (w->probe != NULL) {
		remote_free(w->probe);
		w->probe = NULL;
	}
	t->phase->run->task_finish(t, ok, error, w->reply.data);
}

/*
 * Run a control command on a name. The callback may run at once (the
 * job could not start): then it has already moved the waiter on.
 */
static void
waiter_exec(struct waiter *w, struct run_host *rh, const char *cmd,
    const struct remote_job_cb *cb)
{
	struct remote_job *j = run_host_exec(rh, cmd, 0, cb, w);

	if (j != NULL)
		w->job = j;
}

/* The first line of a job's stdout (allocated, maybe empty). */
static char *
waiter_first_line(const struct waiter *w)
{
	const char *s = w->reply.data ? w->reply.data : "";

	return xstrndup(s, strcspn(s, "\r\n"));
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
	struct remote_cfg cfg, jump;
	struct run_host *bastion;

	remote_cfg_from_host(&cfg, &jump, h);
	if (cfg.jump != NULL &&
	    (bastion = run_host(w->task->phase->run, h->bastion->name)) != NULL)
		jump.expected = run_expected_key(bastion);
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

/* The first job of a detach (starting its script) ended. */
static void
waiter_started_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	char msg[1024];

	w->job = NULL;
	if (w->stage != W_STARTING)
		return;
	if (res->error != NULL || res->exit_status != 0) {
		snprintf(msg, sizeof msg, "%s",
		    res->error              ? res->error
			: w->reply_err.data ? w->reply_err.data
					    : "could not start");
		msg[strcspn(msg, "\n")] = '\0';
		waiter_end(w, 0, msg);
		return;
	}
	waiter_reply_free(w);
	waiter_later(w, w->swap ? W_PROBE_SELF : W_RECORD, 200);
}

static const struct remote_job_cb waiter_started_jcb = { waiter_output_cb,
	waiter_started_cb, NULL };

/* A reboot ended: its host has another boot id than the committed one. */
static void
waiter_rebooted(struct waiter *w, const char *now, int since)
{
	struct run_task *t = w->task;

	if (since)
		run_note(t->phase->run,
		    "%d/%s on %s: the host has rebooted since its boot id %s "
		    "was committed (now %s): taken as rebooted, no second "
		    "reboot sent",
		    waiter_phase_id(t), t->step->id, t->host, w->boot_id, now);
	waiter_reply_free(w);
	buf_printf(&w->reply, "boot id before: %s\nboot id now: %s\n%s",
	    w->boot_id, now,
	    since ? "rebooted since the boot id was committed: no second "
		    "reboot sent\n"
		  : "");
	waiter_end(w, 1, NULL);
}

static void waiter_reboot_go(void *);

/*
 * Intent before action: the boot id and this attempt are committed, with
 * a note in the audit trail, before the reboot is sent.
 */
static void
waiter_commit_boot_id(struct waiter *w, char *boot_id)
{
	struct run_task *t = w->task;
	struct store_task_ref ref;

	free(w->boot_id);
	w->boot_id = boot_id;
	w->boot_attempt = t->attempt;
	free(t->note);
	xasprintf(&t->note, "%s %d", boot_id, t->attempt);
	run_task_store_ref(t, &ref);
	store_task_note(t->phase->run->store, &ref, t->note);
	run_note(t->phase->run,
	    "%d/%s on %s: rebooting it (attempt %d); its boot id before, %s, "
	    "is committed",
	    waiter_phase_id(t), t->step->id, t->host, t->attempt, boot_id);
	w->stage = W_REBOOT;
	run_after_commit(t->phase->run, waiter_reboot_go, t);
}

/* The boot id was read before anything is sent: decide (top of file). */
static void
waiter_boot_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	char msg[1024], *now;

	w->job = NULL;
	if (w->stage != W_BOOT_RUNNING)
		return;
	now = waiter_first_line(w);
	if (res->error != NULL || res->exit_status != 0 || now[0] == '\0') {
		snprintf(msg, sizeof msg, "%s",
		    res->error              ? res->error
			: w->reply_err.data ? w->reply_err.data
					    : "cannot read its boot id");
		msg[strcspn(msg, "\n")] = '\0';
		free(now);
		if (w->boot_id == NULL ||
		    (res->error == NULL && res->signal == NULL &&
			res->exit_status > 0 && res->exit_status < 128)) {
			/* No reboot was ever sent: nothing to wait for; or the
			 * host answered and the command failed there (not
			 * killed: a host going down kills what it runs). */
			waiter_end(w, 0, msg);
			return;
		}
		/* A reboot may be under way: wait for the host. */
		waiter_note(w, msg,
		    t->rh->remote ? remote_seen_key(t->rh->remote) : NULL);
		waiter_reply_free(w);
		waiter_await(w, W_BOOT, WAITER_POLL_MS);
		return;
	}
	waiter_reply_free(w);
	if (w->boot_id != NULL && strcmp(now, w->boot_id) != 0) {
		waiter_rebooted(w, now, 1);
		free(now);
		return;
	}
	if (w->boot_id != NULL && w->boot_attempt == t->attempt) {
		/* This attempt committed it: the host says if it was sent. */
		free(now);
		waiter_later(w, W_SENT, 0);
		return;
	}
	if (w->boot_id != NULL && w->boot_attempt == 0 && t->output_lost) {
		/* A state file without the attempt: its reboot was sent
		 * right after the commit; wait for it. */
		free(now);
		waiter_later(w, W_RECORD, 0);
		return;
	}
	waiter_commit_boot_id(w, now);
}

static const struct remote_job_cb waiter_boot_jcb = { waiter_output_cb,
	waiter_boot_cb, NULL };

/*
 * This attempt's reboot record, read with the same boot id as before:
 * "none" — the reboot never left the controller: send it now; an exit
 * status 0, or a process still there, or one gone without a status —
 * it was sent: wait for the new boot id (never a second reboot while
 * unsure); another exit status — the reboot command failed.
 */
static void
waiter_sent_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	const char *out = w->reply.data ? w->reply.data : "";
	char msg[128];
	int status = -1;

	w->job = NULL;
	if (w->stage != W_SENT_RUNNING)
		return;
	if (res->error != NULL || res->exit_status != 0) {
		/* Going down, perhaps: ask its boot id again. */
		waiter_note(w,
		    res->error ? res->error : "cannot read its record",
		    t->rh->remote ? remote_seen_key(t->rh->remote) : NULL);
		waiter_reply_free(w);
		waiter_await(w, W_BOOT, WAITER_POLL_MS);
		return;
	}
	if (strncmp(out, "none", 4) == 0) {
		waiter_reply_free(w);
		run_note(t->phase->run,
		    "%d/%s on %s: the reboot was never sent (no record of it "
		    "on the host, boot id still %s): sending it now",
		    waiter_phase_id(t), t->step->id, t->host, w->boot_id);
		w->stage = W_REBOOT;
		waiter_reboot_go(t);
		return;
	}
	if (sscanf(out, "status %d", &status) == 1 && status != 0) {
		snprintf(msg, sizeof msg,
		    "the reboot command failed: exit status %d", status);
		waiter_reply_free(w);
		waiter_end(w, 0, msg);
		return;
	}
	waiter_reply_free(w);
	run_note(t->phase->run,
	    "%d/%s on %s: the reboot was sent (boot id still %s): waiting "
	    "for the new boot id, not rebooting again",
	    waiter_phase_id(t), t->step->id, t->host, w->boot_id);
	waiter_await(w, W_RECORD, WAITER_POLL_MS);
}

static const struct remote_job_cb waiter_sent_jcb = { waiter_output_cb,
	waiter_sent_cb, NULL };

/* The reboot command ended (it returns before the host goes down). */
static void
waiter_reboot_sent_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	const char *unsafe;
	char msg[1024];

	w->job = NULL;
	if (w->stage != W_STARTING)
		return;
	if (res->error != NULL || res->signal != NULL) {
		/* It may or may not have run: the boot id, then the record
		 * of this attempt, will tell. */
		waiter_note(
		    w, res->error ? res->error : "the channel failed", NULL);
		waiter_reply_free(w);
		waiter_await(w, W_BOOT, WAITER_POLL_MS);
		return;
	}
	if (res->exit_status != 0) {
		unsafe = w->reply_err.data
		    ? strstr(w->reply_err.data, WRAPPER_UNSAFE)
		    : NULL;
		if (unsafe != NULL)
			snprintf(msg, sizeof msg, "%s", unsafe);
		else if (w->reply_err.data != NULL)
			snprintf(msg, sizeof msg, "could not reboot: %s",
			    w->reply_err.data);
		else
			snprintf(msg, sizeof msg,
			    "could not reboot: exit status %d",
			    res->exit_status);
		msg[strcspn(msg, "\r\n")] = '\0';
		waiter_reply_free(w);
		waiter_end(w, 0, msg);
		return;
	}
	waiter_reply_free(w);
	run_note(t->phase->run,
	    "%d/%s on %s: reboot sent; waiting for a new boot id "
	    "(before: %s)",
	    waiter_phase_id(t), t->step->id, t->host, w->boot_id);
	waiter_await(w, W_RECORD, 2000);
}

static const struct remote_job_cb waiter_reboot_sent_jcb = { waiter_output_cb,
	waiter_reboot_sent_cb, NULL };

/*
 * The boot id is committed: reboot, under the wrapper with this attempt's
 * record (which says, on the host, that it was sent).
 */
static void
waiter_reboot_go(void *arg)
{
	struct run_task *t = arg;
	struct waiter *w = t->waiter;
	struct remote_job *j;

	if (w == NULL || w->stage != W_REBOOT)
		return;
	w->stage = W_STARTING;
	j = run_host_start(t->rh, WRAPPER_RUN, t->record, WAITER_REBOOT, 0,
	    &waiter_reboot_sent_jcb, w);
	if (j != NULL)
		w->job = j;
}

/* Search (follow_address): ask the other name next; a round done, wait. */
static void
waiter_search_next(struct waiter *w)
{
	struct run_task *t = w->task;
	int back = w->at != t->rh;

	w->at = back ? t->rh : waiter_other(t);
	waiter_later(w, W_RECORD, back ? WAITER_POLL_MS : 0);
}

/* A reboot's wait: the boot id the host answers with. */
static void
waiter_boot_read(struct waiter *w)
{
	char *now = waiter_first_line(w);

	if (now[0] == '\0' || strcmp(now, w->boot_id) == 0) {
		free(now);
		waiter_note(w, "still the same boot id", NULL);
		waiter_reply_free(w);
		waiter_await(w, W_RECORD, WAITER_POLL_MS);
		return;
	}
	waiter_rebooted(w, now, 0);
	free(now);
}

/*
 * A detach's record holds its end: "status S signal [SIG]" then the
 * script's output, which becomes the task's; the status ends the task.
 */
static void
waiter_detach_ended(struct waiter *w, const char *out)
{
	struct run_task *t = w->task;
	char first[128], msg[256], sig[32] = "", *rest;
	size_t n = strcspn(out, "\n");
	int status = -1;

	snprintf(first, sizeof first, "%.*s", (int)(n < 127 ? n : 127), out);
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
}

/* A detach's record as read through rh: none, running, dead or ended. */
static void
waiter_detach_read(struct waiter *w, struct run_host *rh, const char *out)
{
	struct run_task *t = w->task;

	if (strncmp(out, "none", 4) == 0 && w->search) {
		/* That name reaches the other machine (or the record is not
		 * written yet). Neither machine has it, after a resume: the
		 * script never started. */
		w->none |= rh == t->rh ? 1u : 2u;
		w->running = 0;
		if (w->none == 3u && t->output_lost && w->found == NULL) {
			t->phase->run->task_lost(t,
			    "no record on either machine of the swap: it "
			    "never started");
			return;
		}
		waiter_note(w, "no record of the script there", NULL);
		waiter_reply_free(w);
		waiter_search_next(w);
		return;
	}
	if (strncmp(out, "none", 4) != 0) {
		/* Found: this name reaches the machine that ran it. */
		w->none = 0;
		w->found = rh;
		if (w->search && rh != t->rh)
			run_host_mark_swapped(rh);
	}
	w->running = 0;
	if (strncmp(out, "status ", 7) == 0) {
		waiter_detach_ended(w, out);
		return;
	}
	if (strncmp(out, "dead", 4) == 0 && t->output_lost) {
		t->phase->run->task_lost(t,
		    "its record has no exit status and its processes are "
		    "gone");
		return;
	}
	if (strncmp(out, "none", 4) == 0 && t->output_lost) {
		t->phase->run->task_lost(
		    t, "no record on the host: it never started");
		return;
	}
	if (strncmp(out, "dead", 4) == 0) {
		waiter_end(w, 0,
		    "the detached script died without an exit "
		    "status");
		return;
	}
	/* "running" (or "none" before it wrote its record): poll again. */
	w->running = strncmp(out, "running", 7) == 0;
	waiter_reply_free(w);
	waiter_later(w, W_RECORD, WAITER_POLL_MS / 4);
}

/* The record (or boot id) was read. */
static void
waiter_record_cb(void *arg, const struct remote_result *res)
{
	struct waiter *w = arg;
	struct run_task *t = w->task;
	struct run_host *rh = w->at;

	w->job = NULL;
	if (w->stage != W_RECORD_RUNNING)
		return;
	w->stage = W_RECORD;
	if (res->error != NULL || res->exit_status != 0) {
		/* Not back yet: the session failed (refused, or another key:
		 * nothing was sent) or the command did. */
		w->running = 0;
		waiter_note(w, res->error ? res->error : "not answering",
		    rh->remote ? remote_seen_key(rh->remote) : NULL);
		waiter_reply_free(w);
		if (w->search)
			waiter_search_next(w);
		else if (t->step->kind == STEP_DETACH)
			waiter_later(w, W_RECORD, WAITER_POLL_MS);
		else
			waiter_await(w, W_RECORD, WAITER_POLL_MS);
		return;
	}
	if (t->step->kind == STEP_REBOOT)
		waiter_boot_read(w);
	else if (t->step->kind == STEP_WAIT) {
		waiter_reply_free(w);
		waiter_end(w, 1, NULL);
	} else
		waiter_detach_read(w, rh, w->reply.data ? w->reply.data : "");
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
			t->phase->run->task_lost(
			    t, "no record on the host: it never started");
			return;
		}
		if (strncmp(out, "dead", 4) == 0) {
			t->phase->run->task_lost(t,
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
		/* Its machine answers under the pre-swap key: the kill of a
		 * timeout goes there. */
		w->found = t->rh;
	}
	waiter_reply_free(w);
	waiter_later(w, W_PROBE_SELF, 200);
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
		if (t->step->kind == STEP_DETACH) {
			w->stage = W_STARTING;
			t->phase->run->task_exec_detach(
			    t, &waiter_started_jcb, w, &w->job);
		} else {
			w->stage =
			    t->step->kind == STEP_REBOOT ? W_BOOT : W_RECORD;
			waiter_step(w);
		}
		return;
	case W_BOOT:
		w->stage = W_BOOT_RUNNING;
		waiter_exec(w, t->rh, WAITER_BOOT_ID, &waiter_boot_jcb);
		return;
	case W_SENT:
		w->stage = W_SENT_RUNNING;
		cmd = wrapper_probe_script(t->record);
		waiter_exec(w, t->rh, cmd, &waiter_sent_jcb);
		free(cmd);
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
		waiter_exec(w, t->rh, cmd, &waiter_check_jcb);
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
		/* The machine that ran the script: after a follow_machine
		 * swap, the other name answers with it; searched for under
		 * follow_address (top of file). */
		if (w->swap)
			w->at = waiter_other(t);
		else if (!w->search || w->at == NULL)
			w->at = t->rh;
		rh = w->at;
		w->stage = W_RECORD_RUNNING;
		/* A detach's record, or a watched script's (resume). */
		if (t->step->kind == STEP_REBOOT)
			cmd = xstrdup(WAITER_BOOT_ID);
		else if (t->step->kind == STEP_WAIT)
			cmd = xstrdup("true");
		else
			cmd = wrapper_probe_script(t->record);
		waiter_exec(w, rh, cmd, &waiter_record_jcb);
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

/*
 * A reboot's committed boot id, from the task's note: "BOOT_ID ATTEMPT"
 * (a state file of an older version holds the boot id alone: attempt 0).
 */
static void
waiter_parse_note(struct waiter *w, const char *note)
{
	const char *sp;

	if (note == NULL || note[0] == '\0')
		return;
	sp = strchr(note, ' ');
	w->boot_id = sp ? xstrndup(note, (size_t)(sp - note)) : xstrdup(note);
	w->boot_attempt = sp ? atoi(sp + 1) : 0;
}

/* A waiter for a task; it is the task's until waiter_cancel(). */
static struct waiter *
waiter_new(struct run_task *t)
{
	struct run *r = t->phase->run;
	struct waiter *w = xcalloc(1, sizeof *w);
	struct run_host *other;
	int swap_phase;

	w->task = t;
	buf_init(&w->reply);
	buf_init(&w->reply_err);
	w->poll = xcalloc(1, sizeof *w->poll);
	uv_timer_init(r->loop, w->poll);
	w->poll->data = w;
	other = waiter_other(t);
	swap_phase = t->step->kind == STEP_DETACH && r->plan->has_swap &&
	    r->plan->phases[t->phase->index].id == r->plan->swap_after_phase &&
	    other != NULL;
	w->swap = swap_phase &&
	    r->plan->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE &&
	    other->has_key && t->rh->has_key;
	w->search =
	    swap_phase && r->plan->swap_host_keys == HOST_KEYS_FOLLOW_ADDRESS;
	if (t->step->kind == STEP_REBOOT)
		waiter_parse_note(w, t->note);
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
 * how it ends, read on the machine that ran it) or a reboot perhaps sent
 * (its boot id before is in the state file: the host is asked first, top
 * of file).
 */
void
waiter_resume(struct run_task *t)
{
	struct waiter *w = waiter_new(t);

	if (t->step->kind == STEP_REBOOT)
		w->stage = W_BOOT;
	else
		w->stage = w->swap ? W_CHECK : W_RECORD;
	waiter_step(w);
}

/*
 * Stop waiting (the task ended by its timeout, or the run stops). The
 * message for a timeout comes from waiter_describe(), before this.
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
	knock_stop(w->knock);
	uv_close((uv_handle_t *)w->poll, waiter_timer_closed_cb);
	waiter_reply_free(w);
	free(w->boot_id);
	free(w->last_error);
	free(w->last_seen);
	free(w);
}

/*
 * The name through which the record of a detach (or of a script a resume
 * watches) — and so its process group — is reached now: where it was last
 * read, else where the machine that ran it should answer. NULL for a
 * reboot or a wait (nothing of theirs runs on the host).
 */
struct run_host *
waiter_record_host(const struct run_task *t)
{
	const struct waiter *w = t->waiter;
	struct run_host *other;

	if (w == NULL || t->step->kind == STEP_REBOOT ||
	    t->step->kind == STEP_WAIT)
		return NULL;
	if (w->found != NULL)
		return w->found;
	other = waiter_other(t);
	if (w->swap && other != NULL && (other->swapped || t->rh->swapped))
		return other;
	return t->rh;
}

/* Why the waiting step has not succeeded yet, for a timeout's message. */
char *
waiter_describe(const struct run_task *t)
{
	const struct waiter *w = t->waiter;
	const struct hostkey *k;
	struct run_host *rh, *other;
	char *s;

	if (w == NULL)
		return NULL;
	other = waiter_other(t);
	if (w->running && w->found != NULL) {
		xasprintf(&s,
		    "its script was still running (its record read through "
		    "%s, %s:%d)",
		    w->found->host->name, w->found->host->address,
		    w->found->host->port);
		return s;
	}
	rh = t->rh;
	if (w->stage == W_PROBE_OTHER ||
	    ((w->stage == W_RECORD || w->stage == W_RECORD_RUNNING) &&
		w->at != NULL))
		rh = w->stage == W_PROBE_OTHER ? other : w->at;
	k = w->stage == W_PROBE_SELF && other ? &other->machine_key
	    : w->stage == W_PROBE_OTHER       ? &t->rh->machine_key
					      : run_expected_key(rh);
	xasprintf(&s,
	    "%s (%s:%d) did not answer as expected: expected key "
	    "%s, last seen %s%s%s%s",
	    rh->host->name, rh->host->address, rh->host->port,
	    k && k->fingerprint ? k->fingerprint : "unknown",
	    w->last_seen ? w->last_seen : "none",
	    w->last_error ? "; last error: " : "",
	    w->last_error ? w->last_error : "",
	    w->search ? "; the record was looked for through both names of "
			"the swap (host_keys: follow_address)"
		      : "");
	return s;
}
