/*
 * secret.h: the plan's secrets, resolved only when a run needs them, and
 * scrubbed from everything hostswap prints or keeps.
 */
#ifndef HOSTSWAP_SECRET_H
#define HOSTSWAP_SECRET_H

#include <stddef.h>

struct plan;
struct secret;

struct secrets {
	char **names;
	char **values; /* NULL: not resolved */
	size_t n;
};

char *secrets_resolve_one(const struct secret *, char **);
int secrets_needed(const struct plan *, size_t);
int secrets_resolve(struct secrets *, const struct plan *, char **);
const char *secrets_get(const struct secrets *, const char *);
const char *secrets_find(const struct secrets *, const char *);
char *secrets_scrub(const struct secrets *, const char *, size_t);
void secrets_free(struct secrets *);

#endif
