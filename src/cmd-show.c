/*
 * cmd-show.c: hostswap show PLAN [--inventory FILE] [--json] — the plan as
 * it would run: every task (step x host) of every phase in order, with
 * variables expanded, secrets as *** and captured values as
 * <captured:NAME>. It connects nowhere.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "cmd.h"
#include "duration.h"
#include "exitcode.h"
#include "expand.h"
#include "log.h"
#include "plan-names.h"
#include "plan.h"
#include "step.h"
#include "probe.h"
#include "xmalloc.h"

static int cmd_show_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_show_entry = { "show",
	"PLAN [--inventory FILE] [--json]",
	"print the expanded plan: phases, tasks, hosts",
	"  --inventory FILE  use this inventory instead of the plan's own\n"
	"  --json            print JSON (SPEC §5) instead of text\n",
	cmd_show_exec };

struct show {
	const struct plan *plan;
	struct expand_env env;
	int failed;
};

/* Expand a template for a task; never NULL (a failure is reported). */
static char *
show_expand(struct show *s, const char *host, size_t phase, const char *tmpl)
{
	char *v, *err = NULL;

	if (tmpl == NULL)
		return NULL;
	if ((v = expand(&s->env, host, phase, tmpl, &err)) == NULL) {
		log_warnx(
		    "cannot expand '%s': unknown '%s'", tmpl, err ? err : "?");
		free(err);
		s->failed = 1;
		return strdup("");
	}
	return v;
}

/* A duration in seconds, as a JSON number. */
static json_t *
show_seconds(uint64_t ms)
{
	if (ms % 1000 == 0)
		return json_integer((json_int_t)(ms / 1000));
	return json_real((double)ms / 1000.0);
}

/* Set key to an expanded template (null when absent); takes ownership. */
static void
show_set_str(json_t *o, const char *key, char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
	free(v);
}

/* The JSON of a comparison like ">= 1". */
static char *
show_cmp(const struct pop3_spec *p)
{
	static const char *const ops[] = { "=", "!=", "<", "<=", ">", ">=" };
	char *s;

	if (!p->has_expect)
		return NULL;
	if (asprintf(&s, "%s %ld", ops[p->expect_op], p->expect_n) == -1)
		return NULL;
	return s;
}

/* A put step's settings, for a task, into k. */
static void
show_kind_put(struct show *s, json_t *k, const struct step *st,
    const char *host, size_t ph)
{
	char mode[8];

	show_set_str(k, "path", show_expand(s, host, ph, st->put.path));
	if (st->put.src != NULL)
		json_object_set_new(k, "src", json_string(st->put.src));
	else
		show_set_str(
		    k, "content", show_expand(s, host, ph, st->put.content));
	snprintf(mode, sizeof mode, "%04o", st->put.mode);
	json_object_set_new(
	    k, "mode", st->put.has_mode ? json_string(mode) : json_null());
	show_set_str(k, "owner", show_expand(s, host, ph, st->put.owner));
	json_object_set_new(k, "backup", json_boolean(st->put.backup));
}

/* An http check's settings, for a task, into k. */
static void
show_kind_http(struct show *s, json_t *k, const struct step *st,
    const char *host, size_t ph)
{
	json_t *a;
	size_t i;

	show_set_str(k, "url", show_expand(s, host, ph, st->http.url));
	json_object_set_new(k, "method", json_string(st->http.method));
	a = json_array();
	for (i = 0; i < st->http.nexpect_status; i++)
		json_array_append_new(
		    a, json_integer(st->http.expect_status[i]));
	json_object_set_new(k, "expect_status", a);
	show_set_str(
	    k, "contains", show_expand(s, host, ph, st->http.contains));
	show_set_str(
	    k, "basic_auth", show_expand(s, host, ph, st->http.basic_auth));
	json_object_set_new(k, "insecure", json_boolean(st->http.insecure));
	json_object_set_new(k, "timeout",
	    show_seconds(
		st->http.timeout_ms ? st->http.timeout_ms : st->timeout_ms));
}

/* An smtp check's settings, for a task, into k. */
static void
show_kind_smtp(struct show *s, json_t *k, const struct step *st,
    const char *host, size_t ph)
{
	json_t *a;
	size_t i;

	show_set_str(k, "url", show_expand(s, host, ph, st->smtp.url));
	show_set_str(k, "from", show_expand(s, host, ph, st->smtp.from));
	a = json_array();
	for (i = 0; i < st->smtp.nto; i++) {
		char *v = show_expand(s, host, ph, st->smtp.to[i]);

		json_array_append_new(a, json_string(v));
		free(v);
	}
	json_object_set_new(k, "to", a);
	show_set_str(k, "subject", show_expand(s, host, ph, st->smtp.subject));
}

/* A pop3 check's settings, for a task, into k. */
static void
show_kind_pop3(struct show *s, json_t *k, const struct step *st,
    const char *host, size_t ph)
{
	show_set_str(k, "url", show_expand(s, host, ph, st->pop3.url));
	show_set_str(k, "user", show_expand(s, host, ph, st->pop3.user));
	show_set_str(
	    k, "password", show_expand(s, host, ph, st->pop3.password));
	show_set_str(k, "expect_messages", show_cmp(&st->pop3));
	show_set_str(k, "expect_subject",
	    show_expand(s, host, ph, st->pop3.expect_subject));
}

/* A tcp check's settings, for a task, into k. */
static void
show_kind_tcp(struct show *s, json_t *k, const struct step *st,
    const char *host, size_t ph)
{
	char *port = show_expand(s, host, ph, st->tcp.port);

	show_set_str(k, "host", show_expand(s, host, ph, st->tcp.host));
	json_object_set_new(
	    k, "port", port ? json_integer(atoi(port)) : json_null());
	free(port);
	json_object_set_new(k, "expect",
	    json_string(st->tcp.expect == TCP_EXPECT_OPEN ? "open" : "closed"));
}

/* The kind's settings of one task, as JSON. */
static void
show_task_kind(struct show *s, json_t *t, const struct step *st,
    const char *host, size_t ph)
{
	json_t *k;

	switch (st->kind) {
	case STEP_RUN:
	case STEP_DETACH:
		show_set_str(t, "script", show_expand(s, host, ph, st->script));
		return;
	case STEP_MANUAL:
		show_set_str(t, "manual", show_expand(s, host, ph, st->manual));
		if (st->gate)
			json_object_set_new(t, "gate", json_true());
		return;
	default:
		break;
	}
	k = json_object();
	switch (st->kind) {
	case STEP_PUT:
		show_kind_put(s, k, st, host, ph);
		break;
	case STEP_REBOOT:
	case STEP_WAIT:
		if (st->kind == STEP_WAIT)
			json_object_set_new(k, "reachable", json_true());
		/* Its own, which is what bounds the task (not the step's). */
		json_object_set_new(
		    k, "timeout", show_seconds(st->wait_timeout_ms));
		break;
	case STEP_HTTP:
		show_kind_http(s, k, st, host, ph);
		break;
	case STEP_SMTP:
		show_kind_smtp(s, k, st, host, ph);
		break;
	case STEP_POP3:
		show_kind_pop3(s, k, st, host, ph);
		break;
	case STEP_TCP:
		show_kind_tcp(s, k, st, host, ph);
		break;
	default:
		break;
	}
	json_object_set_new(t, step_kind_name(st->kind), k);
}

/* One task as JSON. */
static json_t *
show_task_json(
    struct show *s, const struct step *st, const char *host, size_t ph)
{
	const char *target = strcmp(host, PLAN_LOCAL) == 0 ? NULL : host;
	json_t *t = json_object(), *a;
	size_t i;

	json_object_set_new(t, "step", json_string(st->id));
	json_object_set_new(t, "name", json_string(st->name));
	json_object_set_new(t, "host", json_string(host));
	json_object_set_new(t, "kind", json_string(step_kind_name(st->kind)));
	show_task_kind(s, t, st, target ? target : PLAN_LOCAL, ph);
	/* The limit of an attempt, as the engine applies it. */
	json_object_set_new(
	    t, "timeout", show_seconds(step_attempt_timeout_ms(st)));
	json_object_set_new(t, "retries", json_integer(st->retries));
	json_object_set_new(t, "retry_delay", show_seconds(st->retry_delay_ms));
	json_object_set_new(t, "idempotent", json_boolean(st->idempotent));
	json_object_set_new(t, "sensitive", json_boolean(st->sensitive));
	show_set_str(t, "unless", show_expand(s, host, ph, st->unless));
	a = json_array();
	for (i = 0; i < st->nexpect_exit; i++)
		json_array_append_new(a, json_integer(st->expect_exit[i]));
	json_object_set_new(t, "expect_exit", a);
	json_object_set_new(
	    t, "capture", st->capture ? json_string(st->capture) : json_null());
	return t;
}

/* The whole plan as the JSON of SPEC §5. */
static json_t *
show_json(struct show *s)
{
	const struct plan *p = s->plan;
	json_t *root = json_object(), *hosts = json_object(), *phases, *h;
	json_t *ph, *tasks, *swap;
	size_t i, j, k;

	json_object_set_new(root, "name", json_string(p->name));
	json_object_set_new(root, "description",
	    p->description ? json_string(p->description) : json_null());
	json_object_set_new(root, "plan", json_string(p->path));
	json_object_set_new(root, "inventory",
	    p->inv->path ? json_string(p->inv->path) : json_null());
	for (i = 0; i < p->inv->nhosts; i++) {
		const struct host *hh = &p->inv->hosts[i];

		h = json_object();
		json_object_set_new(h, "address", json_string(hh->address));
		json_object_set_new(h, "port", json_integer(hh->port));
		json_object_set_new(h, "user", json_string(hh->user));
		json_object_set_new(hosts, hh->name, h);
	}
	json_object_set_new(root, "hosts", hosts);
	if (p->has_swap) {
		swap = json_pack("{s:i, s:[s,s], s:s}", "after_phase",
		    p->swap_after_phase, "hosts", p->swap_hosts[0],
		    p->swap_hosts[1], "host_keys",
		    p->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE
			? "follow_machine"
			: "follow_address");
		json_object_set_new(root, "swap", swap);
	} else
		json_object_set_new(root, "swap", json_null());
	phases = json_array();
	for (i = 0; i < p->nphases; i++) {
		const struct phase *pp = &p->phases[i];

		ph = json_object();
		json_object_set_new(ph, "id", json_integer(pp->id));
		json_object_set_new(ph, "name", json_string(pp->name));
		tasks = json_array();
		for (j = 0; j < pp->nsteps; j++) {
			const struct step *st = &pp->steps[j];

			if (st->on_local) {
				json_array_append_new(tasks,
				    show_task_json(s, st, PLAN_LOCAL, i));
				continue;
			}
			for (k = 0; k < st->non; k++)
				json_array_append_new(
				    tasks, show_task_json(s, st, st->on[k], i));
		}
		json_object_set_new(ph, "tasks", tasks);
		json_array_append_new(phases, ph);
	}
	json_object_set_new(root, "phases", phases);
	return root;
}

/* A task's string field, "" when absent or null. */
static const char *
show_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* Add a multi-line text to b, each line behind prefix. */
static void
show_block(struct buf *b, const char *prefix, const char *text)
{
	const char *p = text, *nl;
	size_t n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		buf_printf(b, "%s%.*s\n", prefix, (int)n, p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* A JSON number of seconds as a duration ("10m"). */
static void
show_dur(json_t *v, char *out, size_t len)
{
	duration_format(
	    (uint64_t)(json_number_value(v) * 1000 + 0.5), out, len);
}

/* pop3's expect_messages (">= 1") in words ("at least 1"). */
static void
show_cmp_words(struct buf *b, const char *cmp)
{
	static const struct {
		const char *op, *words;
	} ops[] = { { ">=", "at least" }, { "<=", "at most" },
		{ "!=", "other than" }, { ">", "more than" },
		{ "<", "fewer than" }, { "=", "exactly" } };
	size_t i, n;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		n = strlen(ops[i].op);
		if (strncmp(cmp, ops[i].op, n) == 0 && cmp[n] == ' ') {
			buf_printf(b, "%s %s", ops[i].words, cmp + n + 1);
			return;
		}
	}
	buf_adds(b, cmp);
}

/* A check's settings in words (http, smtp, pop3, tcp). */
static void
show_check_words(struct buf *b, const char *kind, json_t *k)
{
	const char *v;
	char d[32];
	json_t *e;
	size_t i;

	if (strcmp(kind, "http") == 0) {
		buf_printf(b, "check that %s %s answers ",
		    show_str(k, "method"), show_str(k, "url"));
		json_array_foreach(json_object_get(k, "expect_status"), i, e)
		    buf_printf(b, "%s%lld", i > 0 ? " or " : "",
			(long long)json_integer_value(e));
		if (*(v = show_str(k, "contains")) != '\0')
			buf_printf(b, " with \"%s\" in its body", v);
		if (*(v = show_str(k, "basic_auth")) != '\0')
			buf_printf(
			    b, ", logging in as %.*s", (int)strcspn(v, ":"), v);
		if (json_is_true(json_object_get(k, "insecure")))
			buf_adds(b, ", without verifying its TLS certificate");
		show_dur(json_object_get(k, "timeout"), d, sizeof d);
		buf_printf(b, ", within %s\n", d);
	} else if (strcmp(kind, "smtp") == 0) {
		buf_printf(b, "check that %s takes a mail from %s to ",
		    show_str(k, "url"), show_str(k, "from"));
		json_array_foreach(json_object_get(k, "to"), i, e) buf_printf(
		    b, "%s%s", i > 0 ? ", " : "", json_string_value(e));
		if (*(v = show_str(k, "subject")) != '\0')
			buf_printf(b, ", subject \"%s\"", v);
		buf_adds(b, "\n");
	} else if (strcmp(kind, "pop3") == 0) {
		buf_printf(b, "check that %s lets %s log in",
		    show_str(k, "url"), show_str(k, "user"));
		if (*(v = show_str(k, "expect_messages")) != '\0') {
			buf_adds(b, " and holds ");
			show_cmp_words(b, v);
			buf_adds(b, " messages");
		}
		if (*(v = show_str(k, "expect_subject")) != '\0')
			buf_printf(b,
			    ", one of the last %d with a Subject containing "
			    "\"%s\"",
			    PROBE_POP3_LOOK, v);
		buf_adds(b, "\n");
	} else if (strcmp(kind, "tcp") == 0)
		buf_printf(b, "check that port %lld on %s is %s\n",
		    (long long)json_integer_value(json_object_get(k, "port")),
		    show_str(k, "host"), show_str(k, "expect"));
}

/* Whom a host's steps run as, in words: " as root (sudo)", or "". */
static void
show_become(const struct host *h, char *out, size_t len)
{
	if (h == NULL || !h->become_sudo)
		snprintf(out, len, "%s", "");
	else if (h->become_user != NULL)
		snprintf(out, len, " as %s (sudo -u %s)", h->become_user,
		    h->become_user);
	else
		snprintf(out, len, "%s", " as root (sudo)");
}

/*
 * What one task does, in words, each line behind ind: the kind's
 * settings as a sentence, then its script, text or content. Two hosts
 * with the same words do the same work, so a step is listed once.
 */
static void
show_task_words(
    struct show *s, struct buf *b, const char *ind, json_t *t, int phase_id)
{
	const char *kind = show_str(t, "kind"), *host = show_str(t, "host");
	const struct host *h = plan_host(s->plan, host);
	json_t *k = json_object_get(t, kind);
	char d[32], pre[32], as[96];
	const char *v;

	show_become(h, as, sizeof as);
	if (*(v = show_str(t, "unless")) != '\0')
		buf_printf(b, "%sskipped where this exits 0: %s\n", ind, v);
	snprintf(pre, sizeof pre, "%s| ", ind);
	buf_adds(b, ind);
	if (strcmp(kind, "run") == 0) {
		buf_printf(b, "run this script%s:\n", as);
		show_block(b, pre, show_str(t, "script"));
	} else if (strcmp(kind, "detach") == 0) {
		buf_printf(b,
		    "run this script detached%s (its connection may drop), "
		    "then wait until the host answers again under its %s "
		    "key:\n",
		    as,
		    s->plan->has_swap &&
			    phase_id == s->plan->swap_after_phase &&
			    plan_swapped_host(s->plan, host) >= 0
			? "post-swap"
			: "expected");
		show_block(b, pre, show_str(t, "script"));
	} else if (strcmp(kind, "manual") == 0) {
		if (json_is_true(json_object_get(t, "gate")))
			buf_printf(b,
			    "GATE, the point of no return: nothing else of "
			    "phase %d starts before an operator approves it; "
			    "a rejection fails the phase\n%s",
			    phase_id, ind);
		buf_printf(b,
		    "an operator approves or rejects it "
		    "(hostswap approve|reject %d/%s):\n",
		    phase_id, show_str(t, "step"));
		snprintf(pre, sizeof pre, "%s> ", ind);
		show_block(b, pre, show_str(t, "manual"));
	} else if (strcmp(kind, "put") == 0) {
		buf_printf(b, "write %s", show_str(k, "path"));
		if (*(v = show_str(k, "mode")) != '\0')
			buf_printf(b, ", mode %s", v);
		if (*(v = show_str(k, "owner")) != '\0')
			buf_printf(b, ", owner %s", v);
		if (json_is_true(json_object_get(k, "backup")))
			buf_printf(b, ", keeping the old file as %s.%s",
			    show_str(k, "path"), s->env.run_date);
		if (json_is_string(json_object_get(k, "src")))
			buf_printf(b, ", copied from %s on the controller\n",
			    show_str(k, "src"));
		else {
			buf_adds(b, ", this content:\n");
			show_block(b, pre, show_str(k, "content"));
		}
	} else if (strcmp(kind, "reboot") == 0) {
		show_dur(json_object_get(k, "timeout"), d, sizeof d);
		buf_printf(b,
		    "reboot, then wait up to %s until the host answers "
		    "with a new boot id\n",
		    d);
	} else if (strcmp(kind, "wait") == 0) {
		show_dur(json_object_get(k, "timeout"), d, sizeof d);
		buf_printf(b,
		    "wait up to %s until SSH to the host works under its "
		    "expected key\n",
		    d);
	} else
		show_check_words(b, kind, k);
}

/* A step's settings beyond the defaults, in words, on one line. */
static void
show_task_options(struct show *s, struct buf *b, json_t *t)
{
	const char *kind = show_str(t, "kind"), *sep = "      ";
	json_t *a = json_object_get(t, "expect_exit"), *e;
	struct buf o;
	char d[32];
	json_int_t n;
	size_t i;

	buf_init(&o);
	if (strcmp(kind, "manual") != 0 && strcmp(kind, "reboot") != 0 &&
	    strcmp(kind, "wait") != 0 &&
	    (uint64_t)(json_number_value(json_object_get(t, "timeout")) * 1000 +
		0.5) != s->plan->default_timeout_ms) {
		show_dur(json_object_get(t, "timeout"), d, sizeof d);
		buf_printf(&o, "%stimeout %s", sep, d);
		sep = "; ";
	}
	if ((n = json_integer_value(json_object_get(t, "retries"))) > 0) {
		show_dur(json_object_get(t, "retry_delay"), d, sizeof d);
		buf_printf(&o, "%sretried up to %lld times, %s apart", sep,
		    (long long)n, d);
		sep = "; ";
	}
	if (!json_is_true(json_object_get(t, "idempotent"))) {
		buf_printf(&o,
		    "%snot idempotent (after a crash, an operator decides "
		    "with hostswap mark)",
		    sep);
		sep = "; ";
	}
	if (json_is_true(json_object_get(t, "sensitive"))) {
		buf_printf(&o,
		    "%ssensitive: its output is neither kept nor "
		    "shown",
		    sep);
		sep = "; ";
	}
	if (json_array_size(a) != 1 ||
	    json_integer_value(json_array_get(a, 0)) != 0) {
		buf_printf(&o, "%ssucceeds on exit ", sep);
		json_array_foreach(a, i, e) buf_printf(&o, "%s%lld",
		    i > 0 ? ", " : "", (long long)json_integer_value(e));
		sep = "; ";
	}
	if (json_is_string(json_object_get(t, "capture"))) {
		buf_printf(&o, "%skeeps its output as ${captured.%s}", sep,
		    show_str(t, "capture"));
		sep = "; ";
	}
	if (o.len > 0)
		buf_printf(b, "%s\n", o.data);
	buf_free(&o);
}

/* The summary's outage line, for a plan that marks one. */
static void
show_outage_sum(const struct plan *p, struct buf *b)
{
	const struct step *a, *z;
	int pa, pz;

	a = plan_outage_step(p, OUTAGE_START, &pa);
	z = plan_outage_step(p, OUTAGE_END, &pz);
	if (a != NULL && z != NULL)
		buf_printf(b,
		    "  outage: from the start of %d/%s to the success of "
		    "%d/%s\n",
		    pa, a->id, pz, z->id);
}

/* What the closing summary counts. */
struct show_sum {
	size_t phases, steps, tasks, manual, gates_n, checks;
	json_t *hosts;     /* name -> number of tasks, inventory order */
	json_t *checks_by; /* kind -> number of tasks */
	struct buf manuals, gates;
	int first, last;
};

/* A host for people: "the controller" for local. */
static const char *
show_host_name(const char *h)
{
	return strcmp(h, PLAN_LOCAL) == 0 ? "the controller" : h;
}

/* Count one task for the summary. */
static void
show_count(struct show_sum *sum, json_t *t, int phase_id, int first_host)
{
	const char *kind = show_str(t, "kind"), *host = show_str(t, "host");
	json_t *n;

	sum->tasks++;
	n = json_object_get(sum->hosts, host);
	json_object_set_new(sum->hosts, host,
	    json_integer(n != NULL ? json_integer_value(n) + 1 : 1));
	if (!first_host)
		return;
	sum->steps++;
	if (strcmp(kind, "manual") == 0) {
		sum->manual++;
		buf_printf(&sum->manuals, "%s%d/%s",
		    sum->manuals.len > 0 ? ", " : "", phase_id,
		    show_str(t, "step"));
		if (json_is_true(json_object_get(t, "gate"))) {
			sum->gates_n++;
			buf_printf(&sum->gates, "%s%d/%s",
			    sum->gates.len > 0 ? ", " : "", phase_id,
			    show_str(t, "step"));
		}
	} else if (json_object_get(t, "script") == NULL &&
	    strcmp(kind, "put") != 0 && strcmp(kind, "reboot") != 0 &&
	    strcmp(kind, "wait") != 0) {
		sum->checks++;
		n = json_object_get(sum->checks_by, kind);
		json_object_set_new(sum->checks_by, kind,
		    json_integer(n != NULL ? json_integer_value(n) + 1 : 1));
	}
}

/* The outage's start or end at the step that marks it. */
static void
show_outage_mark(struct show *s, struct buf *b, int phase_id, const char *id)
{
	const struct step *st;
	int ph;

	st = plan_outage_step(s->plan, OUTAGE_START, &ph);
	if (st != NULL && ph == phase_id && strcmp(st->id, id) == 0)
		buf_adds(b,
		    "      OUTAGE STARTS: the users' outage starts when this "
		    "step's first task starts\n");
	st = plan_outage_step(s->plan, OUTAGE_END, &ph);
	if (st != NULL && ph == phase_id && strcmp(st->id, id) == 0)
		buf_adds(b,
		    "      OUTAGE ENDS: the users' outage ends when this "
		    "step's last task succeeds\n");
}

/*
 * One step of a phase: its tasks [i, end) as one checklist item, the
 * hosts that do the same work together.
 */
static void
show_step_text(struct show *s, struct buf *b, json_t *tasks, size_t i,
    size_t end, int phase_id, struct show_sum *sum)
{
	json_t *t = json_array_get(tasks, i);
	struct buf *words;
	size_t n = end - i, j, k, m, c, ngroups = 0;
	int *group;
	const char *name = show_str(t, "name");

	words = xcalloc(n, sizeof *words);
	group = xcalloc(n, sizeof *group);
	for (j = 0; j < n; j++) {
		buf_init(&words[j]);
		buf_adds(&words[j], "");
		show_task_words(s, &words[j], "      ",
		    json_array_get(tasks, i + j), phase_id);
		show_count(sum, json_array_get(tasks, i + j), phase_id, j == 0);
		group[j] = -1;
		for (k = 0; k < j; k++)
			if (strcmp(words[k].data, words[j].data) == 0) {
				group[j] = group[k];
				break;
			}
		if (group[j] == -1)
			group[j] = (int)ngroups++;
	}
	buf_printf(b, "  [ ] %d/%s", phase_id, show_str(t, "step"));
	for (j = 0; j < n; j++)
		buf_printf(b, "%s%s", j == 0 ? " on " : ", ",
		    show_host_name(
			show_str(json_array_get(tasks, i + j), "host")));
	if (strcmp(name, show_str(t, "step")) != 0)
		buf_printf(b, ": %s", name);
	buf_adds(b, "\n");
	show_outage_mark(s, b, phase_id, show_str(t, "step"));
	for (k = 0; k < ngroups; k++) {
		for (j = 0; j < n && group[j] != (int)k; j++)
			;
		if (ngroups == 1) {
			buf_adds(b, words[j].data);
			continue;
		}
		for (m = j, c = 0; m < n; m++)
			if (group[m] == (int)k)
				buf_printf(b, "%s%s",
				    c++ == 0 ? "      on " : ", ",
				    show_host_name(show_str(
					json_array_get(tasks, i + m), "host")));
		buf_adds(b, ":\n");
		show_task_words(
		    s, b, "        ", json_array_get(tasks, i + j), phase_id);
	}
	show_task_options(s, b, t);
	for (j = 0; j < n; j++)
		buf_free(&words[j]);
	free(words);
	free(group);
}

/* One phase as text: its hosts, then a checklist item per step. */
static void
show_phase_text(struct show *s, struct buf *b, json_t *ph, struct show_sum *sum)
{
	json_t *tasks = json_object_get(ph, "tasks"), *t, *seen = json_object();
	int id = (int)json_integer_value(json_object_get(ph, "id"));
	const char *sep = "  hosts: ", *gate = NULL;
	size_t i, end, n = json_array_size(tasks);

	if (sum->phases++ == 0)
		sum->first = id;
	sum->last = id;
	buf_printf(b, "\nphase %d: %s%s\n", id, show_str(ph, "name"),
	    s->plan->has_swap && id == s->plan->swap_after_phase
		? " (the swap takes effect when it succeeds)"
		: "");
	json_array_foreach(tasks, i, t)
	{
		if (json_is_true(json_object_get(t, "gate")))
			gate = show_str(t, "step");
		if (json_object_get(seen, show_str(t, "host")) != NULL)
			continue;
		json_object_set_new(seen, show_str(t, "host"), json_true());
	}
	/* Inventory order, the controller last. */
	for (i = 0; i < s->plan->inv->nhosts; i++)
		if (json_object_get(seen, s->plan->inv->hosts[i].name) !=
		    NULL) {
			buf_printf(b, "%s%s", sep, s->plan->inv->hosts[i].name);
			sep = ", ";
		}
	if (json_object_get(seen, PLAN_LOCAL) != NULL)
		buf_printf(b, "%sthe controller", sep);
	buf_adds(b, "\n");
	json_decref(seen);
	if (gate != NULL)
		buf_printf(b,
		    "  GATED: its other steps wait for %d/%s, the point of no "
		    "return\n",
		    id, gate);
	for (i = 0; i < n; i = end) {
		const char *step = show_str(json_array_get(tasks, i), "step");

		for (end = i + 1; end < n &&
		     strcmp(show_str(json_array_get(tasks, end), "step"),
			 step) == 0;
		     end++)
			;
		show_step_text(s, b, tasks, i, end, id, sum);
	}
	if (s->plan->has_swap && id == s->plan->swap_after_phase)
		buf_printf(b,
		    "\n  ==== THE SWAP TAKES EFFECT HERE: once phase %d has "
		    "succeeded, %s reaches the machine that was %s and %s "
		    "the one that was %s (host keys follow the %s) ====\n",
		    id, s->plan->swap_hosts[0], s->plan->swap_hosts[1],
		    s->plan->swap_hosts[1], s->plan->swap_hosts[0],
		    s->plan->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE
			? "machine"
			: "address");
}

/* The closing summary: what an operator counts before the night. */
static void
show_summary_text(struct show *s, struct buf *b, struct show_sum *sum)
{
	const char *sep = "";
	const char *name;
	json_t *v;
	size_t i;

	buf_adds(b, "\nsummary\n");
	if (sum->phases == 0)
		buf_adds(b, "  phases: none\n");
	else
		buf_printf(b, "  phases: %zu (%d to %d)\n", sum->phases,
		    sum->first, sum->last);
	buf_printf(b, "  steps: %zu, tasks: %zu\n", sum->steps, sum->tasks);
	buf_adds(b, "  tasks per host: ");
	for (i = 0; i < s->plan->inv->nhosts; i++) {
		name = s->plan->inv->hosts[i].name;
		v = json_object_get(sum->hosts, name);
		buf_printf(b, "%s%s %lld", sep, name,
		    (long long)json_integer_value(v));
		sep = ", ";
	}
	if ((v = json_object_get(sum->hosts, PLAN_LOCAL)) != NULL)
		buf_printf(b, "%sthe controller %lld", sep,
		    (long long)json_integer_value(v));
	buf_adds(b, "\n");
	buf_printf(b, "  manual steps: %zu%s%s%s\n", sum->manual,
	    sum->manual ? " (" : "", sum->manual ? sum->manuals.data : "",
	    sum->manual ? ")" : "");
	buf_printf(b, "  gates: %zu%s%s%s\n", sum->gates_n,
	    sum->gates_n ? " (" : "", sum->gates_n ? sum->gates.data : "",
	    sum->gates_n ? ")" : "");
	buf_printf(b, "  checks: %zu", sum->checks);
	sep = " (";
	json_object_foreach(sum->checks_by, name, v)
	{
		buf_printf(b, "%s%s %lld", sep, name,
		    (long long)json_integer_value(v));
		sep = ", ";
	}
	buf_adds(b, sum->checks > 0 ? ")\n" : "\n");
	if (s->plan->has_swap)
		buf_printf(b, "  swap: %s <-> %s after phase %d\n",
		    s->plan->swap_hosts[0], s->plan->swap_hosts[1],
		    s->plan->swap_after_phase);
	else
		buf_adds(b, "  swap: none\n");
	show_outage_sum(s->plan, b);
}

/*
 * The whole plan as text, a checklist for people: the hosts, then per
 * phase its hosts and one item per step (the hosts doing the same work
 * together, the kind's settings in words), the gate and the point where
 * the swap takes effect marked, and a summary that counts.
 */
static void
show_text(struct show *s, FILE *fp, json_t *root)
{
	const struct plan *p = s->plan;
	struct show_sum sum;
	struct buf b;
	json_t *ph;
	char d[32], r[32];
	size_t i;

	memset(&sum, 0, sizeof sum);
	sum.hosts = json_object();
	sum.checks_by = json_object();
	buf_init(&sum.manuals);
	buf_init(&sum.gates);
	buf_init(&b);
	buf_printf(&b, "plan %s (%s)\n", p->name, p->path);
	if (p->description != NULL)
		buf_printf(&b, "  %s\n", p->description);
	buf_printf(&b, "  inventory: %s\n",
	    p->inv->path != NULL ? p->inv->path : "the plan's own");
	for (i = 0; i < p->inv->nhosts; i++) {
		const struct host *h = &p->inv->hosts[i];

		buf_printf(&b, "  host %s: %s@%s port %d%s%s%s%s\n", h->name,
		    h->user, h->address, h->port,
		    h->become_sudo ? ", steps as " : "",
		    !h->become_sudo
			? ""
			: (h->become_user != NULL ? h->become_user : "root"),
		    h->become_sudo ? " through sudo" : "",
		    h->host_key ? ", host key pinned" : "");
	}
	duration_format(p->default_timeout_ms, d, sizeof d);
	duration_format(p->default_retry_delay_ms, r, sizeof r);
	if (p->default_retries > 0)
		buf_printf(&b,
		    "  every step: timeout %s, retried up to %d times, %s "
		    "apart, unless it says otherwise\n",
		    d, p->default_retries, r);
	else
		buf_printf(&b,
		    "  every step: timeout %s, no retry, unless it says "
		    "otherwise\n",
		    d);
	if (p->has_swap)
		buf_printf(&b,
		    "  swap: %s and %s trade names after phase %d (host "
		    "keys follow the %s)\n",
		    p->swap_hosts[0], p->swap_hosts[1], p->swap_after_phase,
		    p->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE ? "machine"
								  : "address");
	json_array_foreach(json_object_get(root, "phases"), i, ph)
	    show_phase_text(s, &b, ph, &sum);
	show_summary_text(s, &b, &sum);
	fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
	buf_free(&sum.manuals);
	buf_free(&sum.gates);
	json_decref(sum.hosts);
	json_decref(sum.checks_by);
}

/*
 * Print the plan as `show` does, for `run --dry-run`: phases outside
 * [from, to] (-1: open) are left out.
 */
int
show_plan_text(struct plan *p, FILE *fp, int from, int to)
{
	struct show s;
	json_t *root, *phases, *ph;
	size_t i;

	memset(&s, 0, sizeof s);
	s.plan = p;
	expand_env_show(&s.env, p);
	root = show_json(&s);
	phases = json_object_get(root, "phases");
	for (i = json_array_size(phases); i-- > 0;) {
		ph = json_array_get(phases, i);
		int id = (int)json_integer_value(json_object_get(ph, "id"));

		if ((from >= 0 && id < from) || (to >= 0 && id > to))
			json_array_remove(phases, i);
	}
	show_text(&s, fp, root);
	json_decref(root);
	return s.failed ? -1 : 0;
}

/* hostswap show */
static int
cmd_show_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = { { "inventory", required_argument,
						  NULL, 'i' },
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	const char *inv = NULL;
	struct show s;
	struct plan *p;
	json_t *root;
	char *out;
	int ch, rc, json = 0;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			inv = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(self,
		    argc - optind == 0 ? "missing PLAN" : "too many arguments");
	if ((rc = cmd_load_plan(argv[optind], inv, &p)) != EXIT_OK)
		return rc;
	memset(&s, 0, sizeof s);
	s.plan = p;
	expand_env_show(&s.env, p);
	root = show_json(&s);
	if (json) {
		out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (out == NULL)
			fatalx("json_dumps failed");
		printf("%s\n", out);
		free(out);
	} else
		show_text(&s, stdout, root);
	json_decref(root);
	plan_free(p);
	return s.failed ? EXIT_SOFTWARE : EXIT_OK;
}
