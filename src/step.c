/*
 * step.c: reads one step: exactly one kind (run, put, detach, reboot,
 * wait, manual, http, smtp, pop3, tcp) with its settings, its targets, and
 * the options every kind shares. Each value that may hold variables is
 * checked here, in the scope of the phase being read.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "load.h"
#include "plan-names.h"
#include "plan.h"
#include "step.h"
#include "xmalloc.h"

static const char *const step_kinds[STEP_NKINDS + 1] = { "run", "put", "detach",
	"reboot", "wait", "manual", "http", "smtp", "pop3", "tcp", NULL };

static const char *const step_keys[] = { "id", "name", "description", "on",
	"run", "put", "detach", "reboot", "wait", "manual", "http", "smtp",
	"pop3", "tcp", "timeout", "retries", "retry_delay", "unless",
	"expect_exit", "idempotent", "sensitive", "capture", "requires", "gate",
	"outage", NULL };

static const char *const put_keys[] = { "path", "content", "src", "mode",
	"owner", "backup", NULL };
static const char *const reboot_keys[] = { "timeout", NULL };
static const char *const wait_keys[] = { "reachable", "timeout", NULL };
static const char *const http_keys[] = { "url", "method", "expect_status",
	"contains", "basic_auth", "insecure", "timeout", NULL };
static const char *const http_methods[] = { "GET", "HEAD", "POST", "PUT",
	"DELETE", "OPTIONS", "PATCH", NULL };
static const char *const smtp_keys[] = { "url", "from", "to", "subject", NULL };
static const char *const pop3_keys[] = { "url", "user", "password",
	"expect_messages", "expect_subject", NULL };
static const char *const tcp_keys[] = { "host", "port", "expect", NULL };

/* The name of a step kind, as the plan writes it. */
const char *
step_kind_name(enum step_kind k)
{
	if (k >= STEP_NKINDS)
		return "?";
	return step_kinds[k];
}

/*
 * The limit of one attempt of a step: a reboot's or wait's own timeout
 * (the wait for the host is what such a step is: SPEC v3 §2), else the
 * step's `timeout`. What `show` prints and what the engine enforces.
 */
uint64_t
step_attempt_timeout_ms(const struct step *st)
{
	if (st->kind == STEP_REBOOT || st->kind == STEP_WAIT)
		return st->wait_timeout_ms;
	return st->timeout_ms;
}

/* True for kinds that run on the controller (checks and manual). */
int
step_kind_on_controller(enum step_kind k)
{
	return k == STEP_MANUAL || k == STEP_HTTP || k == STEP_SMTP ||
	    k == STEP_POP3 || k == STEP_TCP;
}

/*
 * The ASCII slug of a name: letters and digits lowercased, '-' and '_'
 * kept, other ASCII runs become one '-', anything else is dropped. An
 * empty result means the name gives no slug.
 */
char *
step_slug(const char *name)
{
	size_t i, n = 0, len = strlen(name);
	char *s = xmalloc(len + 1);
	int dash = 0;

	for (i = 0; i < len && n < 64; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x80)
			continue;
		if (isalnum(c) || c == '_') {
			if (dash && n > 0)
				s[n++] = '-';
			dash = 0;
			if (n < 64)
				s[n++] = (char)tolower(c);
		} else
			dash = 1;
	}
	s[n] = '\0';
	return s;
}

/* True if id is usable: in paths, URLs and PHASE/STEP arguments. */
int
step_valid_id(const char *id)
{
	size_t i;

	if (id[0] == '\0' || strlen(id) > 64 || !isalnum((unsigned char)id[0]))
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' &&
		    id[i] != '_')
			return 0;
	return 1;
}

/* A string value of a kind's mapping, with its variables checked. */
static void
step_str(struct loader *L, const struct node *map, const char *key,
    int required, char **out)
{
	if (load_str(L, map, key, required, out) == 1)
		plan_check_refs(L, node_get(map, key));
}

/* Read `on:` into the step's target list. */
static void
step_load_on(struct loader *L, const struct node *n, struct step *st)
{
	const struct node *item;
	size_t i, j, count;
	const char *near;

	if (n->type == NODE_MAP || node_is_null(n)) {
		load_error(L, n,
		    "'on' must be a host, a list of hosts or "
		    "'local', not a %s",
		    node_type_name(n));
		return;
	}
	count = n->type == NODE_SEQ ? n->n : 1;
	if (count == 0) {
		load_error(L, n, "'on' must name at least one host");
		return;
	}
	st->on = xcalloc(count, sizeof *st->on);
	for (i = 0; i < count; i++) {
		item = n->type == NODE_SEQ ? n->vals[i] : n;
		if (item->type != NODE_SCALAR) {
			load_error(L, item,
			    "'on' must list host names, not "
			    "a %s",
			    node_type_name(item));
			continue;
		}
		if (strcmp(item->value, PLAN_LOCAL) == 0) {
			if (count > 1)
				load_error(L, item,
				    "'local' cannot be listed "
				    "with other hosts");
			st->on_local = 1;
		} else if (plan_host(L->plan, item->value) == NULL) {
			near =
			    inventory_nearest_host(L->plan->inv, item->value);
			if (L->plan->inv->nhosts == 0)
				load_error(L, item,
				    "unknown host '%s' (the "
				    "plan has no inventory: give --inventory "
				    "FILE)",
				    item->value);
			else if (near != NULL)
				load_error(L, item,
				    "unknown host '%s' (did "
				    "you mean '%s'?)",
				    item->value, near);
			else
				load_error(L, item,
				    "unknown host '%s' (not "
				    "in the inventory)",
				    item->value);
		}
		for (j = 0; j < st->non; j++)
			if (strcmp(st->on[j], item->value) == 0)
				load_error(L, item,
				    "host '%s' is listed "
				    "twice",
				    item->value);
		st->on[st->non++] = xstrdup(item->value);
	}
}

/* put: {path, content | src, mode, owner, backup} */
static void
step_load_put(struct loader *L, const struct node *n, struct step *st)
{
	struct put_spec *p = &st->put;
	const struct node *m;
	char *end;
	unsigned long mode;

	if (load_map(L, n, "'put'") == -1)
		return;
	load_keys(L, n, put_keys, "'put'");
	step_str(L, n, "path", 1, &p->path);
	if (p->path != NULL && p->path[0] != '/' && p->path[0] != '$')
		load_error(L, node_get(n, "path"), "'path' must be absolute");
	step_str(L, n, "content", 0, &p->content);
	load_str(L, n, "src", 0, &p->src);
	if (p->content != NULL && p->src != NULL)
		load_error(L, node_key(n, "src"),
		    "'put' takes 'content' or "
		    "'src', not both");
	else if (p->content == NULL && p->src == NULL &&
	    node_get(n, "content") == NULL)
		load_error(L, n, "missing required key 'content' or 'src'");
	if ((m = node_get(n, "mode")) != NULL && !node_is_null(m)) {
		mode = m->type == NODE_SCALAR ? strtoul(m->value, &end, 8) : 0;
		if (m->type != NODE_SCALAR || m->len < 3 || m->len > 4 ||
		    *end != '\0' || mode > 07777)
			load_error(L, m,
			    "'mode' must be octal like \"0644\", "
			    "not '%s'",
			    m->type == NODE_SCALAR ? m->value
						   : node_type_name(m));
		else {
			p->mode = (unsigned)mode;
			p->has_mode = 1;
		}
	}
	step_str(L, n, "owner", 0, &p->owner);
	load_bool(L, n, "backup", &p->backup);
}

/*
 * reboot: {timeout} and wait: {reachable: true, timeout}. The kind's own
 * timeout defaults to STEP_WAIT_TIMEOUT_MS, never to the step's.
 */
static void
step_load_wait(struct loader *L, const struct node *n, struct step *st)
{
	int reachable = 1;

	st->wait_timeout_ms = STEP_WAIT_TIMEOUT_MS;
	if (node_is_null(n))
		return;
	if (load_map(L, n, st->kind == STEP_REBOOT ? "'reboot'" : "'wait'") ==
	    -1)
		return;
	if (st->kind == STEP_REBOOT)
		load_keys(L, n, reboot_keys, "'reboot'");
	else {
		load_keys(L, n, wait_keys, "'wait'");
		if (load_bool(L, n, "reachable", &reachable) == 1 && !reachable)
			load_error(L, node_get(n, "reachable"),
			    "'wait' "
			    "supports only 'reachable: true'");
	}
	load_duration(L, n, "timeout", 0, &st->wait_timeout_ms);
}

/* http: {url, method, expect_status, contains, basic_auth, insecure} */
static void
step_load_http(struct loader *L, const struct node *n, struct step *st)
{
	struct http_spec *h = &st->http;
	const char *const *m;

	if (load_map(L, n, "'http'") == -1)
		return;
	load_keys(L, n, http_keys, "'http'");
	step_str(L, n, "url", 1, &h->url);
	if (load_str(L, n, "method", 0, &h->method) == 1) {
		for (m = http_methods; *m != NULL; m++)
			if (strcmp(*m, h->method) == 0)
				break;
		if (*m == NULL)
			load_error(L, node_get(n, "method"),
			    "unknown HTTP "
			    "method '%s' (GET, HEAD, POST, PUT, DELETE, "
			    "OPTIONS, PATCH)",
			    h->method);
	} else
		h->method = xstrdup("GET");
	if (load_intlist(L, n, "expect_status", 100, 599, &h->expect_status,
		&h->nexpect_status) != 1) {
		free(h->expect_status);
		h->expect_status = xcalloc(1, sizeof *h->expect_status);
		h->expect_status[0] = 200;
		h->nexpect_status = 1;
	}
	step_str(L, n, "contains", 0, &h->contains);
	step_str(L, n, "basic_auth", 0, &h->basic_auth);
	if (h->basic_auth != NULL && strchr(h->basic_auth, ':') == NULL)
		load_error(L, node_get(n, "basic_auth"),
		    "'basic_auth' must "
		    "be 'USER:PASSWORD'");
	load_bool(L, n, "insecure", &h->insecure);
	load_duration(L, n, "timeout", 0, &h->timeout_ms);
}

/* smtp: {url, from, to, subject} */
static void
step_load_smtp(struct loader *L, const struct node *n, struct step *st)
{
	struct smtp_spec *s = &st->smtp;
	const struct node *to;
	size_t i;

	if (load_map(L, n, "'smtp'") == -1)
		return;
	load_keys(L, n, smtp_keys, "'smtp'");
	step_str(L, n, "url", 1, &s->url);
	step_str(L, n, "from", 1, &s->from);
	if (load_strlist(L, n, "to", &s->to, &s->nto) == 0)
		load_error(L, n, "missing required key 'to'");
	if ((to = node_get(n, "to")) != NULL) {
		if (to->type == NODE_SCALAR)
			plan_check_refs(L, to);
		else if (to->type == NODE_SEQ)
			for (i = 0; i < to->n; i++)
				plan_check_refs(L, to->vals[i]);
	}
	step_str(L, n, "subject", 0, &s->subject);
}

/* Parse expect_messages: a number, or "OP N" with OP one of = != < <= > >=. */
static int
step_parse_cmp(const char *s, enum cmp_op *op, long *n)
{
	static const struct {
		const char *s;
		enum cmp_op op;
	} ops[] = {
		{ ">=", CMP_GE },
		{ "<=", CMP_LE },
		{ "!=", CMP_NE },
		{ "==", CMP_EQ },
		{ ">", CMP_GT },
		{ "<", CMP_LT },
		{ "=", CMP_EQ },
	};
	size_t i;
	char *end;

	*op = CMP_EQ;
	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (strncmp(s, ops[i].s, strlen(ops[i].s)) == 0) {
			*op = ops[i].op;
			s += strlen(ops[i].s);
			break;
		}
	}
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	*n = strtol(s, &end, 10);
	while (*end == ' ')
		end++;
	return *end == '\0' && *n >= 0 ? 0 : -1;
}

/* pop3: {url, user, password, expect_messages, expect_subject} */
static void
step_load_pop3(struct loader *L, const struct node *n, struct step *st)
{
	struct pop3_spec *p = &st->pop3;
	const struct node *e;

	if (load_map(L, n, "'pop3'") == -1)
		return;
	load_keys(L, n, pop3_keys, "'pop3'");
	step_str(L, n, "url", 1, &p->url);
	step_str(L, n, "user", 1, &p->user);
	step_str(L, n, "password", 1, &p->password);
	step_str(L, n, "expect_subject", 0, &p->expect_subject);
	if (p->expect_subject != NULL && p->expect_subject[0] == '\0')
		load_error(L, node_get(n, "expect_subject"),
		    "'expect_subject' must not be empty (every message would "
		    "match)");
	if ((e = node_get(n, "expect_messages")) != NULL && !node_is_null(e)) {
		if (e->type != NODE_SCALAR ||
		    step_parse_cmp(e->value, &p->expect_op, &p->expect_n) == -1)
			load_error(L, e,
			    "'expect_messages' must be a count or "
			    "a comparison like \">= 1\", not '%s'",
			    e->type == NODE_SCALAR ? e->value
						   : node_type_name(e));
		else
			p->has_expect = 1;
	}
}

/* tcp: {host, port, expect: open | closed} */
static void
step_load_tcp(struct loader *L, const struct node *n, struct step *st)
{
	struct tcp_spec *t = &st->tcp;
	const struct node *port;
	char *e;
	long v;

	if (load_map(L, n, "'tcp'") == -1)
		return;
	load_keys(L, n, tcp_keys, "'tcp'");
	step_str(L, n, "host", 1, &t->host);
	port = node_get(n, "port");
	if (port == NULL || node_is_null(port))
		load_error(L, n, "missing required key 'port'");
	else if (port->type == NODE_SCALAR && strstr(port->value, "${")) {
		t->port = xstrdup(port->value);
		plan_check_refs(L, port);
	} else if (load_scalar_int(port, 1, 65535, &v) == -1)
		load_error(L, port,
		    "'port' must be an integer from 1 to "
		    "65535, not '%s'",
		    port->type == NODE_SCALAR ? port->value
					      : node_type_name(port));
	else
		t->port = xstrdup(port->value);
	t->expect = TCP_EXPECT_OPEN;
	if (load_str(L, n, "expect", 0, &e) == 1) {
		if (strcmp(e, "closed") == 0)
			t->expect = TCP_EXPECT_CLOSED;
		else if (strcmp(e, "open") != 0)
			load_error(L, node_get(n, "expect"),
			    "'expect' must "
			    "be 'open' or 'closed', not '%s'",
			    e);
		free(e);
	}
}

/* A script (run, detach) or text (manual): a non-empty string. */
static void
step_load_text(
    struct loader *L, const struct node *n, struct step *st, char **out)
{
	if (n->type != NODE_SCALAR || node_is_null(n) || n->len == 0) {
		load_error(L, n, "'%s' must be a non-empty string, not a %s",
		    step_kind_name(st->kind), node_type_name(n));
		return;
	}
	*out = xstrdup(n->value);
	plan_check_refs(L, n);
}

/*
 * Find the step's one kind; report none or two. A step without a kind
 * gets STEP_NKINDS, so that the checks that do not depend on the kind
 * still run and every error of the step shows at once.
 */
static int
step_find_kind(struct loader *L, const struct node *n, struct step *st)
{
	const struct node *first = NULL;
	size_t i;
	int k;

	for (i = 0; i < n->n; i++) {
		for (k = 0; k < STEP_NKINDS; k++)
			if (strcmp(n->keys[i]->value, step_kinds[k]) == 0)
				break;
		if (k == STEP_NKINDS)
			continue;
		if (first != NULL) {
			load_error(L, n->keys[i],
			    "two step kinds in one step: "
			    "'%s' and '%s' (a step does exactly one thing)",
			    first->value, n->keys[i]->value);
			continue;
		}
		first = n->keys[i];
		st->kind = (enum step_kind)k;
		st->kind_line = first->line;
		st->kind_col = first->col;
	}
	if (first == NULL) {
		load_error(L, n,
		    "the step has no kind: give exactly one of "
		    "run, put, detach, reboot, wait, manual, http, smtp, pop3, "
		    "tcp");
		st->kind = STEP_NKINDS;
		return -1;
	}
	return 0;
}

/* Read the step's id, defaulting to the slug of its name. */
static void
step_load_id(struct loader *L, const struct node *n, struct step *st)
{
	const struct node *idn = node_get(n, "id");
	char *slug;

	load_str(L, n, "name", 0, &st->name);
	if (idn != NULL && !node_is_null(idn)) {
		if (idn->type != NODE_SCALAR) {
			load_error(L, idn, "'id' must be a string, not a %s",
			    node_type_name(idn));
			return;
		}
		st->id = xstrdup(idn->value);
		if (!step_valid_id(st->id))
			load_error(L, idn,
			    "bad step id '%s': use letters, "
			    "digits, '-' and '_', starting with a letter or "
			    "digit, at most 64",
			    st->id);
	} else if (st->name == NULL) {
		load_error(L, n,
		    "the step has no usable id: give 'id' (or a "
		    "'name' to make one from)");
	} else {
		slug = step_slug(st->name);
		if (slug[0] == '\0') {
			load_error(L, node_get(n, "name"),
			    "the step has no "
			    "usable id: its name '%s' gives no ASCII slug; "
			    "add 'id:'",
			    st->name);
			free(slug);
		} else
			st->id = slug;
	}
	if (st->name == NULL && st->id != NULL)
		st->name = xstrdup(st->id);
}

/* Read `outage: start|end`: where the users' outage starts or ends. */
static void
step_load_outage(struct loader *L, const struct node *n, struct step *st)
{
	const struct node *v = node_get(n, "outage");

	if (v == NULL)
		return;
	st->outage_line = v->line;
	st->outage_col = v->col;
	if (v->type == NODE_SCALAR && strcmp(v->value, "start") == 0)
		st->outage = OUTAGE_START;
	else if (v->type == NODE_SCALAR && strcmp(v->value, "end") == 0)
		st->outage = OUTAGE_END;
	else
		load_error(L, v, "'outage' must be 'start' or 'end'");
}

/*
 * Read `on:`, or check it is absent: checks and manual steps run on the
 * controller, and only run steps may run on 'local'. known is whether the
 * step has a kind (without one, `on` is not reported missing).
 */
static void
step_load_targets(
    struct loader *L, const struct node *n, struct step *st, int known)
{
	const struct node *on = node_get(n, "on");
	const char *kind = step_kind_name(st->kind);

	if (step_kind_on_controller(st->kind)) {
		if (on != NULL)
			load_error(L, node_key(n, "on"),
			    "'on' is not allowed "
			    "on a '%s' step: checks and manual steps run on "
			    "the controller",
			    kind);
		st->on_local = 1;
	} else if (on == NULL) {
		if (known)
			load_error(L, n,
			    "missing required key 'on' (a host, a list "
			    "of hosts, or 'local')");
	} else {
		step_load_on(L, on, st);
		if (known && st->on_local && st->kind != STEP_RUN)
			load_error(L, on,
			    "'%s' cannot run on 'local': only "
			    "'run' steps can",
			    kind);
	}
}

/* Read the settings under the step's kind key, as that kind has them. */
static void
step_load_kind(struct loader *L, const struct node *n, struct step *st)
{
	const struct node *v = node_get(n, step_kind_name(st->kind));

	switch (st->kind) {
	case STEP_RUN:
	case STEP_DETACH:
		step_load_text(L, v, st, &st->script);
		break;
	case STEP_MANUAL:
		step_load_text(L, v, st, &st->manual);
		break;
	case STEP_PUT:
		step_load_put(L, v, st);
		break;
	case STEP_REBOOT:
	case STEP_WAIT:
		step_load_wait(L, v, st);
		break;
	case STEP_HTTP:
		step_load_http(L, v, st);
		break;
	case STEP_SMTP:
		step_load_smtp(L, v, st);
		break;
	case STEP_POP3:
		step_load_pop3(L, v, st);
		break;
	case STEP_TCP:
		step_load_tcp(L, v, st);
		break;
	default:
		break;
	}
}

/* Read `timeout`, `retries` and `retry_delay` over the plan's defaults. */
static void
step_load_attempts(struct loader *L, const struct node *n, struct step *st)
{
	long num;

	load_duration(L, n, "timeout", 0, &st->timeout_ms);
	if (load_int(L, n, "retries", 0, 100, &num) == 1)
		st->retries = (int)num;
	load_duration(L, n, "retry_delay", 1, &st->retry_delay_ms);
}

/* Read `expect_exit` (run and detach steps only); it defaults to 0. */
static void
step_load_expect_exit(
    struct loader *L, const struct node *n, struct step *st, int known)
{
	if (load_intlist(L, n, "expect_exit", 0, 255, &st->expect_exit,
		&st->nexpect_exit) == 1 &&
	    known && st->kind != STEP_RUN && st->kind != STEP_DETACH)
		load_error(L, node_key(n, "expect_exit"),
		    "'expect_exit' "
		    "applies to run and detach steps only");
	if (st->expect_exit == NULL) {
		st->expect_exit = xcalloc(1, sizeof *st->expect_exit);
		st->nexpect_exit = 1;
	}
}

/* Read `idempotent`, `sensitive` and `gate` (manual steps only). */
static void
step_load_flags(
    struct loader *L, const struct node *n, struct step *st, int known)
{
	int b;

	if (load_bool(L, n, "idempotent", &b) == 1)
		st->idempotent = b;
	load_bool(L, n, "sensitive", &st->sensitive);
	if (load_bool(L, n, "gate", &st->gate) == 1 && st->gate && known &&
	    st->kind != STEP_MANUAL)
		load_error(L, node_key(n, "gate"),
		    "'gate' makes a manual step the phase's point of no "
		    "return; this is a '%s' step",
		    step_kind_name(st->kind));
}

/*
 * Read `capture`: a name usable in ${captured.NAME}, for a run step that
 * is not sensitive (its output is kept nowhere).
 */
static void
step_load_capture(
    struct loader *L, const struct node *n, struct step *st, int known)
{
	if (load_str(L, n, "capture", 0, &st->capture) != 1)
		return;
	if (!step_valid_id(st->capture) || strchr(st->capture, '-') != NULL)
		load_error(L, node_get(n, "capture"),
		    "bad capture name '%s': use letters, "
		    "digits and '_'",
		    st->capture);
	else if (known && st->kind != STEP_RUN)
		load_error(L, node_key(n, "capture"),
		    "'capture' keeps "
		    "a 'run' step's output; this is a '%s' step",
		    step_kind_name(st->kind));
	else if (st->sensitive)
		load_error(L, node_key(n, "capture"),
		    "a sensitive "
		    "step's output is never kept, so it cannot be "
		    "captured");
}

/* Read one step's mapping into st. */
void
step_load(struct loader *L, const struct node *n, struct step *st)
{
	struct plan *p = L->plan;
	int known;

	st->line = n->line;
	st->col = n->col;
	st->timeout_ms = p->default_timeout_ms;
	st->retries = p->default_retries;
	st->retry_delay_ms = p->default_retry_delay_ms;
	if (load_map(L, n, "a step") == -1)
		return;
	load_keys(L, n, step_keys, "a step");
	step_load_id(L, n, st);
	known = step_find_kind(L, n, st) == 0;
	st->idempotent = !(st->kind == STEP_DETACH || st->kind == STEP_REBOOT);
	step_load_targets(L, n, st, known);
	step_load_kind(L, n, st);
	step_load_attempts(L, n, st);
	if (load_str(L, n, "unless", 0, &st->unless) == 1)
		plan_check_refs(L, node_get(n, "unless"));
	step_load_expect_exit(L, n, st, known);
	step_load_flags(L, n, st, known);
	step_load_capture(L, n, st, known);
	load_strlist(L, n, "requires", &st->requires, &st->nrequires);
	step_load_outage(L, n, st);
}

/* Free a step's contents. */
void
step_free(struct step *st)
{
	free(st->id);
	free(st->name);
	load_strlist_free(st->on, st->non);
	free(st->script);
	free(st->put.path);
	free(st->put.content);
	free(st->put.src);
	free(st->put.owner);
	free(st->manual);
	free(st->http.url);
	free(st->http.method);
	free(st->http.expect_status);
	free(st->http.contains);
	free(st->http.basic_auth);
	free(st->smtp.url);
	free(st->smtp.from);
	load_strlist_free(st->smtp.to, st->smtp.nto);
	free(st->smtp.subject);
	free(st->pop3.url);
	free(st->pop3.user);
	free(st->pop3.password);
	free(st->pop3.expect_subject);
	free(st->tcp.host);
	free(st->tcp.port);
	free(st->unless);
	free(st->expect_exit);
	free(st->capture);
	load_strlist_free(st->requires, st->nrequires);
}
