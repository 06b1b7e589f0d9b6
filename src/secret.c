/*
 * secret.c: resolves secrets from the environment or a file, keeps them in
 * memory only, and replaces every occurrence of a secret's value by "***"
 * in text about to be printed or kept. Values are wiped when freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "plan.h"
#include "scrub.h"
#include "secret.h"
#include "xmalloc.h"

/* Read a secret file: its contents less one trailing newline. */
static char *
secrets_read_file(const char *path, char **err)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		xasprintf(err, "cannot read secret file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	explicit_bzero(chunk, sizeof chunk);
	fclose(fp);
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_release(&b);
}

/*
 * Resolve one secret: its value (allocated), or NULL with *err saying why
 * (never the value).
 */
char *
secrets_resolve_one(const struct secret *sec, char **err)
{
	const char *v;
	char *value;

	*err = NULL;
	if (sec->env != NULL) {
		if ((v = getenv(sec->env)) == NULL) {
			xasprintf(err,
			    "secret '%s': environment "
			    "variable %s is not set",
			    sec->name, sec->env);
			return NULL;
		}
		value = xstrdup(v);
	} else if ((value = secrets_read_file(sec->file, err)) == NULL)
		return NULL;
	log_conceal(value); /* nothing prints it from now on */
	return value;
}

/* Whether a notification template refers to ${secrets.NAME}. */
static int
secrets_in_notify(const struct notify_spec *ns, const char *name)
{
	char ref[256];
	size_t k;

	snprintf(ref, sizeof ref, "${secrets.%s}", name);
	if ((ns->smtp_url != NULL && strstr(ns->smtp_url, ref) != NULL) ||
	    (ns->smtp_from != NULL && strstr(ns->smtp_from, ref) != NULL) ||
	    (ns->webhook_url != NULL && strstr(ns->webhook_url, ref) != NULL))
		return 1;
	for (k = 0; k < ns->nsmtp_to; k++)
		if (strstr(ns->smtp_to[k], ref) != NULL)
			return 1;
	return 0;
}

/* Whether a host's become_password is exactly ${secrets.NAME}. */
static int
secrets_is_become(const struct host *h, const char *name)
{
	size_t n = strlen(name);

	return h->become_password != NULL &&
	    strncmp(h->become_password, "${secrets.", 10) == 0 &&
	    strncmp(h->become_password + 10, name, n) == 0 &&
	    strcmp(h->become_password + 10 + n, "}") == 0;
}

/* Whether some step of the plan runs on the host. */
static int
secrets_host_used(const struct plan *p, const char *host)
{
	size_t ph, st, k;

	for (ph = 0; ph < p->nphases; ph++)
		for (st = 0; st < p->phases[ph].nsteps; st++)
			for (k = 0; k < p->phases[ph].steps[st].non; k++)
				if (strcmp(p->phases[ph].steps[st].on[k],
					host) == 0)
					return 1;
	return 0;
}

/*
 * Whether a run of the plan must resolve its secret number i. Every
 * secret must, but one: a secret that is only the become_password of
 * hosts no step runs on (an inventory shared by several plans names it
 * for a host this plan never uses, and the plan declares it only to be
 * valid). A secret a step's text or a notification refers to, or that
 * nothing refers to, is resolved as ever: a missing one stops the run.
 */
int
secrets_needed(const struct plan *p, size_t i)
{
	const struct secret *sec = &p->secrets[i];
	const struct inventory *inv = p->inv;
	size_t k, become = 0;

	if (sec->in_steps || inv == NULL)
		return 1;
	if (inv->notify != NULL && secrets_in_notify(inv->notify, sec->name))
		return 1;
	for (k = 0; k < inv->nhosts; k++) {
		if (!secrets_is_become(&inv->hosts[k], sec->name))
			continue;
		if (secrets_host_used(p, inv->hosts[k].name))
			return 1;
		become++;
	}
	return become == 0;
}

/*
 * Resolve every secret the plan can read (secrets_needed). Returns 0, or
 * -1 with *err naming the first one that cannot be had (its value is
 * never in the message). A secret the plan never reads stays unresolved.
 */
int
secrets_resolve(struct secrets *s, const struct plan *p, char **err)
{
	size_t i;

	*err = NULL;
	memset(s, 0, sizeof *s);
	s->n = p->nsecrets;
	s->names = xcalloc(s->n, sizeof *s->names);
	s->values = xcalloc(s->n, sizeof *s->values);
	for (i = 0; i < s->n; i++) {
		s->names[i] = xstrdup(p->secrets[i].name);
		if (!secrets_needed(p, i))
			continue;
		if ((s->values[i] = secrets_resolve_one(&p->secrets[i], err)) ==
		    NULL)
			return -1;
	}
	return 0;
}

/* A secret's value, or NULL. */
const char *
secrets_get(const struct secrets *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->values[i];
	return NULL;
}

/*
 * The name of the first secret (in the plan's order) whose value occurs
 * in text, or NULL. A capture must not hold one (SPEC v3 §2).
 */
const char *
secrets_find(const struct secrets *s, const char *text)
{
	size_t k;

	for (k = 0; s != NULL && k < s->n; k++)
		if (s->values[k] != NULL && s->values[k][0] != '\0' &&
		    strstr(text, s->values[k]) != NULL)
			return s->names[k];
	return NULL;
}

/* A copy of text[0..len) with every secret value replaced by "***". */
char *
secrets_scrub(const struct secrets *s, const char *text, size_t len)
{
	return s != NULL ? scrub(s->values, s->n, text, len)
			 : scrub(NULL, 0, text, len);
}

/* Wipe and free every value. */
void
secrets_free(struct secrets *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->names[i]);
		if (s->values[i] != NULL) {
			explicit_bzero(s->values[i], strlen(s->values[i]));
			free(s->values[i]);
		}
	}
	free(s->names);
	free(s->values);
	memset(s, 0, sizeof *s);
}
