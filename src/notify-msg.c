/*
 * notify-msg.c: what a notification says (notify.c decides when it goes).
 * The summary names the plan, the run and what happened; the text adds
 * the run's uid, date and phase, every task that failed, waits or was
 * interrupted with its error and the last lines of its output (or the
 * instructions of a manual step), the status page while the daemon waits
 * for an approval (never its token), and the commands to type next, with
 * the state file's absolute path. The webhook's JSON carries the same,
 * in the status JSON's shapes. Everything is scrubbed of the run's
 * secrets, then made valid UTF-8 without control characters; the mail's
 * subject is RFC 2047-encoded when it is not ASCII (a phase or plan name
 * may be Japanese), its lines end in CRLF and stay short.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "notify-int.h"
#include "notify.h"
#include "outage.h"
#include "plan.h"
#include "run.h"
#include "secret.h"
#include "status-live.h"
#include "status.h"
#include "store.h"
#include "wrapper.h"
#include "xmalloc.h"

/* How much of a task's output a message shows. */
#define NOTIFY_TAIL_LINES 10
#define NOTIFY_LINE_MAX   200
/* A manual step's instructions are shown whole, up to this. */
#define NOTIFY_TEXT_MAX 4096
/* Tasks named one by one; the rest are counted. */
#define NOTIFY_TASKS_MAX 20
/* Mail lines stay well below the 998 bytes RFC 5322 allows. */
#define NOTIFY_MAIL_LINE 900
/* Input bytes per RFC 2047 encoded word (60 base64 characters). */
#define NOTIFY_WORD_BYTES 45

/* A path as a shell word: quoted unless it is plain. */
char *
notify_msg_shell_word(const char *s)
{

	if (s[strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789_./-+:@%,")] == '\0')
		return xstrdup(s);
	return sh_quote(s);
}

/* The length of the valid UTF-8 sequence at p (0: not one). */
static size_t
notify_msg_utf8_len(const unsigned char *p, size_t left)
{
	unsigned cp;
	size_t n, k;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07u;
	} else
		return 0;
	if (n > left)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * Append s as a message may carry it: valid UTF-8 without control
 * characters (any other byte becomes '?'); newlines and tabs are kept.
 */
static void
notify_msg_clean(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') ||
			    p[i] == 0x7f)
				buf_addc(b, '?');
			else
				buf_addc(b, (char)p[i]);
			i++;
		} else if ((n = notify_msg_utf8_len(p + i, len - i)) > 0) {
			buf_add(b, p + i, n);
			i += n;
		} else {
			buf_addc(b, '?');
			i++;
		}
	}
}

/* A cleaned copy of s (see notify_msg_clean), or NULL for NULL. */
static char *
notify_msg_cleaned(const char *s)
{
	struct buf b;

	if (s == NULL)
		return NULL;
	buf_init(&b);
	notify_msg_clean(&b, s, strlen(s));
	return buf_release(&b);
}

/*
 * The last lines of a text (a task's output), each cut to
 * NOTIFY_LINE_MAX bytes, cleaned; "" for none.
 */
static char *
notify_msg_tail(const char *text, size_t maxlines)
{
	const char *start, *end, *nl;
	struct buf b;
	size_t n = 0, len;

	buf_init(&b);
	if (text == NULL)
		return buf_release(&b);
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (start = end; start > text; start--)
		if (start[-1] == '\n' && ++n == maxlines)
			break;
	while (start < end) {
		if ((nl = memchr(start, '\n', (size_t)(end - start))) == NULL)
			nl = end;
		len = (size_t)(nl - start);
		if (len > 0 && start[len - 1] == '\r')
			len--;
		if (len > NOTIFY_LINE_MAX) {
			len = NOTIFY_LINE_MAX;
			while (len > 0 && (start[len] & 0xc0) == 0x80)
				len--;
			notify_msg_clean(&b, start, len);
			buf_adds(&b, " [...]");
		} else
			notify_msg_clean(&b, start, len);
		buf_addc(&b, '\n');
		start = nl + 1;
	}
	return buf_release(&b);
}

/* Append text with every line indented by prefix. */
static void
notify_msg_indent(struct buf *b, const char *text, const char *prefix)
{
	const char *nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		buf_adds(b, prefix);
		buf_add(b, text, nl ? (size_t)(nl - text) : strlen(text));
		buf_addc(b, '\n');
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/* A task's phase id. */
static int
notify_msg_phase_id(const struct run_task *t)
{
	return t->phase->run->plan->phases[t->phase->index].id;
}

/* The phase the run is in (or ended in), or NULL after the last. */
static const struct run_phase *
notify_msg_phase(const struct run *r)
{
	return r->current < r->nphases ? &r->phases[r->current] : NULL;
}

/* Call cb for every task in state s, in plan order; returns how many. */
static size_t
notify_msg_each(const struct run *r, enum task_state s,
    void (*cb)(const struct run_task *, void *), void *arg)
{
	size_t i, j, n = 0;

	for (i = 0; i < r->nphases; i++)
		for (j = 0; j < r->phases[i].ntasks; j++) {
			if (r->phases[i].tasks[j].state != s)
				continue;
			if (cb != NULL && n < NOTIFY_TASKS_MAX)
				cb(&r->phases[i].tasks[j], arg);
			n++;
		}
	return n;
}

/* notify_msg_each: remember the first task. */
static void
notify_msg_first_cb(const struct run_task *t, void *arg)
{
	const struct run_task **first = arg;

	if (*first == NULL)
		*first = t;
}

/* "3/copy on ika", and " and N more" when there are more. */
static void
notify_msg_name_tasks(struct buf *b, const struct run *r, enum task_state s)
{
	const struct run_task *t = NULL;
	size_t n = notify_msg_each(r, s, notify_msg_first_cb, &t);

	if (t == NULL)
		return;
	buf_printf(b, "%d/%s", notify_msg_phase_id(t), t->step->id);
	if (t->rh != NULL)
		buf_printf(b, " on %s", t->host);
	if (n > 1)
		buf_printf(b, " and %zu more", n - 1);
}

/* The one-line summary: what happened to which run. */
static char *
notify_msg_summary(const struct run *r)
{
	const struct run_phase *ph = notify_msg_phase(r);
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s: run %d ", r->plan->name, r->id);
	switch (r->state) {
	case RUN_SUCCEEDED:
		buf_adds(&b, "succeeded");
		break;
	case RUN_WAITING:
		if (notify_msg_each(r, TASK_WAITING, NULL, NULL) > 0) {
			buf_adds(&b, "waits for an operator at ");
			notify_msg_name_tasks(&b, r, TASK_WAITING);
		} else {
			buf_adds(&b, "waits for a decision on ");
			notify_msg_name_tasks(&b, r, TASK_INTERRUPTED);
			buf_adds(&b, " (interrupted)");
		}
		break;
	default:
		buf_printf(&b, "%s%s",
		    r->state == RUN_FAILED        ? "failed"
			: r->state == RUN_ABORTED ? "was aborted"
						  : "was interrupted",
		    ph != NULL ? "" : " after the last phase");
		if (ph != NULL)
			buf_printf(&b, " in phase %d (%s)",
			    r->plan->phases[ph->index].id,
			    r->plan->phases[ph->index].name);
		if (r->state == RUN_FAILED &&
		    notify_msg_each(r, TASK_FAILED, NULL, NULL) > 0) {
			buf_adds(&b, ": ");
			notify_msg_name_tasks(&b, r, TASK_FAILED);
		}
		break;
	}
	return buf_release(&b);
}

/* notify_msg_each: a failed or interrupted task, its error, its output. */
static void
notify_msg_task_cb(const struct run_task *t, void *arg)
{
	struct buf *b = arg;
	char *tail;

	buf_printf(
	    b, "  %d/%s on %s", notify_msg_phase_id(t), t->step->id, t->host);
	if (t->attempt > 0)
		buf_printf(b, ", attempt %d", t->attempt);
	if (t->exit_code >= 0)
		buf_printf(b, ", exit code %d", t->exit_code);
	buf_printf(b, ": %s\n", t->error != NULL ? t->error : "(no error)");
	tail = notify_msg_tail(output_tail(&t->out), NOTIFY_TAIL_LINES);
	notify_msg_indent(b, tail, "    | ");
	free(tail);
}

/* notify_msg_each: a manual step that waits, and its instructions. */
static void
notify_msg_waiting_cb(const struct run_task *t, void *arg)
{
	struct buf *b = arg;
	struct run *r = t->phase->run;
	char *text, *err = NULL, *shown;

	buf_printf(b, "  %d/%s:\n", notify_msg_phase_id(t), t->step->id);
	if (t->step->manual == NULL ||
	    (text = run_expand(r, t, t->step->manual, &err)) == NULL) {
		free(err);
		text = xstrdup(output_tail(&t->out));
	}
	if (strlen(text) > NOTIFY_TEXT_MAX)
		text[NOTIFY_TEXT_MAX] = '\0';
	shown = notify_msg_cleaned(text);
	notify_msg_indent(b, shown, "    | ");
	explicit_bzero(text, strlen(text));
	free(text);
	free(shown);
}

struct notify_msg_next {
	struct buf *b;
	const struct notify *n;
};

/* notify_msg_each: the commands for a failed task's output. */
static void
notify_msg_next_log_cb(const struct run_task *t, void *arg)
{
	struct notify_msg_next *nx = arg;

	buf_printf(nx->b,
	    "  the whole output: hostswap log %d/%s --host %s%s\n",
	    notify_msg_phase_id(t), t->step->id, t->host, nx->n->state_opt);
}

/* notify_msg_each: the commands that decide a waiting manual step. */
static void
notify_msg_next_approve_cb(const struct run_task *t, void *arg)
{
	struct notify_msg_next *nx = arg;
	const char *so = nx->n->state_opt;

	if (nx->n->run->approvals)
		buf_printf(nx->b,
		    "  approve: hostswap approve %d/%s%s\n"
		    "  or reject: hostswap reject %d/%s%s\n",
		    notify_msg_phase_id(t), t->step->id, so,
		    notify_msg_phase_id(t), t->step->id, so);
	else
		buf_printf(nx->b,
		    "  hostswap resume%s, then: hostswap approve %d/%s%s\n", so,
		    notify_msg_phase_id(t), t->step->id, so);
}

/* notify_msg_each: the command that decides an interrupted task. */
static void
notify_msg_next_mark_cb(const struct run_task *t, void *arg)
{
	struct notify_msg_next *nx = arg;

	buf_printf(nx->b,
	    "  check the host, then: hostswap mark %d/%s --host %s "
	    "succeeded|failed|retry%s\n",
	    notify_msg_phase_id(t), t->step->id, t->host, nx->n->state_opt);
}

/* What the operator types next, for the run's state. */
static void
notify_msg_next(struct buf *b, const struct notify *n, const struct run *r)
{
	struct notify_msg_next nx = { b, n };
	const char *so = n->state_opt;

	buf_printf(b, "\nWhat next (on %s):\n", n->host);
	switch (r->state) {
	case RUN_FAILED:
		notify_msg_each(r, TASK_FAILED, notify_msg_next_log_cb, &nx);
		buf_printf(b,
		    "  once the cause is fixed: hostswap resume%s "
		    "(failed tasks run again)\n",
		    so);
		break;
	case RUN_WAITING:
		notify_msg_each(
		    r, TASK_WAITING, notify_msg_next_approve_cb, &nx);
		if (notify_msg_each(
			r, TASK_INTERRUPTED, notify_msg_next_mark_cb, &nx) > 0)
			buf_printf(b, "  then: hostswap resume%s\n", so);
		break;
	case RUN_SUCCEEDED:
		buf_printf(b, "  the night's report: hostswap report%s\n", so);
		break;
	default:
		buf_printf(b,
		    "  go on where the run stopped: hostswap resume%s\n", so);
		break;
	}
}

/*
 * The message's text: the summary, the run, its phase, the tasks that
 * failed or wait, the status page (while the daemon waits for an
 * approval) and what to do next. Not yet scrubbed.
 */
static char *
notify_msg_text(const struct notify *n, const struct run *r,
    const char *summary, const char *url)
{
	const struct run_phase *ph = notify_msg_phase(r);
	const struct phase *p;
	char ts[40];
	struct buf b;
	size_t i, done = 0, skipped = 0;

	buf_init(&b);
	buf_printf(&b, "hostswap: %s.\n\n", summary);
	buf_printf(&b, "plan:       %s (%s)\n", r->plan->name, r->plan->path);
	buf_printf(
	    &b, "run:        %d, uid %s, date %s\n", r->id, r->uid, r->date);
	buf_printf(&b, "state:      %s\n", run_state_names[r->state]);
	if (ph != NULL) {
		p = &r->plan->phases[ph->index];
		buf_printf(&b, "phase:      %d %s (%s)\n", p->id, p->name,
		    phase_state_names[ph->state]);
	} else {
		for (i = 0; i < r->nphases; i++)
			if (r->phases[i].state == PHASE_SUCCEEDED)
				done++;
			else if (r->phases[i].state == PHASE_SKIPPED)
				skipped++;
		buf_printf(&b,
		    "phases:     %zu succeeded, %zu skipped, of %zu\n", done,
		    skipped, r->nphases);
	}
	if (r->started_ms != 0) {
		clock_rfc3339(ts, sizeof ts, r->started_ms);
		buf_printf(&b, "started:    %s\n", ts);
	}
	if (r->state != RUN_WAITING || !r->approvals) {
		clock_rfc3339(ts, sizeof ts, r->finished_ms);
		buf_printf(&b, "ended:      %s\n", ts);
	}
	if (r->plan->has_swap)
		buf_printf(&b, "swapped:    %s\n", r->swapped ? "yes" : "no");
	buf_printf(&b, "controller: %s\n", n->host);

	if (notify_msg_each(r, TASK_FAILED, NULL, NULL) > 0) {
		buf_adds(&b, "\nFailed:\n");
		notify_msg_each(r, TASK_FAILED, notify_msg_task_cb, &b);
	}
	if (notify_msg_each(r, TASK_WAITING, NULL, NULL) > 0) {
		buf_adds(&b, "\nWaiting for an operator:\n");
		notify_msg_each(r, TASK_WAITING, notify_msg_waiting_cb, &b);
	}
	if (notify_msg_each(r, TASK_INTERRUPTED, NULL, NULL) > 0) {
		buf_adds(&b, "\nInterrupted:\n");
		notify_msg_each(r, TASK_INTERRUPTED, notify_msg_task_cb, &b);
	}
	if ((i = notify_msg_each(r, TASK_FAILED, NULL, NULL) +
		    notify_msg_each(r, TASK_WAITING, NULL, NULL) +
		    notify_msg_each(r, TASK_INTERRUPTED, NULL, NULL)) >
	    NOTIFY_TASKS_MAX)
		buf_printf(
		    &b, "  (and more: hostswap status%s)\n", n->state_opt);
	if (url != NULL)
		buf_printf(&b,
		    "\nStatus page: %s (on the controller; its Approve and "
		    "Reject need the token in %s.token)\n",
		    url, n->state_path != NULL ? n->state_path : "STATE");
	notify_msg_next(&b, n, r);
	return buf_release(&b);
}

/* notify_msg_each: a task as the status JSON shows it, with a short tail. */
static void
notify_msg_task_json_cb(const struct run_task *t, void *arg)
{
	json_t *tasks = arg;
	struct status_task v;
	char *tail, *error;

	status_view_task(t, &v);
	tail = notify_msg_tail(output_tail(&t->out), NOTIFY_TAIL_LINES);
	error = notify_msg_cleaned(v.error);
	v.output_tail = tail;
	v.error = error;
	json_array_append_new(tasks, status_task_json(&v, 1));
	free(tail);
	free(error);
}

/* Replace every string of a JSON value by its scrubbed self. */
static void
notify_msg_scrub_json(json_t *j, const struct secrets *sec)
{
	const char *key;
	json_t *v;
	size_t i;
	char *s;

	if (json_is_string(j)) {
		s = secrets_scrub(
		    sec, json_string_value(j), json_string_length(j));
		/* A secret cut a character in two: show nothing of it. */
		if (json_string_set(j, s) == -1)
			json_string_set(j, "***");
		free(s);
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v) notify_msg_scrub_json(v, sec);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) notify_msg_scrub_json(v, sec);
	}
}

/* The status JSON's run object, its outage included. */
static json_t *
notify_msg_run_json(const struct run *r, const struct status_run *rv)
{
	json_t *run = status_run_json(rv);
	struct status_task tv;
	struct outage out;
	size_t i, j;

	outage_init_plan(&out, r->plan);
	for (i = 0; i < r->nphases; i++)
		for (j = 0; j < r->phases[i].ntasks; j++) {
			status_view_task(&r->phases[i].tasks[j], &tv);
			outage_task(&out, tv.phase, tv.step, tv.state,
			    tv.started_ms, tv.finished_ms);
		}
	json_object_set_new(run, "outage", outage_json(&out, clock_now_ms()));
	return run;
}

/*
 * The webhook's JSON: {"event", "summary", "run" (the status run
 * object), "phase", "tasks" (those that failed, wait or were
 * interrupted), "status_url", "text" (the mail's text: chat services
 * show it)}, scrubbed.
 */
static char *
notify_msg_hook_body(const struct run *r, const char *event,
    const char *summary, const char *text, const char *url)
{
	const struct run_phase *ph = notify_msg_phase(r);
	struct status_run rv;
	struct status_phase pv;
	json_t *o = json_object(), *tasks = json_array();
	char *s;

	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "summary", json_string(summary));
	status_view_run(r, &rv);
	json_object_set_new(o, "run", notify_msg_run_json(r, &rv));
	if (ph != NULL) {
		status_view_phase(ph, &pv);
		json_object_set_new(o, "phase", status_phase_json(&pv));
	} else
		json_object_set_new(o, "phase", json_null());
	notify_msg_each(r, TASK_FAILED, notify_msg_task_json_cb, tasks);
	notify_msg_each(r, TASK_WAITING, notify_msg_task_json_cb, tasks);
	notify_msg_each(r, TASK_INTERRUPTED, notify_msg_task_json_cb, tasks);
	json_object_set_new(o, "tasks", tasks);
	json_object_set_new(
	    o, "status_url", url != NULL ? json_string(url) : json_null());
	json_object_set_new(o, "text", json_string(text));
	notify_msg_scrub_json(o, &r->secrets);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* Base64 of n bytes (RFC 4648), appended to b. */
static void
notify_msg_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	unsigned v;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		buf_addc(b, abc[v >> 18 & 63]);
		buf_addc(b, abc[v >> 12 & 63]);
		buf_addc(b, abc[v >> 6 & 63]);
		buf_addc(b, abc[v & 63]);
	}
	if (i < n) {
		v = (unsigned)p[i] << 16 |
		    (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		buf_addc(b, abc[v >> 18 & 63]);
		buf_addc(b, abc[v >> 12 & 63]);
		buf_addc(b, i + 1 < n ? abc[v >> 6 & 63] : '=');
		buf_addc(b, '=');
	}
}

/*
 * The mail's Subject: as it is when plain ASCII, else RFC 2047 encoded
 * words (a phase or plan name may be Japanese), each a whole number of
 * characters, folded.
 */
static char *
notify_msg_subject(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, len = strlen(s), n;
	struct buf b;

	for (i = 0; i < len; i++)
		if (p[i] >= 0x80 || p[i] < 0x20)
			break;
	if (i == len)
		return xstrdup(s);
	buf_init(&b);
	for (i = 0; i < len; i += n) {
		n = len - i < NOTIFY_WORD_BYTES ? len - i : NOTIFY_WORD_BYTES;
		while (i + n < len && (p[i + n] & 0xc0) == 0x80)
			n--;
		buf_adds(&b, i > 0 ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
		notify_msg_base64(&b, p + i, n);
		buf_adds(&b, "?=");
	}
	return buf_release(&b);
}

/* The mail's text: CRLF line ends, long lines cut in pieces. */
static char *
notify_msg_mail_text(const char *text)
{
	const char *nl;
	struct buf b;
	size_t len, n;

	buf_init(&b);
	while (*text != '\0') {
		nl = strchr(text, '\n');
		len = nl ? (size_t)(nl - text) : strlen(text);
		do {
			n = len < NOTIFY_MAIL_LINE ? len : NOTIFY_MAIL_LINE;
			while (n < len && n > 0 && (text[n] & 0xc0) == 0x80)
				n--;
			buf_add(&b, text, n);
			buf_adds(&b, "\r\n");
			text += n;
			len -= n;
		} while (len > 0);
		if (nl == NULL)
			break;
		text = nl + 1;
	}
	return buf_release(&b);
}

/* Text scrubbed of the run's secrets, then cleaned (notify_msg_clean). */
static char *
notify_msg_scrubbed(const struct run *r, const char *raw)
{
	char *scrubbed = secrets_scrub(&r->secrets, raw, strlen(raw)), *s;

	s = notify_msg_cleaned(scrubbed);
	free(scrubbed);
	return s;
}

/*
 * Write the message about the run's new state: its summary and text, the
 * mail's subject and text, the webhook's JSON, and the status page's
 * address while the daemon stays to hear an approval.
 */
void
notify_msg_make(const struct notify *n, struct run *r, struct notify_msg *m)
{
	char *raw, *c, *prefixed;

	memset(m, 0, sizeof *m);
	if (r->state == RUN_WAITING && r->approvals && r->store != NULL &&
	    notify_msg_each(r, TASK_WAITING, NULL, NULL) > 0)
		m->url = store_run_url(r->store, r->id);
	raw = notify_msg_summary(r);
	m->summary = notify_msg_scrubbed(r, raw);
	free(raw);
	for (c = m->summary; *c != '\0'; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	raw = notify_msg_text(n, r, m->summary, m->url);
	m->text = notify_msg_scrubbed(r, raw);
	free(raw);
	xasprintf(&prefixed, "[hostswap] %s", m->summary);
	m->subject = notify_msg_subject(prefixed);
	free(prefixed);
	m->mail = notify_msg_mail_text(m->text);
	m->json = notify_msg_hook_body(
	    r, run_state_names[r->state], m->summary, m->text, m->url);
}

/* Free a message's texts. */
void
notify_msg_free(struct notify_msg *m)
{
	free(m->summary);
	free(m->text);
	free(m->subject);
	free(m->mail);
	free(m->json);
	free(m->url);
}
