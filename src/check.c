/*
 * check.c: a check step as a task. It expands the step's settings for
 * this run (variables, secrets, captures), adds what the inventory says
 * about names (resolve) and trust (ca_file), and hands the check to the
 * run's prober (probe.c). What the check saw becomes the task's output,
 * passed or failed; its error fails the attempt (which may be retried).
 * Every word that reaches the output or the error is scrubbed of secrets
 * first: a basic-auth or POP3 password, or a password inside a URL.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "plan.h"
#include "step.h"
#include "probe.h"
#include "run.h"
#include "secret.h"
#include "xmalloc.h"

/* The strings a check's request points to, freed after it started. */
struct check_strings {
	char **v;
	size_t n;
};

/* Expand a template for the task, kept in cs; NULL (err set) on failure. */
static const char *
check_expand(
    struct run_task *t, struct check_strings *cs, const char *tmpl, char **err)
{
	char *v;

	if (tmpl == NULL)
		return NULL;
	if ((v = run_expand(t->phase->run, t, tmpl, err)) == NULL)
		return NULL;
	cs->v = xreallocarray(cs->v, cs->n + 1, sizeof *cs->v);
	cs->v[cs->n++] = v;
	return v;
}

/* Forget the expanded strings, wiping them (they may hold secrets). */
static void
check_strings_free(struct check_strings *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++) {
		explicit_bzero(cs->v[i], strlen(cs->v[i]));
		free(cs->v[i]);
	}
	free(cs->v);
}

/* The probe ended: keep what it saw, then pass or fail the attempt. */
static void
check_done_cb(void *arg, const struct probe_result *res)
{
	struct run_task *t = arg;
	const struct secrets *sec = &t->phase->run->secrets;
	char *ev, *err = NULL;

	t->probe = NULL;
	if (t->state != TASK_RUNNING || t->timed_out)
		return;
	ev = secrets_scrub(sec, res->evidence, strlen(res->evidence));
	if (!res->ok)
		err = secrets_scrub(sec, res->error, strlen(res->error));
	t->check_finish(t, res->ok, err, ev);
	free(ev);
	free(err);
}

/* The subject and body of an smtp check's message: they name the run. */
static void
check_mail_text(struct run_task *t, struct check_strings *cs,
    const char **subject, const char **body)
{
	struct run *r = t->phase->run;
	int phase = r->plan->phases[t->phase->index].id;
	char *s;

	if (*subject == NULL) {
		xasprintf(&s, "hostswap check %s run %d (%s) %d/%s",
		    r->plan->name, r->id, r->uid, phase, t->step->id);
		cs->v = xreallocarray(cs->v, cs->n + 1, sizeof *cs->v);
		cs->v[cs->n++] = s;
		*subject = s;
	}
	xasprintf(&s,
	    "This message was sent by hostswap to check that mail is "
	    "accepted.\r\n\r\nplan: %s\r\nrun: %d (uid %s, date %s)\r\n"
	    "step: %d/%s\r\n",
	    r->plan->name, r->id, r->uid, r->date, phase, t->step->id);
	cs->v = xreallocarray(cs->v, cs->n + 1, sizeof *cs->v);
	cs->v[cs->n++] = s;
	*body = s;
}

/*
 * Fill the request from the step: 0, -1 with err the variable that could
 * not be expanded, or -2 with err the message.
 */
static int
check_request(struct run_task *t, struct probe_req *q, struct check_strings *cs,
    struct probe_name *resolve, const char ***to, char **err)
{
	const struct step *st = t->step;
	const struct inventory *inv = t->phase->run->plan->inv;
	const char *port;
	size_t i;

	q->kind = st->kind == STEP_SMTP ? PROBE_SMTP
	    : st->kind == STEP_POP3     ? PROBE_POP3
	    : st->kind == STEP_TCP      ? PROBE_TCP
					: PROBE_HTTP;
	q->timeout_ms = st->timeout_ms;
	for (i = 0; inv != NULL && i < inv->nresolve; i++) {
		resolve[i].name = inv->resolve[i].key;
		if ((resolve[i].address = check_expand(
			 t, cs, inv->resolve[i].value, err)) == NULL)
			return -1;
	}
	q->resolve = resolve;
	q->nresolve = inv != NULL ? inv->nresolve : 0;
	q->ca_file = inv != NULL ? inv->ca_file : NULL;

	switch (st->kind) {
	case STEP_HTTP:
		if (st->http.timeout_ms > 0 &&
		    st->http.timeout_ms < q->timeout_ms)
			q->timeout_ms = st->http.timeout_ms;
		if ((q->url = check_expand(t, cs, st->http.url, err)) == NULL)
			return -1;
		q->method = st->http.method;
		q->expect_status = st->http.expect_status;
		q->nexpect_status = st->http.nexpect_status;
		if (st->http.contains != NULL &&
		    (q->contains = check_expand(
			 t, cs, st->http.contains, err)) == NULL)
			return -1;
		if (st->http.basic_auth != NULL &&
		    (q->basic_auth = check_expand(
			 t, cs, st->http.basic_auth, err)) == NULL)
			return -1;
		q->insecure = st->http.insecure;
		return 0;
	case STEP_SMTP:
		if ((q->url = check_expand(t, cs, st->smtp.url, err)) == NULL ||
		    (q->from = check_expand(t, cs, st->smtp.from, err)) == NULL)
			return -1;
		*to = xcalloc(st->smtp.nto + 1, sizeof **to);
		for (i = 0; i < st->smtp.nto; i++)
			if (((*to)[i] = check_expand(
				 t, cs, st->smtp.to[i], err)) == NULL)
				return -1;
		q->to = *to;
		q->nto = st->smtp.nto;
		if (st->smtp.subject != NULL &&
		    (q->subject = check_expand(t, cs, st->smtp.subject, err)) ==
			NULL)
			return -1;
		check_mail_text(t, cs, &q->subject, &q->body);
		return 0;
	case STEP_POP3:
		if ((q->url = check_expand(t, cs, st->pop3.url, err)) == NULL ||
		    (q->user = check_expand(t, cs, st->pop3.user, err)) ==
			NULL ||
		    (q->password = check_expand(
			 t, cs, st->pop3.password, err)) == NULL)
			return -1;
		q->has_expect = st->pop3.has_expect;
		q->expect_op = st->pop3.expect_op;
		q->expect_n = st->pop3.expect_n;
		if (st->pop3.expect_subject != NULL &&
		    (q->expect_subject = check_expand(
			 t, cs, st->pop3.expect_subject, err)) == NULL)
			return -1;
		return 0;
	case STEP_TCP:
		if ((q->host = check_expand(t, cs, st->tcp.host, err)) ==
			NULL ||
		    (port = check_expand(t, cs, st->tcp.port, err)) == NULL)
			return -1;
		q->port = atoi(port);
		if (q->port < 1 || q->port > 65535) {
			xasprintf(err, "port '%s' is not a port number", port);
			return -2;
		}
		q->expect_closed = st->tcp.expect == TCP_EXPECT_CLOSED;
		return 0;
	default:
		xasprintf(err, "'%s' is not a check", step_kind_name(st->kind));
		return -2;
	}
}

/* Start the check of a task's attempt; finish ends it (task.c's
 * task_finish(): ok, error, what the check saw). */
void
check_start(struct run_task *t, check_finish finish)
{
	struct run *r = t->phase->run;
	const struct inventory *inv = r->plan->inv;
	struct check_strings cs = { NULL, 0 };
	struct probe_req q;
	struct probe_name *resolve;
	const char **to = NULL;
	char *err = NULL, *msg;
	int rc;

	t->check_finish = finish;
	memset(&q, 0, sizeof q);
	resolve = xcalloc(
	    inv != NULL && inv->nresolve ? inv->nresolve : 1, sizeof *resolve);
	if ((rc = check_request(t, &q, &cs, resolve, &to, &err)) != 0) {
		if (rc == -2)
			msg = xstrdup(err);
		else
			xasprintf(&msg, "cannot expand: unknown '%s'",
			    err ? err : "?");
		t->check_finish(t, 0, msg, NULL);
		free(msg);
		goto out;
	}
	if (run_prober(r) == NULL) {
		t->check_finish(t, 0, "cannot start libcurl", NULL);
		goto out;
	}
	if ((t->probe = probe_start(r->prober, &q, check_done_cb, t)) == NULL)
		t->check_finish(t, 0, "cannot start the check (libcurl)", NULL);
out:
	free(err);
	free(to);
	free(resolve);
	check_strings_free(&cs);
}
