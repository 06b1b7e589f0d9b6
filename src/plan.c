/*
 * plan.c: loads a plan and its inventory into struct plan and validates
 * everything SPEC §2 lists, collecting every error rather than stopping at
 * the first. The order matters: the inventory (hosts, vars) and the plan's
 * vars and secrets are read before the phases, because every step's
 * variables and targets are checked against them; captures are registered
 * at the end of their phase, so a step can use only earlier phases' ones.
 */
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "inventory.h"
#include "load.h"
#include "node.h"
#include "plan-names.h"
#include "plan.h"
#include "step.h"
#include "vars.h"
#include "xmalloc.h"

/* The defaults' defaults (SPEC §2). */
#define PLAN_DEFAULT_TIMEOUT_MS     (10ULL * 60 * 1000)
#define PLAN_DEFAULT_RETRY_DELAY_MS (5ULL * 1000)

static const char *const plan_keys[] = { "hostswap", "name", "description",
	"vars", "secrets", "defaults", "swap", "inventory", "phases", NULL };
static const char *const defaults_keys[] = { "timeout", "retries",
	"retry_delay", NULL };
static const char *const swap_keys[] = { "after_phase", "hosts", "host_keys",
	NULL };
static const char *const secret_keys[] = { "env", "file", NULL };
static const char *const phase_keys[] = { "id", "name", "description", "steps",
	NULL };

/* The phase with that id, or NULL. */
const struct phase *
plan_phase(const struct plan *p, int id)
{
	size_t i;

	for (i = 0; i < p->nphases; i++)
		if (p->phases[i].id == id)
			return &p->phases[i];
	return NULL;
}

/*
 * The step marked `outage: start` or `outage: end`, and its phase's id in
 * *phase_id; NULL when the plan marks no outage.
 */
const struct step *
plan_outage_step(const struct plan *p, enum step_outage which, int *phase_id)
{
	size_t i, j;

	for (i = 0; i < p->nphases; i++)
		for (j = 0; j < p->phases[i].nsteps; j++)
			if (p->phases[i].steps[j].outage == which) {
				if (phase_id != NULL)
					*phase_id = p->phases[i].id;
				return &p->phases[i].steps[j];
			}
	return NULL;
}

/* Index (0 or 1) of a host in the swap, or -1 if it is not swapped. */
int
plan_swapped_host(const struct plan *p, const char *name)
{
	int i;

	if (!p->has_swap)
		return -1;
	for (i = 0; i < 2; i++)
		if (p->swap_hosts[i] != NULL &&
		    strcmp(p->swap_hosts[i], name) == 0)
			return i;
	return -1;
}

/* Read `vars:` (name -> string). */
static void
plan_load_vars(struct loader *L, const struct node *n)
{
	struct plan *p = L->plan;
	size_t i;

	if (n == NULL || node_is_null(n) || load_map(L, n, "'vars'") == -1)
		return;
	p->vars = xcalloc(n->n, sizeof *p->vars);
	for (i = 0; i < n->n; i++) {
		if (!vars_valid_name(n->keys[i]->value, n->keys[i]->len) ||
		    strchr(n->keys[i]->value, '.') != NULL) {
			load_error(L, n->keys[i],
			    "bad variable name '%s' "
			    "(letters, digits, '_' and '-')",
			    n->keys[i]->value);
			continue;
		}
		if (n->vals[i]->type != NODE_SCALAR) {
			load_error(L, n->vals[i],
			    "variable '%s' must be a "
			    "string, not a %s",
			    n->keys[i]->value, node_type_name(n->vals[i]));
			continue;
		}
		p->vars[p->nvars].key = xstrdup(n->keys[i]->value);
		p->vars[p->nvars].value = xstrdup(n->vals[i]->value);
		p->vars[p->nvars].line = n->keys[i]->line;
		p->vars[p->nvars].col = n->keys[i]->col;
		p->nvars++;
	}
}

/* Read `secrets:` (name -> {env: VAR} | {file: PATH}); nothing resolved. */
static void
plan_load_secrets(struct loader *L, const struct node *n)
{
	struct plan *p = L->plan;
	struct secret *s;
	const struct node *v;
	size_t i;

	if (n == NULL || node_is_null(n) || load_map(L, n, "'secrets'") == -1)
		return;
	p->secrets = xcalloc(n->n, sizeof *p->secrets);
	for (i = 0; i < n->n; i++) {
		v = n->vals[i];
		if (!vars_valid_name(n->keys[i]->value, n->keys[i]->len) ||
		    strchr(n->keys[i]->value, '.') != NULL) {
			load_error(L, n->keys[i], "bad secret name '%s'",
			    n->keys[i]->value);
			continue;
		}
		if (load_map(L, v, "a secret ({env: VAR} or {file: PATH})") ==
		    -1)
			continue;
		load_keys(L, v, secret_keys, "a secret");
		s = &p->secrets[p->nsecrets++];
		s->name = xstrdup(n->keys[i]->value);
		load_str(L, v, "env", 0, &s->env);
		load_str(L, v, "file", 0, &s->file);
		if ((s->env == NULL) == (s->file == NULL))
			load_error(L, v,
			    "a secret needs exactly one of 'env' "
			    "or 'file'");
	}
}

/* Read `defaults:`. */
static void
plan_load_defaults(struct loader *L, const struct node *n)
{
	struct plan *p = L->plan;
	long v;

	p->default_timeout_ms = PLAN_DEFAULT_TIMEOUT_MS;
	p->default_retries = 0;
	p->default_retry_delay_ms = PLAN_DEFAULT_RETRY_DELAY_MS;
	if (n == NULL || node_is_null(n) || load_map(L, n, "'defaults'") == -1)
		return;
	load_keys(L, n, defaults_keys, "'defaults'");
	load_duration(L, n, "timeout", 0, &p->default_timeout_ms);
	if (load_int(L, n, "retries", 0, 100, &v) == 1)
		p->default_retries = (int)v;
	load_duration(L, n, "retry_delay", 1, &p->default_retry_delay_ms);
}

/* Read `swap:`; its phase is checked once the phases are known. */
static void
plan_load_swap(struct loader *L, const struct node *n)
{
	struct plan *p = L->plan;
	const struct node *hosts;
	const char *near;
	char *mode;
	long v;
	size_t i;

	if (n == NULL || node_is_null(n) || load_map(L, n, "'swap'") == -1)
		return;
	load_keys(L, n, swap_keys, "'swap'");
	p->has_swap = 1;
	p->swap_after_phase = -1;
	if (node_get(n, "after_phase") == NULL)
		load_error(L, n, "missing required key 'after_phase'");
	else if (load_int(L, n, "after_phase", 0, INT_MAX, &v) == 1)
		p->swap_after_phase = (int)v;
	hosts = node_get(n, "hosts");
	if (hosts == NULL)
		load_error(L, n, "missing required key 'hosts'");
	else if (hosts->type != NODE_SEQ || hosts->n != 2)
		load_error(L, hosts, "'hosts' must list exactly two hosts");
	else {
		for (i = 0; i < 2; i++) {
			const struct node *h = hosts->vals[i];

			if (h->type != NODE_SCALAR) {
				load_error(L, h,
				    "'hosts' must list host "
				    "names");
				continue;
			}
			near = inventory_nearest_host(p->inv, h->value);
			if (plan_host(p, h->value) == NULL && near != NULL)
				load_error(L, h,
				    "unknown host '%s' (did you mean '%s'?)",
				    h->value, near);
			else if (plan_host(p, h->value) == NULL)
				load_error(L, h,
				    "unknown host '%s' (not in "
				    "the inventory)",
				    h->value);
			p->swap_hosts[i] = xstrdup(h->value);
		}
		if (p->swap_hosts[0] && p->swap_hosts[1] &&
		    strcmp(p->swap_hosts[0], p->swap_hosts[1]) == 0)
			load_error(L, hosts->vals[1],
			    "a host cannot swap with "
			    "itself");
	}
	p->swap_host_keys = HOST_KEYS_FOLLOW_MACHINE;
	if (load_str(L, n, "host_keys", 0, &mode) == 1) {
		if (strcmp(mode, "follow_address") == 0)
			p->swap_host_keys = HOST_KEYS_FOLLOW_ADDRESS;
		else if (strcmp(mode, "follow_machine") != 0)
			load_error(L, node_get(n, "host_keys"),
			    "'host_keys' "
			    "must be 'follow_machine' or 'follow_address', not "
			    "'%s'",
			    mode);
		free(mode);
	}
}

/*
 * A phase with a detach or reboot task on a host may hold no other task
 * on that host: the connection drops under it, so nothing else could
 * finish there, and the phase barrier is what orders them.
 */
static void
plan_check_exclusive(struct loader *L, const struct phase *ph)
{
	const struct step *a, *b;
	size_t i, j, hi, hj;

	for (i = 0; i < ph->nsteps; i++) {
		a = &ph->steps[i];
		if (a->kind != STEP_DETACH && a->kind != STEP_REBOOT)
			continue;
		for (hi = 0; hi < a->non; hi++) {
			for (j = 0; j < ph->nsteps; j++) {
				if (j == i)
					continue;
				b = &ph->steps[j];
				/* Two such steps: report the pair once. */
				if (j < i &&
				    (b->kind == STEP_DETACH ||
					b->kind == STEP_REBOOT))
					continue;
				for (hj = 0; hj < b->non; hj++) {
					if (strcmp(a->on[hi], b->on[hj]) != 0)
						continue;
					load_error_at(L, a->kind_line,
					    a->kind_col,
					    "phase %d: the '%s' "
					    "step '%s' on host '%s' must be "
					    "the only task on that host in its "
					    "phase, but step '%s' also runs "
					    "there",
					    ph->id, step_kind_name(a->kind),
					    a->id ? a->id : "?", a->on[hi],
					    b->id ? b->id : "?");
				}
			}
		}
	}
}

/*
 * The plan's outage marks: at most one `outage: start` and one `outage:
 * end`, both or neither, and the start in a phase before or the same as
 * the end's (a plan reads top to bottom, and so does its outage).
 */
static void
plan_check_outage(struct loader *L)
{
	const struct plan *p = L->plan;
	const struct step *mark[3] = { NULL, NULL, NULL }, *st;
	size_t i, j, at[3] = { 0, 0, 0 };
	static const char *const names[3] = { "", "start", "end" };

	for (i = 0; i < p->nphases; i++) {
		for (j = 0; j < p->phases[i].nsteps; j++) {
			st = &p->phases[i].steps[j];
			if (st->outage == OUTAGE_NONE)
				continue;
			if (mark[st->outage] != NULL) {
				load_error_at(L, st->outage_line,
				    st->outage_col,
				    "a second 'outage: %s' (the first is "
				    "step '%s', line %u): a plan has one "
				    "outage",
				    names[st->outage],
				    mark[st->outage]->id ? mark[st->outage]->id
							 : "?",
				    mark[st->outage]->outage_line);
				continue;
			}
			mark[st->outage] = st;
			at[st->outage] = i;
		}
	}
	if (mark[OUTAGE_START] != NULL && mark[OUTAGE_END] == NULL)
		load_error_at(L, mark[OUTAGE_START]->outage_line,
		    mark[OUTAGE_START]->outage_col,
		    "'outage: start' needs a step with 'outage: end' in "
		    "this phase or a later one");
	else if (mark[OUTAGE_END] != NULL && mark[OUTAGE_START] == NULL)
		load_error_at(L, mark[OUTAGE_END]->outage_line,
		    mark[OUTAGE_END]->outage_col,
		    "'outage: end' needs a step with 'outage: start' in "
		    "this phase or an earlier one");
	else if (mark[OUTAGE_START] != NULL &&
	    at[OUTAGE_END] < at[OUTAGE_START])
		load_error_at(L, mark[OUTAGE_END]->outage_line,
		    mark[OUTAGE_END]->outage_col,
		    "'outage: end' in phase %d comes before 'outage: start' "
		    "(step '%s', phase %d): the outage must start in the "
		    "same phase or an earlier one",
		    p->phases[at[OUTAGE_END]].id,
		    mark[OUTAGE_START]->id ? mark[OUTAGE_START]->id : "?",
		    p->phases[at[OUTAGE_START]].id);
}

/*
 * Read the phase's id: required, and above the id of the phase before it
 * (prev_id is that phase's id node, NULL if it has none).
 */
static void
plan_load_phase_id(struct loader *L, const struct node *n, size_t index,
    const struct node *prev_id)
{
	struct plan *p = L->plan;
	struct phase *ph = &p->phases[index];
	const struct node *idn = node_get(n, "id");
	long v;

	if (idn == NULL)
		load_error(L, n, "missing required key 'id'");
	else if (load_int(L, n, "id", 0, INT_MAX, &v) == 1) {
		ph->id = (int)v;
		if (prev_id != NULL && index > 0 &&
		    p->phases[index - 1].id >= 0 &&
		    ph->id <= p->phases[index - 1].id) {
			if (ph->id == p->phases[index - 1].id)
				load_error(L, idn,
				    "duplicate phase id %d "
				    "(first at line %u): phase ids must be "
				    "strictly increasing",
				    ph->id, prev_id->line);
			else
				load_error(L, idn,
				    "phase ids out of order: "
				    "%d comes after %d (they must be strictly "
				    "increasing)",
				    ph->id, p->phases[index - 1].id);
		}
	}
}

/*
 * Read the phase's steps: a non-empty list, each id once in the phase.
 * Returns -1 (reported) if there is no such list.
 */
static int
plan_load_steps(struct loader *L, const struct node *n, size_t index)
{
	struct phase *ph = &L->plan->phases[index];
	const struct node *steps = node_get(n, "steps"), *idn;
	size_t i, j;

	if (steps == NULL || node_is_null(steps)) {
		load_error(L, steps ? node_key(n, "steps") : n,
		    "missing required key 'steps'");
		return -1;
	}
	if (steps->type != NODE_SEQ) {
		load_error(L, steps, "'steps' must be a list, not a %s",
		    node_type_name(steps));
		return -1;
	}
	if (steps->n == 0) {
		load_error(L, steps, "a phase needs at least one step");
		return -1;
	}
	L->phase = index;
	L->scope = SCOPE_STEP;
	ph->steps = xcalloc(steps->n, sizeof *ph->steps);
	for (i = 0; i < steps->n; i++) {
		step_load(L, steps->vals[i], &ph->steps[i]);
		ph->nsteps++;
		if (ph->steps[i].id == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (ph->steps[j].id == NULL ||
			    strcmp(ph->steps[j].id, ph->steps[i].id) != 0)
				continue;
			idn = node_get(steps->vals[i], "id");
			load_error(L, idn ? idn : steps->vals[i],
			    "duplicate step id '%s' in phase %d (first at "
			    "line %u)",
			    ph->steps[i].id, ph->id, ph->steps[j].line);
			break;
		}
	}
	return 0;
}

/* A phase has at most one gate: one point of no return. */
static void
plan_check_gate(struct loader *L, const struct phase *ph)
{
	size_t i, j;

	for (i = 0, j = SIZE_MAX; i < ph->nsteps; i++) {
		if (!ph->steps[i].gate || ph->steps[i].kind != STEP_MANUAL)
			continue;
		if (j != SIZE_MAX)
			load_error_at(L, ph->steps[i].line, ph->steps[i].col,
			    "phase %d has a gate already (step '%s', line "
			    "%u): one point of no return a phase",
			    ph->id, ph->steps[j].id ? ph->steps[j].id : "?",
			    ph->steps[j].line);
		else
			j = i;
	}
}

/*
 * Add the phase's captures to the plan's: they become usable from the
 * next phase on, and a name is captured once in a plan.
 */
static void
plan_add_captures(struct loader *L, size_t index)
{
	struct plan *p = L->plan;
	struct phase *ph = &p->phases[index];
	size_t i;

	for (i = 0; i < ph->nsteps; i++) {
		struct step *st = &ph->steps[i];

		if (st->capture == NULL)
			continue;
		if (plan_capture(p, st->capture) != NULL) {
			load_error_at(L, st->line, st->col,
			    "duplicate capture "
			    "name '%s'",
			    st->capture);
			continue;
		}
		p->captures = xreallocarray(
		    p->captures, p->ncaptures + 1, sizeof *p->captures);
		p->captures[p->ncaptures].name = xstrdup(st->capture);
		p->captures[p->ncaptures].phase = index;
		p->captures[p->ncaptures].step = st;
		p->ncaptures++;
	}
}

/* Read one phase; index is its place in the plan. */
static void
plan_load_phase(struct loader *L, const struct node *n, size_t index,
    const struct node *prev_id)
{
	struct phase *ph = &L->plan->phases[index];

	ph->line = n->line;
	ph->col = n->col;
	ph->id = -1;
	if (load_map(L, n, "a phase") == -1)
		return;
	load_keys(L, n, phase_keys, "a phase");
	plan_load_phase_id(L, n, index, prev_id);
	load_str(L, n, "name", 1, &ph->name);
	load_str(L, n, "description", 0, &ph->description);
	if (plan_load_steps(L, n, index) == -1)
		return;
	plan_check_exclusive(L, ph);
	plan_check_gate(L, ph);
	plan_add_captures(L, index);
}

/* Read `phases:`. */
static void
plan_load_phases(struct loader *L, const struct node *root)
{
	struct plan *p = L->plan;
	const struct node *n = node_get(root, "phases");
	size_t i;

	if (n == NULL || node_is_null(n)) {
		load_error(L, n ? node_key(root, "phases") : root,
		    "missing required key 'phases'");
		return;
	}
	if (n->type != NODE_SEQ) {
		load_error(L, n, "'phases' must be a list, not a %s",
		    node_type_name(n));
		return;
	}
	if (n->n == 0) {
		load_error(L, n, "a plan needs at least one phase");
		return;
	}
	/* Note where each capture is declared, for clearer messages. */
	for (i = 0; i < n->n; i++) {
		const struct node *steps = node_get(n->vals[i], "steps"), *c;
		size_t j;

		if (steps == NULL || steps->type != NODE_SEQ)
			continue;
		for (j = 0; j < steps->n; j++) {
			c = node_get(steps->vals[j], "capture");
			if (c == NULL || c->type != NODE_SCALAR)
				continue;
			L->declared = xreallocarray(
			    L->declared, L->ndeclared + 1, sizeof *L->declared);
			L->declared[L->ndeclared].name = c->value;
			L->declared[L->ndeclared].phase = i;
			L->ndeclared++;
		}
	}
	p->phases = xcalloc(n->n, sizeof *p->phases);
	for (i = 0; i < n->n; i++) {
		plan_load_phase(L, n->vals[i], i,
		    i > 0 ? node_get(n->vals[i - 1], "id") : NULL);
		p->nphases++;
	}
	plan_check_outage(L);
}

struct plan_cycle {
	const struct plan *p;
	const char *chain[16];
	size_t depth;
	int loop;
};

/* vars_scan callback: follow plain variable references, depth first. */
static int
plan_cycle_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct plan_cycle *c = arg;
	const char *val;
	char *s;
	size_t i;

	(void)off;
	(void)k;
	if (memchr(name, '.', len) != NULL)
		return 0;
	s = xstrndup(name, len);
	for (i = 0; i < c->depth; i++) {
		if (strcmp(c->chain[i], s) == 0) {
			c->loop = 1;
			free(s);
			return 1;
		}
	}
	if ((val = plan_var(c->p, s)) == NULL ||
	    c->depth == sizeof c->chain / sizeof c->chain[0]) {
		c->loop = c->depth == sizeof c->chain / sizeof c->chain[0];
		free(s);
		return c->loop;
	}
	c->chain[c->depth++] = s;
	vars_scan(val, strlen(val), plan_cycle_cb, c, NULL);
	if (!c->loop) {
		c->depth--;
		free(s);
	}
	return c->loop;
}

/* Report variables that refer to themselves, directly or not. */
static void
plan_check_var_loops(struct loader *L, const struct kv *vars, size_t n)
{
	struct plan_cycle c;
	size_t i, j;

	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof c);
		c.p = L->plan;
		c.chain[c.depth++] = vars[i].key;
		vars_scan(vars[i].value, strlen(vars[i].value), plan_cycle_cb,
		    &c, NULL);
		if (c.loop)
			load_error_at(L, vars[i].line, vars[i].col,
			    "variable '%s' refers to itself (through %zu "
			    "other variable%s)",
			    vars[i].key, c.depth - 1, c.depth == 2 ? "" : "s");
		for (j = 1; j < c.depth; j++)
			free((char *)c.chain[j]);
	}
}

/* Read the inventory the plan uses: --inventory, inline, or its file. */
static int
plan_load_inventory(struct loader *L, const struct node *root,
    const char *inv_path, struct node_doc **inv_doc,
    const struct node **inv_root)
{
	struct plan *p = L->plan;
	const struct node *n = node_get(root, "inventory");
	struct node_doc *plan_doc = L->doc;
	char *path = NULL;
	int rc;

	p->inv = xcalloc(1, sizeof *p->inv);
	*inv_doc = NULL;
	*inv_root = NULL;
	if (inv_path != NULL)
		path = xstrdup(inv_path);
	else if (n == NULL || node_is_null(n))
		return 0;
	else if (n->type == NODE_MAP) {
		p->inv->path = xstrdup(p->path);
		p->inv->inline_ = 1;
		*inv_root = n;
		inventory_load(L, n, p->inv);
		return 0;
	} else if (n->type == NODE_SCALAR) {
		if (n->value[0] == '/' || strcmp(p->dir, ".") == 0)
			path = xstrdup(n->value);
		else
			xasprintf(&path, "%s/%s", p->dir, n->value);
	} else {
		load_error(L, n,
		    "'inventory' must be a mapping or a file "
		    "name, not a %s",
		    node_type_name(n));
		return 0;
	}
	rc = node_load(path, inv_doc, L->diag);
	if (rc != NODE_OK) {
		free(path);
		L->failed = 1;
		return rc == NODE_NOFILE ? PLAN_NOFILE : 0;
	}
	p->inv->path = path;
	L->doc = *inv_doc;
	*inv_root = (*inv_doc)->root;
	inventory_load(L, (*inv_doc)->root, p->inv);
	L->doc = plan_doc;
	return 0;
}

/* Load a plan from its parsed document. */
static int
plan_load_doc(struct node_doc *doc, const char *inv_path, struct plan **out,
    struct diag *d)
{
	struct loader L;
	struct plan *p;
	struct node_doc *inv_doc = NULL;
	const struct node *root = doc->root, *inv_root = NULL, *n;
	char *tmp;
	long v;
	int rc = PLAN_OK;
	size_t i;

	*out = NULL;
	p = xcalloc(1, sizeof *p);
	p->path = xstrdup(doc->path);
	tmp = xstrdup(doc->path);
	p->dir = xstrdup(dirname(tmp));
	free(tmp);
	memset(&L, 0, sizeof L);
	L.diag = d;
	L.doc = doc;
	L.plan = p;
	L.scope = SCOPE_VARS;

	if (root == NULL || node_is_null(root)) {
		load_error_at(&L, 1, 1, "empty file");
		goto done;
	}
	if (load_map(&L, root, "a plan") == -1)
		goto done;
	load_keys(&L, root, plan_keys, "the plan");

	if ((n = node_get(root, "hostswap")) == NULL)
		load_error(&L, root,
		    "missing required key 'hostswap' (the "
		    "format version: write 'hostswap: 1')");
	else if (load_int(&L, root, "hostswap", 0, INT_MAX, &v) == 1) {
		p->version = (int)v;
		if (v != 1)
			load_error(&L, n,
			    "unsupported format version %ld "
			    "(this hostswap reads version 1)",
			    v);
	}
	load_str(&L, root, "name", 1, &p->name);
	load_str(&L, root, "description", 0, &p->description);
	plan_load_vars(&L, node_get(root, "vars"));
	plan_load_secrets(&L, node_get(root, "secrets"));
	plan_load_defaults(&L, node_get(root, "defaults"));
	if (plan_load_inventory(&L, root, inv_path, &inv_doc, &inv_root) ==
	    PLAN_NOFILE) {
		rc = PLAN_NOFILE;
		goto done;
	}

	/* With the names all known, check what the values refer to. */
	if (inv_root != NULL) {
		if (inv_doc != NULL)
			L.doc = inv_doc;
		plan_check_inventory_refs(&L, inv_root);
		if (inv_doc != NULL) {
			L.doc = inv_doc;
			plan_check_var_loops(&L, p->inv->vars, p->inv->nvars);
		}
		L.doc = doc;
	}
	L.scope = SCOPE_VARS;
	if ((n = node_get(root, "vars")) != NULL && n->type == NODE_MAP)
		for (i = 0; i < n->n; i++)
			plan_check_refs(&L, n->vals[i]);
	plan_check_var_loops(&L, p->vars, p->nvars);
	if (inv_doc == NULL && p->inv->inline_)
		plan_check_var_loops(&L, p->inv->vars, p->inv->nvars);

	plan_load_swap(&L, node_get(root, "swap"));
	plan_load_phases(&L, root);
	if (p->has_swap && p->swap_after_phase >= 0 &&
	    plan_phase(p, p->swap_after_phase) == NULL)
		load_error(&L, node_get(node_get(root, "swap"), "after_phase"),
		    "swap.after_phase %d is not a phase of the plan",
		    p->swap_after_phase);
done:
	free(L.declared);
	node_doc_free(inv_doc);
	if (L.failed || d->n > 0) {
		plan_free(p);
		return rc == PLAN_OK ? PLAN_INVALID : rc;
	}
	*out = p;
	return PLAN_OK;
}

/*
 * Load and validate the plan at path; inv_path, if not NULL, replaces the
 * plan's inventory whole. On PLAN_OK *out is the plan; otherwise every
 * problem is in d.
 */
int
plan_load(
    const char *path, const char *inv_path, struct plan **out, struct diag *d)
{
	struct node_doc *doc;
	int rc;

	*out = NULL;
	rc = node_load(path, &doc, d);
	if (rc == NODE_NOFILE)
		return PLAN_NOFILE;
	if (rc != NODE_OK)
		return PLAN_INVALID;
	rc = plan_load_doc(doc, inv_path, out, d);
	node_doc_free(doc);
	return rc;
}

/* Load a plan from memory (the fuzzer's entry); name is used in messages. */
int
plan_parse(const char *name, const char *text, size_t len, struct plan **out,
    struct diag *d)
{
	struct node_doc *doc;
	int rc;

	*out = NULL;
	if (node_parse(name, text, len, &doc, d) != NODE_OK)
		return PLAN_INVALID;
	rc = plan_load_doc(doc, NULL, out, d);
	node_doc_free(doc);
	return rc;
}

/* Free a plan and everything it owns. */
void
plan_free(struct plan *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	free(p->path);
	free(p->dir);
	free(p->name);
	free(p->description);
	for (i = 0; i < p->nvars; i++) {
		free(p->vars[i].key);
		free(p->vars[i].value);
	}
	free(p->vars);
	for (i = 0; i < p->nsecrets; i++) {
		free(p->secrets[i].name);
		free(p->secrets[i].env);
		free(p->secrets[i].file);
	}
	free(p->secrets);
	free(p->swap_hosts[0]);
	free(p->swap_hosts[1]);
	inventory_free(p->inv);
	for (i = 0; i < p->nphases; i++) {
		for (j = 0; j < p->phases[i].nsteps; j++)
			step_free(&p->phases[i].steps[j]);
		free(p->phases[i].steps);
		free(p->phases[i].name);
		free(p->phases[i].description);
	}
	free(p->phases);
	for (i = 0; i < p->ncaptures; i++)
		free(p->captures[i].name);
	free(p->captures);
	free(p);
}
