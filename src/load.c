/*
 * load.c: typed access to YAML nodes with errors at the right place, the
 * "did you mean" suggestion, and the check of ${...} references against the
 * plan (SPEC §2: an unknown variable is a validation error, reported at the
 * variable's own line, also inside a block scalar).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "duration.h"
#include "inventory.h"
#include "load.h"
#include "plan.h"
#include "vars.h"
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

struct load_varcheck {
	struct loader *L;
	const struct node *n;
};

/* The position of the k-th reference of a scalar in the source text. */
struct load_locate {
	size_t k;
	size_t off;
	int found;
};

/* vars_scan callback: remember the offset of the wanted reference. */
static int
load_locate_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct load_locate *loc = arg;

	(void)name;
	(void)len;
	if (k != loc->k)
		return 0;
	loc->off = off;
	loc->found = 1;
	return 1;
}

/*
 * Where the k-th reference of scalar n stands in the file: found by
 * scanning the raw source of the scalar the same way as its value, which
 * gives the right line inside block scalars too. Falls back to the node.
 */
static void
load_ref_pos(struct loader *L, const struct node *n, size_t k, unsigned *line,
    unsigned *col)
{
	struct load_locate loc = { k, 0, 0 };
	const struct node_doc *doc = L->doc;

	*line = n->line;
	*col = n->col;
	if (n->start >= n->end || n->end > doc->textlen)
		return;
	vars_scan(doc->text + n->start, n->end - n->start, load_locate_cb, &loc,
	    NULL);
	if (loc.found)
		node_pos(doc, n->start + loc.off, line, col);
}

/* The built-in names under "run.". */
static const char *const load_run_names[] = { "id", "uid", "date", NULL };

/* The fields under "hosts.NAME.". */
static const char *const load_host_fields[] = { "address", "port", "host_key",
	"user", NULL };

/* Whether a name is in a NULL-terminated list. */
static int
load_in(const char *s, size_t len, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && strncmp(*list, s, len) == 0)
			return 1;
	return 0;
}

/* The names a plain ${NAME} may use: the plan's and the inventory's vars. */
static const char **
load_var_names(const struct plan *p)
{
	size_t i, n = 0, ninv = p->inv != NULL ? p->inv->nvars : 0;
	const char **v = xcalloc(p->nvars + ninv + 1, sizeof *v);

	for (i = 0; i < p->nvars; i++)
		v[n++] = p->vars[i].key;
	for (i = 0; i < ninv; i++)
		v[n++] = p->inv->vars[i].key;
	return v;
}

/* The nearest plan or inventory variable to name, or NULL. */
static const char *
load_near_var(const struct plan *p, const char *name)
{
	const char **names = load_var_names(p), *near;

	near = load_suggest(name, names);
	free(names);
	return near;
}

/* The nearest secret to name, or NULL. */
static const char *
load_near_secret(const struct plan *p, const char *name)
{
	const char **names = xcalloc(p->nsecrets + 1, sizeof *names), *near;
	size_t i;

	for (i = 0; i < p->nsecrets; i++)
		names[i] = p->secrets[i].name;
	near = load_suggest(name, names);
	free(names);
	return near;
}

/* The prefixes a name with a dot may start with. */
static const char *const load_prefixes[] = { "run", "hosts", "secrets",
	"captured", NULL };

/* Whether ${PREFIX.rest} names something the plan has. */
static int
load_prefixed_known(const struct plan *p, const char *prefix, const char *rest)
{
	const char *dot = strchr(rest, '.');
	char *name;
	int known = 0;

	if (strcmp(prefix, "run") == 0)
		return load_in(rest, strlen(rest), load_run_names);
	if (strcmp(prefix, "secrets") == 0)
		return plan_secret(p, rest) != NULL;
	name =
	    xstrndup(rest, dot != NULL ? (size_t)(dot - rest) : strlen(rest));
	if (strcmp(prefix, "hosts") == 0)
		known = plan_host(p, name) != NULL && dot != NULL &&
		    load_in(dot + 1, strlen(dot + 1), load_host_fields);
	else if (strcmp(prefix, "captured") == 0)
		known = plan_capture(p, name) != NULL;
	free(name);
	return known;
}

/*
 * Why a name with a dot that starts with no known prefix is unknown, with
 * the reference it likely means: ${vars.X} or ${var.X} for a variable X
 * (plan and inventory variables take no prefix), or a misspelt prefix
 * (${host.ika.address}).
 */
static void
load_why_dotted(const struct plan *p, const char *s, char *why, size_t len)
{
	const char *dot = strchr(s, '.'), *near;
	char *head = xstrndup(s, (size_t)(dot - s));

	if ((strcmp(head, "vars") == 0 || strcmp(head, "var") == 0) &&
	    strchr(dot + 1, '.') == NULL) {
		if (plan_var(p, dot + 1) != NULL)
			snprintf(why, len,
			    "plan and inventory variables take "
			    "no prefix (did you mean '${%s}'?)",
			    dot + 1);
		else if ((near = load_near_var(p, dot + 1)) != NULL)
			snprintf(why, len,
			    "plan and inventory variables take "
			    "no prefix, and '%s' is not one (did you mean "
			    "'${%s}'?)",
			    dot + 1, near);
		else
			snprintf(why, len,
			    "plan and inventory variables take "
			    "no prefix, and '%s' is not defined under 'vars:'",
			    dot + 1);
	} else if ((near = load_suggest(head, load_prefixes)) != NULL &&
	    load_prefixed_known(p, near, dot + 1))
		snprintf(why, len, "no such name (did you mean '${%s%s}'?)",
		    near, dot);
	else
		snprintf(why, len,
		    "a name with a dot starts with run., hosts., "
		    "secrets. or captured.");
	free(head);
}

/*
 * Why ${hosts.REST} is unknown (REST is NAME.FIELD), or NULL: no such host,
 * or no such field, with the reference it likely means. why (len bytes)
 * holds a message that needs one.
 */
static const char *
load_why_host(const struct plan *p, char *rest, char *why, size_t len)
{
	const char *near, *msg = NULL;
	char *dot, *field;

	if ((dot = strchr(rest, '.')) == NULL)
		return "write ${hosts.NAME.address}, .port, .user or "
		       ".host_key";
	*dot = '\0';
	field = dot + 1;
	if (plan_host(p, rest) == NULL) {
		near = inventory_nearest_host(p->inv, rest);
		if (near != NULL) {
			snprintf(why, len,
			    "no such host in the inventory "
			    "(did you mean '${hosts.%s.%s}'?)",
			    near, field);
			msg = why;
		} else
			msg = "no such host in the inventory";
	} else if (!load_in(field, strlen(field), load_host_fields)) {
		msg = "hosts.NAME has address, port, user and "
		      "host_key";
		near = load_suggest(field, load_host_fields);
		if (near != NULL) {
			snprintf(why, len,
			    "%s (did you mean "
			    "'${hosts.%s.%s}'?)",
			    msg, rest, near);
			msg = why;
		}
	}
	*dot = '.';
	return msg;
}

/*
 * Why ${secrets.NAME} is unknown, or NULL; why (len bytes) holds a message
 * that needs one. A secret used in a step is marked so.
 */
static const char *
load_why_secret(struct loader *L, const char *name, char *why, size_t len)
{
	struct plan *p = L->plan;
	const char *near;
	size_t i;

	for (i = 0; L->scope == SCOPE_STEP && i < p->nsecrets; i++)
		if (strcmp(p->secrets[i].name, name) == 0)
			p->secrets[i].in_steps = 1;
	if (plan_secret(p, name) != NULL)
		return NULL;
	if ((near = load_near_secret(p, name)) == NULL)
		return "no such secret under 'secrets:'";
	snprintf(why, len,
	    "no such secret under 'secrets:' (did "
	    "you mean '${secrets.%s}'?)",
	    near);
	return why;
}

/*
 * Why ${captured.REST} is unknown (REST is NAME or NAME.HOST), or NULL:
 * known only inside a step, from a phase after the capturing one, and on
 * a host the capturing step runs on. why (len bytes) holds a message that
 * needs one.
 */
static const char *
load_why_captured(struct loader *L, const char *rest, char *why, size_t len)
{
	const struct capture *cap;
	char *cname = xstrdup(rest), *chost;
	const char *msg = NULL;
	size_t i;
	int on = 0;

	if ((chost = strchr(cname, '.')) != NULL)
		*chost++ = '\0';
	cap = plan_capture(L->plan, cname);
	if (L->scope != SCOPE_STEP)
		msg = "captured values are only known inside a step";
	else if (cap == NULL) {
		msg = "no step of the plan captures it";
		for (i = 0; i < L->ndeclared; i++) {
			if (strcmp(L->declared[i].name, cname) != 0)
				continue;
			msg = L->declared[i].phase == L->phase
			    ? "captured in this same phase: a capture "
			      "is usable only from a later phase"
			    : "captured only in a later phase";
		}
	} else if (chost == NULL && !cap->step->on_local &&
	    cap->step->non > 1) {
		snprintf(why, len,
		    "captured on several "
		    "hosts: write ${captured.%s.HOST}",
		    cname);
		msg = why;
	} else if (chost != NULL) {
		for (i = 0; i < cap->step->non; i++)
			if (strcmp(cap->step->on[i], chost) == 0)
				on = 1;
		if (!on)
			msg = "the capturing step does not run on "
			      "that host";
	}
	free(cname);
	return msg;
}

/*
 * Why a plain ${NAME} is unknown, or NULL: not a plan or inventory
 * variable. why (len bytes) holds a message that needs one.
 */
static const char *
load_why_var(const struct plan *p, const char *name, char *why, size_t len)
{
	const char *near;

	if (plan_var(p, name) != NULL)
		return NULL;
	if ((near = load_near_var(p, name)) == NULL)
		return "not defined under 'vars:' of the plan or inventory";
	snprintf(why, len,
	    "not defined under 'vars:' of the plan or "
	    "inventory (did you mean '${%s}'?)",
	    near);
	return why;
}

/* Check one reference; 0 if known, else reports and returns 0 anyway. */
static int
load_varcheck_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct load_varcheck *vc = arg;
	struct loader *L = vc->L;
	struct plan *p = L->plan;
	char *s = xstrndup(name, len);
	unsigned line, col;
	const char *why = NULL;
	char extra[256] = "";

	(void)off;
	load_ref_pos(L, vc->n, k, &line, &col);

	if (strncmp(s, "run.", 4) == 0) {
		if (!load_in(s + 4, strlen(s + 4), load_run_names))
			why = "unknown built-in (run.id, run.uid, run.date)";
	} else if (strcmp(s, "host") == 0) {
		/* A variable using ${host} takes the host of the task
		 * that uses it; a host's own settings have none. */
		if (L->scope == SCOPE_INVENTORY)
			why = "${host} is only known inside a step";
	} else if (strncmp(s, "hosts.", 6) == 0)
		why = load_why_host(p, s + 6, extra, sizeof extra);
	else if (strncmp(s, "secrets.", 8) == 0)
		why = load_why_secret(L, s + 8, extra, sizeof extra);
	else if (strncmp(s, "captured.", 9) == 0)
		why = load_why_captured(L, s + 9, extra, sizeof extra);
	else if (strchr(s, '.') != NULL) {
		load_why_dotted(p, s, extra, sizeof extra);
		why = extra;
	} else
		why = load_why_var(p, s, extra, sizeof extra);
	if (why != NULL) {
		diag_add(L->diag, L->doc->path, line, col,
		    "unknown variable '${%s}': %s", s, why);
		L->failed = 1;
	}
	free(s);
	return 0;
}

/* Check every ${...} of scalar n against the plan, in the loader's scope. */
void
load_check_vars(struct loader *L, const struct node *n)
{
	struct load_varcheck vc = { L, n };
	unsigned line, col;
	size_t bad = 0;
	int rc;

	if (n == NULL || n->type != NODE_SCALAR)
		return;
	rc = vars_scan(n->value, n->len, load_varcheck_cb, &vc, &bad);
	if (rc == VARS_OK)
		return;
	/* The raw source has the same references: find the bad one there. */
	line = n->line;
	col = n->col;
	if (n->start < n->end && n->end <= L->doc->textlen &&
	    vars_scan(L->doc->text + n->start, n->end - n->start, NULL, NULL,
		&bad) != VARS_OK)
		node_pos(L->doc, n->start + bad, &line, &col);
	diag_add(L->diag, L->doc->path, line, col, "%s", vars_strerror(rc));
	L->failed = 1;
}
