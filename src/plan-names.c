/*
 * plan-names.c: the names a plan defines — its hosts (the inventory's),
 * variables (the inventory's value overrides the plan's), secrets and
 * captures — and every ${...} reference to them, checked where it is
 * written (an unknown variable is a validation error, reported at the
 * variable's own line, also inside a block scalar, with a "did you mean"
 * where a name is near). The plan's and the inventory's readers call the
 * check; the engine's expansion looks names up here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "inventory.h"
#include "load.h"
#include "node.h"
#include "plan-names.h"
#include "plan.h"
#include "vars.h"
#include "xmalloc.h"

/* The host of that name, or NULL. */
const struct host *
plan_host(const struct plan *p, const char *name)
{
	size_t i;

	if (p->inv == NULL)
		return NULL;
	for (i = 0; i < p->inv->nhosts; i++)
		if (strcmp(p->inv->hosts[i].name, name) == 0)
			return &p->inv->hosts[i];
	return NULL;
}

/* A variable's template: the inventory's value overrides the plan's. */
const char *
plan_var(const struct plan *p, const char *name)
{
	size_t i;

	if (p->inv != NULL)
		for (i = 0; i < p->inv->nvars; i++)
			if (strcmp(p->inv->vars[i].key, name) == 0)
				return p->inv->vars[i].value;
	for (i = 0; i < p->nvars; i++)
		if (strcmp(p->vars[i].key, name) == 0)
			return p->vars[i].value;
	return NULL;
}

/* The secret of that name, or NULL. */
const struct secret *
plan_secret(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nsecrets; i++)
		if (strcmp(p->secrets[i].name, name) == 0)
			return &p->secrets[i];
	return NULL;
}

/* The capture of that name, or NULL. */
const struct capture *
plan_capture(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ncaptures; i++)
		if (strcmp(p->captures[i].name, name) == 0)
			return &p->captures[i];
	return NULL;
}

/* Check the variables of notify's values (vars and secrets, no host). */
static void
names_check_notify(struct loader *L, const struct node *notify)
{
	const struct node *smtp, *to;
	size_t i;

	if (notify == NULL || notify->type != NODE_MAP)
		return;
	if ((smtp = node_get(notify, "smtp")) != NULL &&
	    smtp->type == NODE_MAP) {
		plan_check_refs(L, node_get(smtp, "url"));
		plan_check_refs(L, node_get(smtp, "from"));
		if ((to = node_get(smtp, "to")) != NULL && to->type == NODE_SEQ)
			for (i = 0; i < to->n; i++)
				plan_check_refs(L, to->vals[i]);
		else
			plan_check_refs(L, to);
	}
	plan_check_refs(L, node_get(node_get(notify, "webhook"), "url"));
}

/* Check the variables an inventory's values use. */
void
plan_check_inventory_refs(struct loader *L, const struct node *root)
{
	const struct node *hosts, *vars;
	size_t i;

	if (root == NULL || root->type != NODE_MAP)
		return;
	L->scope = SCOPE_VARS;
	if ((vars = node_get(root, "vars")) != NULL && vars->type == NODE_MAP)
		for (i = 0; i < vars->n; i++)
			plan_check_refs(L, vars->vals[i]);
	L->scope = SCOPE_INVENTORY;
	if ((hosts = node_get(root, "hosts")) != NULL &&
	    hosts->type == NODE_MAP)
		for (i = 0; i < hosts->n; i++)
			plan_check_refs(
			    L, node_get(hosts->vals[i], "become_password"));
	names_check_notify(L, node_get(root, "notify"));
}

struct names_varcheck {
	struct loader *L;
	const struct node *n;
};

/* The position of the k-th reference of a scalar in the source text. */
struct names_locate {
	size_t k;
	size_t off;
	int found;
};

/* vars_scan callback: remember the offset of the wanted reference. */
static int
names_locate_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct names_locate *loc = arg;

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
names_ref_pos(struct loader *L, const struct node *n, size_t k, unsigned *line,
    unsigned *col)
{
	struct names_locate loc = { k, 0, 0 };
	const struct node_doc *doc = L->doc;

	*line = n->line;
	*col = n->col;
	if (n->start >= n->end || n->end > doc->textlen)
		return;
	vars_scan(doc->text + n->start, n->end - n->start, names_locate_cb,
	    &loc, NULL);
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
names_in(const char *s, size_t len, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && strncmp(*list, s, len) == 0)
			return 1;
	return 0;
}

/* The names a plain ${NAME} may use: the plan's and the inventory's vars. */
static const char **
names_var_names(const struct plan *p)
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
names_near_var(const struct plan *p, const char *name)
{
	const char **names = names_var_names(p), *near;

	near = load_suggest(name, names);
	free(names);
	return near;
}

/* The nearest secret to name, or NULL. */
static const char *
names_near_secret(const struct plan *p, const char *name)
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
names_prefixed_known(const struct plan *p, const char *prefix, const char *rest)
{
	const char *dot = strchr(rest, '.');
	char *name;
	int known = 0;

	if (strcmp(prefix, "run") == 0)
		return names_in(rest, strlen(rest), load_run_names);
	if (strcmp(prefix, "secrets") == 0)
		return plan_secret(p, rest) != NULL;
	name =
	    xstrndup(rest, dot != NULL ? (size_t)(dot - rest) : strlen(rest));
	if (strcmp(prefix, "hosts") == 0)
		known = plan_host(p, name) != NULL && dot != NULL &&
		    names_in(dot + 1, strlen(dot + 1), load_host_fields);
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
names_why_dotted(const struct plan *p, const char *s, char *why, size_t len)
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
		else if ((near = names_near_var(p, dot + 1)) != NULL)
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
	    names_prefixed_known(p, near, dot + 1))
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
names_why_host(const struct plan *p, char *rest, char *why, size_t len)
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
	} else if (!names_in(field, strlen(field), load_host_fields)) {
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
names_why_secret(struct loader *L, const char *name, char *why, size_t len)
{
	struct plan *p = L->plan;
	const char *near;
	size_t i;

	for (i = 0; L->scope == SCOPE_STEP && i < p->nsecrets; i++)
		if (strcmp(p->secrets[i].name, name) == 0)
			p->secrets[i].in_steps = 1;
	if (plan_secret(p, name) != NULL)
		return NULL;
	if ((near = names_near_secret(p, name)) == NULL)
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
names_why_captured(struct loader *L, const char *rest, char *why, size_t len)
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
names_why_var(const struct plan *p, const char *name, char *why, size_t len)
{
	const char *near;

	if (plan_var(p, name) != NULL)
		return NULL;
	if ((near = names_near_var(p, name)) == NULL)
		return "not defined under 'vars:' of the plan or inventory";
	snprintf(why, len,
	    "not defined under 'vars:' of the plan or "
	    "inventory (did you mean '${%s}'?)",
	    near);
	return why;
}

/* Check one reference; 0 if known, else reports and returns 0 anyway. */
static int
names_varcheck_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct names_varcheck *vc = arg;
	struct loader *L = vc->L;
	struct plan *p = L->plan;
	char *s = xstrndup(name, len);
	unsigned line, col;
	const char *why = NULL;
	char extra[256] = "";

	(void)off;
	names_ref_pos(L, vc->n, k, &line, &col);

	if (strncmp(s, "run.", 4) == 0) {
		if (!names_in(s + 4, strlen(s + 4), load_run_names))
			why = "unknown built-in (run.id, run.uid, run.date)";
	} else if (strcmp(s, "host") == 0) {
		/* A variable using ${host} takes the host of the task
		 * that uses it; a host's own settings have none. */
		if (L->scope == SCOPE_INVENTORY)
			why = "${host} is only known inside a step";
	} else if (strncmp(s, "hosts.", 6) == 0)
		why = names_why_host(p, s + 6, extra, sizeof extra);
	else if (strncmp(s, "secrets.", 8) == 0)
		why = names_why_secret(L, s + 8, extra, sizeof extra);
	else if (strncmp(s, "captured.", 9) == 0)
		why = names_why_captured(L, s + 9, extra, sizeof extra);
	else if (strchr(s, '.') != NULL) {
		names_why_dotted(p, s, extra, sizeof extra);
		why = extra;
	} else
		why = names_why_var(p, s, extra, sizeof extra);
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
plan_check_refs(struct loader *L, const struct node *n)
{
	struct names_varcheck vc = { L, n };
	unsigned line, col;
	size_t bad = 0;
	int rc;

	if (n == NULL || n->type != NODE_SCALAR)
		return;
	rc = vars_scan(n->value, n->len, names_varcheck_cb, &vc, &bad);
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
