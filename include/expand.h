/*
 * expand.h: the values of ${...} at a point of a run. The same code serves
 * `show` (placeholders for what only a run knows, secrets as ***) and the
 * engine (values from the state), through the hooks of struct expand_env.
 */
#ifndef HOSTSWAP_EXPAND_H
#define HOSTSWAP_EXPAND_H

#include <stddef.h>

struct plan;

struct expand_env {
	const struct plan *plan;
	const char *run_id;
	const char *run_uid;
	const char *run_date; /* YYYYMMDD */
	/* Each hook returns an allocated value, or NULL if unknown. NULL
	 * hooks give show's placeholders. */
	char *(*host_key)(const struct expand_env *, const char *, size_t);
	char *(*captured)(
	    const struct expand_env *, const char *, const char *);
	char *(*secret)(const struct expand_env *, const char *);
	void *arg;
};

void expand_env_show(struct expand_env *, const struct plan *);
char *expand(
    const struct expand_env *, const char *, size_t, const char *, char **);
int expand_captured_as_text(const struct expand_env *, const char *, char **);
char *expand_host_key_pin(const struct plan *, const char *, size_t);
void expand_today(char *, size_t);

#endif
