/*
 * load.c: typed access to YAML nodes with errors at the right place, and
 * the "did you mean" suggestion. It knows no plan: the check of ${...}
 * references against what a plan defines is plan-names.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "duration.h"
#include "load.h"
#include "xmalloc.h"

/* Report an error at a node. */
void
load_error(struct loader *L, const struct node *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(
	    L->diag, L->doc->path, n ? n->line : 1, n ? n->col : 1, "%s", msg);
	L->failed = 1;
}

/* Report an error at a line and column of the current document. */
void
load_error_at(
    struct loader *L, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(L->diag, L->doc->path, line, col, "%s", msg);
	L->failed = 1;
}

/*
 * Edit distance between two short strings, counting an insertion, a
 * deletion, a substitution or a swap of two neighbours as one edit (the
 * optimal string alignment form of Damerau-Levenshtein): "rn" is one edit
 * from "run", and "tkao" one from "tako".
 */
static size_t
load_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t rows[3][64], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	size_t *tmp;

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[lb];
}

/* The candidate nearest to word if it is near enough, else NULL. */
const char *
load_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t d, bestd = SIZE_MAX, limit;

	limit = strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	for (; *cands != NULL; cands++) {
		d = load_distance(word, *cands);
		if (d < bestd) {
			bestd = d;
			best = *cands;
		}
	}
	return bestd <= limit ? best : NULL;
}

/*
 * Report every key of map that is not in known, suggesting the nearest
 * known key the mapping does not have already ("rn" next to "on" means
 * "run", never "on").
 */
void
load_keys(struct loader *L, const struct node *map, const char *const *known,
    const char *what)
{
	const char *const *k;
	const char **absent;
	const char *near;
	size_t i, n = 0;

	if (map == NULL || map->type != NODE_MAP)
		return;
	for (k = known; *k != NULL; k++)
		n++;
	absent = xcalloc(n + 1, sizeof *absent);
	for (n = 0, k = known; *k != NULL; k++)
		if (node_get(map, *k) == NULL)
			absent[n++] = *k;
	for (i = 0; i < map->n; i++) {
		for (k = known; *k != NULL; k++)
			if (strcmp(*k, map->keys[i]->value) == 0)
				break;
		if (*k != NULL)
			continue;
		near = load_suggest(map->keys[i]->value, absent);
		if (near != NULL)
			load_error(L, map->keys[i],
			    "unknown key '%s' in %s (did you mean '%s'?)",
			    map->keys[i]->value, what, near);
		else
			load_error(L, map->keys[i], "unknown key '%s' in %s",
			    map->keys[i]->value, what);
	}
	free(absent);
}

/* Check that n is a mapping; 0 if so, -1 (reported) if not. */
int
load_map(struct loader *L, const struct node *n, const char *what)
{
	if (n != NULL && n->type == NODE_MAP)
		return 0;
	load_error(
	    L, n, "%s must be a mapping, not a %s", what, node_type_name(n));
	return -1;
}

/* Report a missing required key at the mapping. */
static void
load_missing(struct loader *L, const struct node *map, const char *key)
{
	load_error(L, map, "missing required key '%s'", key);
}

/*
 * A string under key. Returns 1 and sets *out (allocated) if present, 0 if
 * absent or null (an error if required), -1 if of the wrong type.
 */
int
load_str(struct loader *L, const struct node *map, const char *key,
    int required, char **out)
{
	const struct node *n = node_get(map, key);

	*out = NULL;
	if (n == NULL || node_is_null(n)) {
		if (required)
			load_missing(
			    L, n != NULL ? node_key(map, key) : map, key);
		return required ? -1 : 0;
	}
	if (n->type != NODE_SCALAR) {
		load_error(L, n, "'%s' must be a string, not a %s", key,
		    node_type_name(n));
		return -1;
	}
	*out = xstrdup(n->value);
	return 1;
}

/* Parse a plain decimal scalar within [min, max]; 0 or -1. */
int
load_scalar_int(const struct node *n, long min, long max, long *out)
{
	char *end;
	long v;

	if (n == NULL || n->type != NODE_SCALAR || n->style != NODE_PLAIN ||
	    n->len == 0)
		return -1;
	errno = 0;
	v = strtol(n->value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max ||
	    n->value[0] == '+' || n->value[0] == ' ')
		return -1;
	*out = v;
	return 0;
}

/* An integer under key in [min, max]: 1 present, 0 absent, -1 bad. */
int
load_int(struct loader *L, const struct node *map, const char *key, long min,
    long max, long *out)
{
	const struct node *n = node_get(map, key);

	if (n == NULL || node_is_null(n))
		return 0;
	if (load_scalar_int(n, min, max, out) == -1) {
		if (max == LONG_MAX)
			load_error(L, n,
			    "'%s' must be an integer >= %ld, "
			    "not '%s'",
			    key, min,
			    n->type == NODE_SCALAR ? n->value
						   : node_type_name(n));
		else
			load_error(L, n,
			    "'%s' must be an integer from %ld "
			    "to %ld, not '%s'",
			    key, min, max,
			    n->type == NODE_SCALAR ? n->value
						   : node_type_name(n));
		return -1;
	}
	return 1;
}

/* A boolean (true/false) under key: 1 present, 0 absent, -1 bad. */
int
load_bool(struct loader *L, const struct node *map, const char *key, int *out)
{
	const struct node *n = node_get(map, key);

	if (n == NULL || node_is_null(n))
		return 0;
	if (n->type == NODE_SCALAR && n->style == NODE_PLAIN) {
		if (strcmp(n->value, "true") == 0 ||
		    strcmp(n->value, "True") == 0 ||
		    strcmp(n->value, "TRUE") == 0) {
			*out = 1;
			return 1;
		}
		if (strcmp(n->value, "false") == 0 ||
		    strcmp(n->value, "False") == 0 ||
		    strcmp(n->value, "FALSE") == 0) {
			*out = 0;
			return 1;
		}
	}
	load_error(L, n, "'%s' must be true or false, not '%s'", key,
	    n->type == NODE_SCALAR ? n->value : node_type_name(n));
	return -1;
}

/* A duration under key: 1 present, 0 absent, -1 bad. */
int
load_duration(struct loader *L, const struct node *map, const char *key,
    int allow_zero, uint64_t *out)
{
	const struct node *n = node_get(map, key);
	uint64_t ms;

	if (n == NULL || node_is_null(n))
		return 0;
	if (n->type != NODE_SCALAR || duration_parse(n->value, &ms) == -1) {
		load_error(L, n,
		    "bad duration '%s' for '%s' (write a number "
		    "and a unit: 500ms, 90s, 10m, 1h, 1h30m)",
		    n->type == NODE_SCALAR ? n->value : node_type_name(n), key);
		return -1;
	}
	if (ms == 0 && !allow_zero) {
		load_error(L, n, "'%s' must be longer than 0s", key);
		return -1;
	}
	*out = ms;
	return 1;
}

/* Free a list of strings. */
void
load_strlist_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A string or a list of strings: 1 present, 0 absent, -1 bad. */
int
load_strlist(struct loader *L, const struct node *map, const char *key,
    char ***out, size_t *nout)
{
	const struct node *n = node_get(map, key);
	size_t i;

	*out = NULL;
	*nout = 0;
	if (n == NULL || node_is_null(n))
		return 0;
	if (n->type == NODE_SCALAR) {
		*out = xcalloc(1, sizeof **out);
		(*out)[0] = xstrdup(n->value);
		*nout = 1;
		return 1;
	}
	if (n->type != NODE_SEQ) {
		load_error(L, n,
		    "'%s' must be a string or a list of strings, "
		    "not a %s",
		    key, node_type_name(n));
		return -1;
	}
	if (n->n == 0) {
		load_error(L, n, "'%s' must not be an empty list", key);
		return -1;
	}
	for (i = 0; i < n->n; i++) {
		if (n->vals[i]->type != NODE_SCALAR ||
		    node_is_null(n->vals[i])) {
			load_error(L, n->vals[i],
			    "'%s' must list strings, "
			    "not a %s",
			    key, node_type_name(n->vals[i]));
			load_strlist_free(*out, *nout);
			*out = NULL;
			*nout = 0;
			return -1;
		}
	}
	*out = xcalloc(n->n, sizeof **out);
	for (i = 0; i < n->n; i++)
		(*out)[i] = xstrdup(n->vals[i]->value);
	*nout = n->n;
	return 1;
}

/* An integer or a list of integers: 1 present, 0 absent, -1 bad. */
int
load_intlist(struct loader *L, const struct node *map, const char *key,
    long min, long max, int **out, size_t *nout)
{
	const struct node *n = node_get(map, key), *item;
	size_t i, count;
	long v;

	*out = NULL;
	*nout = 0;
	if (n == NULL || node_is_null(n))
		return 0;
	if (n->type == NODE_MAP) {
		load_error(L, n,
		    "'%s' must be an integer or a list of "
		    "integers, not a mapping",
		    key);
		return -1;
	}
	count = n->type == NODE_SEQ ? n->n : 1;
	if (count == 0) {
		load_error(L, n, "'%s' must not be an empty list", key);
		return -1;
	}
	*out = xcalloc(count, sizeof **out);
	for (i = 0; i < count; i++) {
		item = n->type == NODE_SEQ ? n->vals[i] : n;
		if (load_scalar_int(item, min, max, &v) == -1) {
			load_error(L, item,
			    "'%s' must hold integers from %ld "
			    "to %ld, not '%s'",
			    key, min, max,
			    item->type == NODE_SCALAR ? item->value
						      : node_type_name(item));
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[i] = (int)v;
	}
	*nout = count;
	return 1;
}
