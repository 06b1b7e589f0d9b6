/*
 * preflight-local.c: the checks made on the controller itself: every
 * secret resolved (its value never shown), and every check step's host
 * and port reached with a TCP connect (preflight-reach.c), through the
 * inventory's `resolve`. Nothing is sent to the services.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "buf.h"
#include "expand.h"
#include "hostkey.h"
#include "local.h"
#include "plan.h"
#include "preflight-int.h"
#include "preflight.h"
#include "probe.h"
#include "remote.h"
#include "run.h"
#include "secret.h"
#include "wrapper.h"
#include "xmalloc.h"

/* Resolve every secret on its own: a line each, never its value. */
void
pf_secrets(struct preflight *pf)
{
	const struct plan *p = pf->plan;
	const struct secret *sec;
	struct secrets *s = &pf->secrets;
	struct pf_host *lh = pf_local(pf);
	char check[256], *err;
	size_t i;

	s->n = p->nsecrets;
	s->names = xcalloc(s->n, sizeof *s->names);
	s->values = xcalloc(s->n, sizeof *s->values);
	for (i = 0; i < s->n; i++) {
		sec = &p->secrets[i];
		s->names[i] = xstrdup(sec->name);
		snprintf(check, sizeof check, "secret:%s", sec->name);
		if (!secrets_needed(p, i)) {
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_PASS,
			    "not read by this plan (no step refers to it, "
			    "and no host a step runs on has it as "
			    "become_password)");
			continue;
		}
		s->values[i] = secrets_resolve_one(sec, &err);
		if (s->values[i] == NULL) {
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_FAIL,
			    "%s", err);
			free(err);
		} else if (s->values[i][0] == '\0')
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_WARN,
			    "%s %s is empty",
			    sec->env != NULL ? "environment variable" : "file",
			    sec->env != NULL ? sec->env : sec->file);
		else
			pf_host_add(lh, SLOT_SECRET, i, check, PREFLIGHT_PASS,
			    "resolved from %s %s",
			    sec->env != NULL ? "environment variable" : "file",
			    sec->env != NULL ? sec->env : sec->file);
	}
}

/* A check's connect ended. */
static void
pf_reach_cb(void *arg, int status, const char *addr)
{
	struct pf_reach *rc = arg;
	struct preflight *pf = rc->pf;
	struct pf_host *lh = pf_local(pf);
	const struct step *st = rc->step;
	char target[512];

	snprintf(target, sizeof target, "%s:%d%s%s%s", rc->name, rc->port,
	    rc->via != NULL ? " (resolve: " : "",
	    rc->via != NULL ? rc->via : "", rc->via != NULL ? ")" : "");
	if (st->kind == STEP_TCP && st->tcp.expect == TCP_EXPECT_CLOSED) {
		if (status == 0)
			pf_host_add(lh, SLOT_REACH, rc->seq, rc->check,
			    PREFLIGHT_PASS,
			    "%s is open now; the step expects it closed when "
			    "it runs",
			    target);
		else if (status == UV_ECONNREFUSED || status == UV_ETIMEDOUT)
			pf_host_add(lh, SLOT_REACH, rc->seq, rc->check,
			    PREFLIGHT_PASS, "%s is closed now (%s)", target,
			    uv_strerror(status));
		else
			pf_host_add(lh, SLOT_REACH, rc->seq, rc->check,
			    PREFLIGHT_FAIL, "%s: %s", target,
			    uv_strerror(status));
	} else if (status == 0)
		pf_host_add(lh, SLOT_REACH, rc->seq, rc->check, PREFLIGHT_PASS,
		    "%s answers (connected to %s)", target, addr);
	else
		pf_host_add(lh, SLOT_REACH, rc->seq, rc->check, PREFLIGHT_FAIL,
		    "%s does not answer from the controller: %s (%s)", target,
		    uv_strerror(status), addr);
	free(rc->check);
	free(rc->name);
	free(rc->via);
	free(rc);
	pf_unpend(pf);
}

/* Reach a check step's host and port from the controller. */
static void
pf_reach_step(
    struct preflight *pf, size_t phase, const struct step *st, size_t seq)
{
	const struct inventory *inv = pf->plan->inv;
	struct pf_host *lh = pf_local(pf);
	struct pf_reach *rc;
	char check[256], *url = NULL, *host = NULL, *port_s = NULL;
	char *err = NULL, *end;
	long v, lport = 0;
	size_t i;
	int port = 0;

	snprintf(check, sizeof check, "reach:%d/%s", pf->plan->phases[phase].id,
	    st->id);
	if (st->kind == STEP_TCP) {
		host = expand(
		    &pf->value_env, PLAN_LOCAL, phase, st->tcp.host, &err);
		if (host != NULL && err == NULL)
			port_s = expand(&pf->value_env, PLAN_LOCAL, phase,
			    st->tcp.port, &err);
	} else {
		url = expand(&pf->value_env, PLAN_LOCAL, phase,
		    st->kind == STEP_HTTP       ? st->http.url
			: st->kind == STEP_SMTP ? st->smtp.url
						: st->pop3.url,
		    &err);
	}
	if ((st->kind == STEP_TCP && port_s == NULL) ||
	    (st->kind != STEP_TCP && url == NULL)) {
		pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_FAIL,
		    "cannot expand its target: ${%s} has no value",
		    err != NULL ? err : "?");
		goto out;
	}
	if ((url != NULL && strstr(url, PREFLIGHT_UNKNOWN) != NULL) ||
	    (host != NULL && strstr(host, PREFLIGHT_UNKNOWN) != NULL) ||
	    (port_s != NULL && strstr(port_s, PREFLIGHT_UNKNOWN) != NULL)) {
		pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_WARN, "%s",
		    "not checked: its target depends on a value known only "
		    "during the run");
		goto out;
	}
	if (url != NULL) {
		if (probe_url_target(url, &host, &lport) == -1) {
			pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_FAIL,
			    "%s",
			    "its URL names no host, or no port its "
			    "scheme implies");
			goto out;
		}
		port = (int)lport;
	} else {
		v = strtol(port_s, &end, 10);
		if (*end != '\0' || end == port_s || v <= 0 || v > 65535) {
			pf_host_add(lh, SLOT_REACH, seq, check, PREFLIGHT_FAIL,
			    "port '%s' is not a port number", port_s);
			goto out;
		}
		port = (int)v;
	}
	rc = xcalloc(1, sizeof *rc);
	rc->pf = pf;
	rc->seq = seq;
	rc->check = xstrdup(check);
	rc->name = xstrdup(host);
	rc->port = port;
	rc->step = st;
	for (i = 0; i < inv->nresolve; i++) {
		if (strcasecmp(inv->resolve[i].key, host) != 0)
			continue;
		rc->via = expand(&pf->value_env, PLAN_LOCAL, phase,
		    inv->resolve[i].value, &err);
		free(err);
		err = NULL;
		break;
	}
	pf->pending++;
	preflight_reach(pf->loop, rc->via != NULL ? rc->via : host, port,
	    PF_REACH_MS, pf_reach_cb, rc);
out:
	free(err);
	free(url);
	free(host);
	free(port_s);
}

/* Every check step in range: reach its host and port. */
void
pf_reach_all(struct preflight *pf)
{
	const struct plan *p = pf->plan;
	const struct step *st;
	size_t i, j, seq = 0;

	for (i = 0; i < p->nphases; i++) {
		if (!pf_in_range(pf, i))
			continue;
		for (j = 0; j < p->phases[i].nsteps; j++) {
			st = &p->phases[i].steps[j];
			if (st->kind == STEP_HTTP || st->kind == STEP_SMTP ||
			    st->kind == STEP_POP3 || st->kind == STEP_TCP)
				pf_reach_step(pf, i, st, seq++);
		}
	}
}
