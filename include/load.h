/*
 * load.h: what the plan, step and inventory loaders share: the loading
 * context, typed getters that report a wrong type, an unknown key (with
 * the nearest known one) or a missing key at its place.
 */
#ifndef HOSTSWAP_LOAD_H
#define HOSTSWAP_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

struct diag;
struct plan;

/* Where a value's variables are checked, which decides what they may use. */
enum load_scope {
	SCOPE_VARS,      /* plan/inventory vars: no ${host}, no captures */
	SCOPE_INVENTORY, /* host settings: vars and secrets */
	SCOPE_STEP,      /* a step: everything, captures of earlier phases */
};

struct loader {
	struct diag *diag;
	struct node_doc *doc; /* the document being read */
	struct plan *plan;
	enum load_scope scope;
	size_t phase; /* index of the phase being read */
	int failed;
	/* Every capture name the plan declares and its phase, found before
	 * the phases are read, to explain a capture used too early. */
	struct load_declared {
		const char *name;
		size_t phase;
	} * declared;
	size_t ndeclared;
};

void load_error(struct loader *, const struct node *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void load_error_at(struct loader *, unsigned, unsigned, const char *, ...)
    __attribute__((format(printf, 4, 5)));
const char *load_suggest(const char *, const char *const *);
void load_keys(
    struct loader *, const struct node *, const char *const *, const char *);
int load_map(struct loader *, const struct node *, const char *);
int load_str(struct loader *, const struct node *, const char *, int, char **);
int load_int(
    struct loader *, const struct node *, const char *, long, long, long *);
int load_bool(struct loader *, const struct node *, const char *, int *);
int load_duration(
    struct loader *, const struct node *, const char *, int, uint64_t *);
int load_strlist(
    struct loader *, const struct node *, const char *, char ***, size_t *);
int load_intlist(struct loader *, const struct node *, const char *, long, long,
    int **, size_t *);
int load_scalar_int(const struct node *, long, long, long *);
void load_strlist_free(char **, size_t);

#endif
