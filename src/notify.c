/*
 * notify.c: when the people named by the inventory's notify: key are told,
 * and how it reaches them. The scheduler calls notify_run() from the one
 * place the run changes state; a transition into a state that notify.on
 * names (failed, waiting, succeeded, interrupted, aborted: all by
 * default) sends one message (notify-msg.c writes it): a mail through the
 * smtp server, a JSON POST to the webhook, or both. Their settings are
 * expanded when sent (variables, secrets), and a webhook URL's path and
 * query (often a token) never show in a log or a note.
 *
 * The messages travel through the run's prober (probe.c) on the loop,
 * each within NOTIFY_TIMEOUT_MS. At the run's end the daemon asks
 * notify_drain() to tell it when none is under way, so that it neither
 * exits with a message half sent nor waits long. A message that cannot
 * be sent is a warning and a note in the state file: the run's outcome
 * and exit status stay what they were.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "log.h"
#include "notify-int.h"
#include "notify.h"
#include "plan.h"
#include "probe.h"
#include "run-record.h"
#include "run.h"
#include "secret.h"
#include "store.h"
#include "xmalloc.h"

/* The drain outlives the messages' own timeout: curl's error wins. */
#define NOTIFY_DRAIN_MS (NOTIFY_TIMEOUT_MS + 1000)

/* One message under way. */
struct notify_send {
	struct notify *n;
	struct notify_send *next;
	struct probe *probe;
	char *event;
	char *what;       /* "mail to ... through ...": nothing secret */
	char *url_shown;  /* the URL as the probe's errors show it */
	char *url_hidden; /* what the operator sees instead */
};

/* The strings a request points to, wiped and freed once it started. */
struct notify_strings {
	char **v;
	size_t n;
};

/* The notify.on bit of a run state (0: never sent). */
static unsigned
notify_bit(enum run_state s)
{
	switch (s) {
	case RUN_FAILED:
		return NOTIFY_ON_FAILED;
	case RUN_WAITING:
		return NOTIFY_ON_WAITING;
	case RUN_SUCCEEDED:
		return NOTIFY_ON_SUCCEEDED;
	case RUN_INTERRUPTED:
		return NOTIFY_ON_INTERRUPTED;
	case RUN_ABORTED:
		return NOTIFY_ON_ABORTED;
	default:
		return 0;
	}
}

/* The timer closed: free it. */
static void
notify_timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* A notifier for the run, or NULL when its inventory has no notify:. */
struct notify *
notify_new(struct run *r)
{
	struct notify *n;
	char *path, *word;

	if (r->plan->inv == NULL || r->plan->inv->notify == NULL)
		return NULL;
	n = xcalloc(1, sizeof *n);
	n->run = r;
	n->spec = r->plan->inv->notify;
	if (r->store != NULL) {
		if ((path = realpath(store_path(r->store), NULL)) == NULL)
			path = xstrdup(store_path(r->store));
		word = notify_msg_shell_word(path);
		xasprintf(&n->state_opt, " --state %s", word);
		free(word);
		n->state_path = path;
	} else
		n->state_opt = xstrdup("");
	if (gethostname(n->host, sizeof n->host - 1) == -1 ||
	    n->host[0] == '\0')
		strcpy(n->host, "?");
	n->timer = xcalloc(1, sizeof *n->timer);
	uv_timer_init(r->loop, n->timer);
	n->timer->data = n;
	return n;
}

/* Free a message's record (its probe is over or cancelled). */
static void
notify_send_free(struct notify_send *s)
{
	free(s->event);
	free(s->what);
	free(s->url_shown);
	free(s->url_hidden);
	free(s);
}

/* Stop notifying: messages under way are dropped (the drain is over). */
void
notify_free(struct notify *n)
{
	struct notify_send *s;

	if (n == NULL)
		return;
	while ((s = n->sends) != NULL) {
		n->sends = s->next;
		probe_cancel(s->probe);
		notify_send_free(s);
	}
	uv_close((uv_handle_t *)n->timer, notify_timer_closed_cb);
	free(n->state_path);
	free(n->state_opt);
	free(n);
}

/* A copy of text with every `from` replaced by `to`. */
static char *
notify_replace(const char *text, const char *from, const char *to)
{
	const char *hit;
	struct buf b;

	if (from == NULL || *from == '\0' || strcmp(from, to) == 0)
		return xstrdup(text);
	buf_init(&b);
	while ((hit = strstr(text, from)) != NULL) {
		buf_add(&b, text, (size_t)(hit - text));
		buf_adds(&b, to);
		text = hit + strlen(from);
	}
	buf_adds(&b, text);
	return buf_release(&b);
}

/*
 * A webhook URL as it may be shown: scheme, host and port only; a path
 * or a query (where services put their tokens) is shown as "***".
 */
static char *
notify_hook_display(const char *url)
{
	char *shown = probe_url_display(url), *s, *out;
	size_t end;

	if ((s = strstr(shown, "://")) == NULL)
		return shown;
	s += 3;
	end = strcspn(s, "/?#");
	if (s[end] == '\0' || strcmp(s + end, "/") == 0)
		return shown;
	xasprintf(&out, "%.*s/***", (int)(s + end - shown), shown);
	free(shown);
	return out;
}

/* A message was not sent: a warning, and a note in the state file. */
static void
notify_failed(
    struct notify *n, const char *event, const char *what, const char *why)
{
	struct run *r = n->run;
	char *msg, *clean;

	xasprintf(&msg, "notification (%s) not sent: %s: %s", event, what, why);
	clean = secrets_scrub(&r->secrets, msg, strlen(msg));
	log_warnx("%s", clean);
	run_record_note(r, clean);
	free(clean);
	free(msg);
}

/* Call the drain's callback once nothing is under way any more. */
static void
notify_check_drained(struct notify *n)
{
	void (*cb)(void *) = n->drained;

	if (cb == NULL || n->sends != NULL)
		return;
	n->drained = NULL;
	uv_timer_stop(n->timer);
	cb(n->arg);
}

/* A message's probe ended: note how it went. */
static void
notify_sent_cb(void *arg, const struct probe_result *res)
{
	struct notify_send *s = arg, **pp;
	struct notify *n = s->n;
	char *err;

	s->probe = NULL;
	for (pp = &n->sends; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (res->ok)
		run_note(n->run, "notified (%s): %s", s->event, s->what);
	else {
		err = notify_replace(res->error, s->url_shown, s->url_hidden);
		notify_failed(n, s->event, s->what, err);
		free(err);
	}
	notify_send_free(s);
	notify_check_drained(n);
}

/* Expand a template for a message, kept in ns; NULL (err set) if not. */
static const char *
notify_expand(
    struct notify *n, struct notify_strings *ns, const char *tmpl, char **err)
{
	char *v;

	if ((v = expand(&n->run->env, NULL, 0, tmpl, err)) == NULL)
		return NULL;
	ns->v = xreallocarray(ns->v, ns->n + 1, sizeof *ns->v);
	ns->v[ns->n++] = v;
	return v;
}

/* Forget the expanded strings, wiping them (they may hold secrets). */
static void
notify_strings_free(struct notify_strings *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++) {
		explicit_bzero(ns->v[i], strlen(ns->v[i]));
		free(ns->v[i]);
	}
	free(ns->v);
}

/* The inventory's resolve and ca_file, as checks have them. */
static int
notify_common(struct notify *n, struct notify_strings *ns, struct probe_req *q,
    struct probe_name *resolve, char **err)
{
	const struct inventory *inv = n->run->plan->inv;
	size_t i;

	q->timeout_ms = NOTIFY_TIMEOUT_MS;
	for (i = 0; i < inv->nresolve; i++) {
		resolve[i].name = inv->resolve[i].key;
		if ((resolve[i].address = notify_expand(
			 n, ns, inv->resolve[i].value, err)) == NULL)
			return -1;
	}
	q->resolve = resolve;
	q->nresolve = inv->nresolve;
	q->ca_file = inv->ca_file;
	return 0;
}

/* Hand a message to the prober; its record takes what, shown, hidden. */
static void
notify_start(struct notify *n, const struct probe_req *q, const char *event,
    char *what, char *shown, char *hidden)
{
	struct notify_send *s = xcalloc(1, sizeof *s);

	s->n = n;
	s->event = xstrdup(event);
	s->what = what;
	s->url_shown = shown;
	s->url_hidden = hidden;
	if (run_prober(n->run) == NULL ||
	    (s->probe = probe_start(n->run->prober, q, notify_sent_cb, s)) ==
		NULL) {
		notify_failed(n, event, what, "cannot start libcurl");
		notify_send_free(s);
		return;
	}
	s->next = n->sends;
	n->sends = s;
}

/* Mail the message to notify.smtp's recipients. */
static void
notify_mail(struct notify *n, const char *event, const struct notify_msg *m)
{
	const struct notify_spec *sp = n->spec;
	struct notify_strings ns = { NULL, 0 };
	struct probe_req q;
	struct probe_name *resolve;
	const char **to;
	char *err = NULL, *what, *shown;
	struct buf w;
	size_t i;

	memset(&q, 0, sizeof q);
	resolve = xcalloc(n->run->plan->inv->nresolve + 1, sizeof *resolve);
	to = xcalloc(sp->nsmtp_to + 1, sizeof *to);
	buf_init(&w);
	if (notify_common(n, &ns, &q, resolve, &err) == -1 ||
	    (q.url = notify_expand(n, &ns, sp->smtp_url, &err)) == NULL ||
	    (q.from = notify_expand(n, &ns, sp->smtp_from, &err)) == NULL)
		goto bad;
	for (i = 0; i < sp->nsmtp_to; i++)
		if ((to[i] = notify_expand(n, &ns, sp->smtp_to[i], &err)) ==
		    NULL)
			goto bad;
	q.kind = PROBE_SMTP;
	q.to = to;
	q.nto = sp->nsmtp_to;
	q.subject = m->subject;
	q.body = m->mail;
	shown = probe_url_display(q.url);
	buf_adds(&w, "mail to ");
	for (i = 0; i < q.nto; i++)
		buf_printf(&w, "%s%s", i ? ", " : "", q.to[i]);
	buf_printf(&w, " through %s", shown);
	free(shown);
	what = secrets_scrub(&n->run->secrets, w.data, w.len);
	notify_start(n, &q, event, what, NULL, NULL);
	goto out;
bad:
	xasprintf(&what, "cannot expand '%s'", err != NULL ? err : "?");
	notify_failed(n, event, "mail", what);
	free(what);
out:
	buf_free(&w);
	free(err);
	free(to);
	free(resolve);
	notify_strings_free(&ns);
}

/* POST the message's JSON to notify.webhook. */
static void
notify_hook(struct notify *n, const char *event, const char *body_json)
{
	static const int ok[] = { 200, 201, 202, 204 };
	struct notify_strings ns = { NULL, 0 };
	struct probe_req q;
	struct probe_name *resolve;
	char *err = NULL, *hidden, *what;

	memset(&q, 0, sizeof q);
	resolve = xcalloc(n->run->plan->inv->nresolve + 1, sizeof *resolve);
	if (notify_common(n, &ns, &q, resolve, &err) == -1 ||
	    (q.url = notify_expand(n, &ns, n->spec->webhook_url, &err)) ==
		NULL) {
		xasprintf(&what, "cannot expand '%s'", err != NULL ? err : "?");
		notify_failed(n, event, "webhook", what);
		free(what);
		goto out;
	}
	q.kind = PROBE_HTTP;
	q.method = "POST";
	q.body = body_json;
	q.content_type = "application/json";
	q.expect_status = ok;
	q.nexpect_status = sizeof ok / sizeof ok[0];
	hidden = notify_hook_display(q.url);
	xasprintf(&what, "webhook %s", hidden);
	notify_start(n, &q, event, what, probe_url_display(q.url), hidden);
out:
	free(err);
	free(resolve);
	notify_strings_free(&ns);
}

/*
 * The run has just changed state (sched_set_run): if notify.on names the
 * new state, send its message — one per transition, whatever the number
 * of tasks behind it.
 */
void
notify_run(struct notify *n, struct run *r)
{
	const char *event = run_state_names[r->state];
	struct notify_msg m;

	if (n == NULL || (n->spec->on & notify_bit(r->state)) == 0)
		return;
	notify_msg_make(n, r, &m);
	if (n->spec->smtp_url != NULL)
		notify_mail(n, event, &m);
	if (n->spec->webhook_url != NULL && m.json == NULL)
		notify_failed(
		    n, event, "webhook", "cannot make its JSON (not UTF-8?)");
	else if (n->spec->webhook_url != NULL)
		notify_hook(n, event, m.json);
	notify_msg_free(&m);
}

/* The drain waited long enough: what is still under way is given up. */
static void
notify_drain_timeout_cb(uv_timer_t *h)
{
	struct notify *n = h->data;
	struct notify_send *s;

	while ((s = n->sends) != NULL) {
		n->sends = s->next;
		probe_cancel(s->probe);
		notify_failed(n, s->event, s->what,
		    "still under way when the daemon could wait no longer");
		notify_send_free(s);
	}
	notify_check_drained(n);
}

/*
 * The daemon is about to end: call cb(arg) once no message is under way
 * (at once if none is), or after NOTIFY_DRAIN_MS at the latest.
 */
void
notify_drain(struct notify *n, void (*cb)(void *), void *arg)
{
	if (n == NULL || n->sends == NULL) {
		cb(arg);
		return;
	}
	n->drained = cb;
	n->arg = arg;
	uv_timer_start(n->timer, notify_drain_timeout_cb, NOTIFY_DRAIN_MS, 0);
}
