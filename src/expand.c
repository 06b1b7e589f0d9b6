/*
 * expand.c: expands templates for one task (a host, a phase). Plain
 * variables may use other variables; they are expanded recursively, and
 * loading has already refused loops. Secrets come only through the
 * secret hook; without one they print as "***".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "captured.h"
#include "expand.h"
#include "plan-names.h"
#include "plan.h"
#include "vars.h"
#include "xmalloc.h"

/* Deepest chain of variables using variables. */
#define EXPAND_MAX_DEPTH 16

struct expand_ctx {
	const struct expand_env *env;
	const char *host;
	size_t phase;
	int depth;
};

static char *expand_lookup(const char *, void *);

/* Today's date in the controller's time zone, YYYYMMDD. */
void
expand_today(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, len, "%Y%m%d", &tm);
}

/*
 * The key expected for a name in a phase, from the inventory's pins: after
 * the swap phase, with host_keys follow_machine, the other machine's.
 * NULL if that pin is not a full key.
 */
char *
expand_host_key_pin(const struct plan *p, const char *name, size_t phase)
{
	const struct host *h = plan_host(p, name);
	int i;

	if (h == NULL)
		return NULL;
	if (p->has_swap && p->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE &&
	    phase < p->nphases && p->phases[phase].id > p->swap_after_phase &&
	    (i = plan_swapped_host(p, name)) != -1)
		h = plan_host(p, p->swap_hosts[1 - i]);
	if (h == NULL || h->host_key == NULL ||
	    strncmp(h->host_key, "SHA256:", 7) == 0)
		return NULL;
	return xstrdup(h->host_key);
}

/* show's placeholder for a key no pin gives. */
static char *
expand_show_host_key(
    const struct expand_env *env, const char *name, size_t phase)
{
	char *s;

	if ((s = expand_host_key_pin(env->plan, name, phase)) != NULL)
		return s;
	xasprintf(&s, "<host_key:%s>", name);
	return s;
}

/* A field of hosts.NAME. */
static char *
expand_host_field(struct expand_ctx *c, const char *rest)
{
	const struct plan *p = c->env->plan;
	const struct host *h;
	char *name = xstrdup(rest), *field, *v = NULL;

	if ((field = strchr(name, '.')) == NULL)
		goto out;
	*field++ = '\0';
	if ((h = plan_host(p, name)) == NULL)
		goto out;
	if (strcmp(field, "address") == 0)
		v = xstrdup(h->address);
	else if (strcmp(field, "port") == 0)
		xasprintf(&v, "%d", h->port);
	else if (strcmp(field, "user") == 0)
		v = xstrdup(h->user);
	else if (strcmp(field, "host_key") == 0)
		v = c->env->host_key != NULL
		    ? c->env->host_key(c->env, name, c->phase)
		    : expand_show_host_key(c->env, name, c->phase);
out:
	free(name);
	return v;
}

/* A captured value: the hook, or show's placeholder. */
static char *
expand_captured(struct expand_ctx *c, const char *rest)
{
	char *name = xstrdup(rest), *host, *v;

	if ((host = strchr(name, '.')) != NULL)
		*host++ = '\0';
	if (c->env->captured != NULL)
		v = c->env->captured(c->env, name, host);
	else if (host != NULL)
		xasprintf(&v, "<captured:%s.%s>", name, host);
	else
		xasprintf(&v, "<captured:%s>", name);
	free(name);
	return v;
}

/* vars_expand callback: the value of one name. */
static char *
expand_lookup(const char *name, void *arg)
{
	struct expand_ctx *c = arg, sub;
	const struct expand_env *env = c->env;
	const char *tmpl;

	if (strcmp(name, "run.id") == 0)
		return xstrdup(env->run_id);
	if (strcmp(name, "run.uid") == 0)
		return xstrdup(env->run_uid);
	if (strcmp(name, "run.date") == 0)
		return xstrdup(env->run_date);
	if (strcmp(name, "host") == 0)
		return c->host != NULL ? xstrdup(c->host) : NULL;
	if (strncmp(name, "hosts.", 6) == 0)
		return expand_host_field(c, name + 6);
	if (strncmp(name, "secrets.", 8) == 0) {
		if (plan_secret(env->plan, name + 8) == NULL)
			return NULL;
		return env->secret != NULL ? env->secret(env, name + 8)
					   : xstrdup("***");
	}
	if (strncmp(name, "captured.", 9) == 0)
		return expand_captured(c, name + 9);
	if ((tmpl = plan_var(env->plan, name)) == NULL ||
	    c->depth >= EXPAND_MAX_DEPTH)
		return NULL;
	sub = *c;
	sub.depth++;
	return vars_expand(tmpl, expand_lookup, &sub, NULL);
}

/*
 * Expand tmpl for a task on host (NULL outside a task) in the phase of
 * that index. Returns the value, or NULL with *err naming what was not
 * known (allocated).
 */
char *
expand(const struct expand_env *env, const char *host, size_t phase,
    const char *tmpl, char **err)
{
	struct expand_ctx c = { env, host, phase, 0 };

	return vars_expand(tmpl, expand_lookup, &c, err);
}

struct expand_text {
	const struct expand_env *env;
	char *refusal;
};

/* vars_scan callback: refuse a captured value that is not plain text. */
static int
expand_text_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct expand_text *x = arg;
	char *ref, *host, *v;

	(void)off;
	(void)k;
	if (len <= 9 || strncmp(name, "captured.", 9) != 0)
		return 0;
	ref = xstrndup(name + 9, len - 9);
	if ((host = strchr(ref, '.')) != NULL)
		*host++ = '\0';
	/* An unknown capture is the expansion's to report. */
	if ((v = x->env->captured(x->env, ref, host)) != NULL) {
		x->refusal = captured_refusal(ref, host, v);
		free(v);
	}
	free(ref);
	return x->refusal != NULL;
}

/*
 * Whether every ${captured...} of tmpl may be substituted as text (SPEC
 * v3 §2): 0, or -1 with *err the message that fails the task (allocated).
 * Nothing to check without a captured hook (show's placeholders).
 */
int
expand_captured_as_text(
    const struct expand_env *env, const char *tmpl, char **err)
{
	struct expand_text x = { env, NULL };

	*err = NULL;
	if (tmpl == NULL || env->captured == NULL)
		return 0;
	vars_scan(tmpl, strlen(tmpl), expand_text_cb, &x, NULL);
	if (x.refusal == NULL)
		return 0;
	*err = x.refusal;
	return -1;
}

/* An environment for `show`: placeholders and masked secrets. */
void
expand_env_show(struct expand_env *env, const struct plan *p)
{
	static char today[16];

	memset(env, 0, sizeof *env);
	expand_today(today, sizeof today);
	env->plan = p;
	env->run_id = "<run.id>";
	env->run_uid = "<run.uid>";
	env->run_date = today;
}
