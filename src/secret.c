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

/*
 * Whether the plan can ever read its secret number i: a step's text
 * refers to it, or it is the become_password of a host some step runs
 * on. An inventory shared by several plans may name, for a host one plan
 * never uses, a secret that plan declares only to be valid: a run of that
 * plan must not need it.
 */
int
secrets_needed(const struct plan *p, size_t i)
{
	const struct secret *sec = &p->secrets[i];
	const struct host *h;
	size_t ph, st, k, n = strlen(sec->name);

	if (sec->in_steps)
		return 1;
	for (ph = 0; ph < p->nphases; ph++)
		for (st = 0; st < p->phases[ph].nsteps; st++)
			for (k = 0; k < p->phases[ph].steps[st].non; k++) {
				h = plan_host(p, p->phases[ph].steps[st].on[k]);
				if (h != NULL && h->become_password != NULL &&
				    strncmp(h->become_password, "${secrets.",
					10) == 0 &&
				    strncmp(h->become_password + 10, sec->name,
					n) == 0 &&
				    strcmp(h->become_password + 10 + n, "}") ==
					0)
					return 1;
			}
	return 0;
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
	struct buf b;
	size_t i = 0, k, vl, best;

	buf_init(&b);
	while (i < len) {
		best = 0;
		for (k = 0; s != NULL && k < s->n; k++) {
			if (s->values[k] == NULL ||
			    (vl = strlen(s->values[k])) == 0 || vl > len - i)
				continue;
			if (vl > best &&
			    memcmp(text + i, s->values[k], vl) == 0)
				best = vl;
		}
		if (best > 0) {
			buf_adds(&b, "***");
			i += best;
		} else
			buf_addc(&b, text[i++]);
	}
	return buf_release(&b);
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
