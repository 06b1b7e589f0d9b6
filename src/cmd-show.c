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
#include "plan.h"

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

/* The kind's settings of one task, as JSON. */
static void
show_task_kind(struct show *s, json_t *t, const struct step *st,
    const char *host, size_t ph)
{
	json_t *k, *a;
	char mode[8];
	size_t i;

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
		show_set_str(k, "path", show_expand(s, host, ph, st->put.path));
		if (st->put.src != NULL)
			json_object_set_new(k, "src", json_string(st->put.src));
		else
			show_set_str(k, "content",
			    show_expand(s, host, ph, st->put.content));
		snprintf(mode, sizeof mode, "%04o", st->put.mode);
		json_object_set_new(k, "mode",
		    st->put.has_mode ? json_string(mode) : json_null());
		show_set_str(
		    k, "owner", show_expand(s, host, ph, st->put.owner));
		json_object_set_new(k, "backup", json_boolean(st->put.backup));
		break;
	case STEP_REBOOT:
	case STEP_WAIT:
		if (st->kind == STEP_WAIT)
			json_object_set_new(k, "reachable", json_true());
		json_object_set_new(k, "timeout",
		    show_seconds(st->wait_timeout_ms ? st->wait_timeout_ms
						     : st->timeout_ms));
		break;
	case STEP_HTTP:
		show_set_str(k, "url", show_expand(s, host, ph, st->http.url));
		json_object_set_new(k, "method", json_string(st->http.method));
		a = json_array();
		for (i = 0; i < st->http.nexpect_status; i++)
			json_array_append_new(
			    a, json_integer(st->http.expect_status[i]));
		json_object_set_new(k, "expect_status", a);
		show_set_str(
		    k, "contains", show_expand(s, host, ph, st->http.contains));
		show_set_str(k, "basic_auth",
		    show_expand(s, host, ph, st->http.basic_auth));
		json_object_set_new(
		    k, "insecure", json_boolean(st->http.insecure));
		json_object_set_new(k, "timeout",
		    show_seconds(st->http.timeout_ms ? st->http.timeout_ms
						     : st->timeout_ms));
		break;
	case STEP_SMTP:
		show_set_str(k, "url", show_expand(s, host, ph, st->smtp.url));
		show_set_str(
		    k, "from", show_expand(s, host, ph, st->smtp.from));
		a = json_array();
		for (i = 0; i < st->smtp.nto; i++) {
			char *v = show_expand(s, host, ph, st->smtp.to[i]);

			json_array_append_new(a, json_string(v));
			free(v);
		}
		json_object_set_new(k, "to", a);
		show_set_str(
		    k, "subject", show_expand(s, host, ph, st->smtp.subject));
		break;
	case STEP_POP3:
		show_set_str(k, "url", show_expand(s, host, ph, st->pop3.url));
		show_set_str(
		    k, "user", show_expand(s, host, ph, st->pop3.user));
		show_set_str(
		    k, "password", show_expand(s, host, ph, st->pop3.password));
		show_set_str(k, "expect_messages", show_cmp(&st->pop3));
		break;
	case STEP_TCP: {
		char *port = show_expand(s, host, ph, st->tcp.port);

		show_set_str(k, "host", show_expand(s, host, ph, st->tcp.host));
		json_object_set_new(
		    k, "port", port ? json_integer(atoi(port)) : json_null());
		free(port);
		json_object_set_new(k, "expect",
		    json_string(
			st->tcp.expect == TCP_EXPECT_OPEN ? "open" : "closed"));
		break;
	}
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
	json_object_set_new(t, "timeout", show_seconds(st->timeout_ms));
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

/* Print a multi-line text indented under a task. */
static void
show_block(FILE *fp, const char *prefix, const char *text)
{
	const char *p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		fprintf(fp, "%s%.*s\n", prefix,
		    (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* One task as text: its header and what it does. */
static void
show_task_text(struct show *s, FILE *fp, json_t *t)
{
	const char *kind = json_string_value(json_object_get(t, "kind"));
	json_t *script = json_object_get(t, "script"), *v;
	char dur[32];
	char *settings;

	duration_format(
	    (uint64_t)(json_number_value(json_object_get(t, "timeout")) * 1000),
	    dur, sizeof dur);
	fprintf(fp, "  %s on %s: %s (timeout %s, retries %lld%s%s)\n",
	    json_string_value(json_object_get(t, "step")),
	    json_string_value(json_object_get(t, "host")), kind, dur,
	    (long long)json_integer_value(json_object_get(t, "retries")),
	    json_is_true(json_object_get(t, "idempotent")) ? ""
							   : ", not idempotent",
	    json_is_true(json_object_get(t, "sensitive")) ? ", sensitive" : "");
	if (json_is_string(v = json_object_get(t, "unless")))
		fprintf(fp, "    unless: %s\n", json_string_value(v));
	if (json_is_string(script))
		show_block(fp, "    | ", json_string_value(script));
	else if (json_is_string(v = json_object_get(t, "manual")))
		show_block(fp, "    > ", json_string_value(v));
	else if ((v = json_object_get(t, kind)) != NULL) {
		json_t *c = json_deep_copy(v);

		if (json_is_string(json_object_get(c, "content"))) {
			json_object_del(c, "content");
			settings = json_dumps(c, JSON_COMPACT);
			fprintf(fp, "    %s\n", settings);
			free(settings);
			show_block(fp, "    | ",
			    json_string_value(json_object_get(v, "content")));
		} else {
			settings = json_dumps(c, JSON_COMPACT);
			fprintf(fp, "    %s\n", settings);
			free(settings);
		}
		json_decref(c);
	}
	(void)s;
}

/* The whole plan as text. */
static void
show_text(struct show *s, FILE *fp, json_t *root)
{
	const struct plan *p = s->plan;
	json_t *ph, *t;
	size_t i, j;

	fprintf(fp, "plan %s: %s\n", p->name, p->path);
	if (p->description != NULL)
		fprintf(fp, "  %s\n", p->description);
	fprintf(fp, "inventory: %s\n", p->inv->path ? p->inv->path : "(none)");
	for (i = 0; i < p->inv->nhosts; i++) {
		const struct host *h = &p->inv->hosts[i];

		fprintf(fp, "  host %s: %s@%s port %d%s%s\n", h->name, h->user,
		    h->address, h->port, h->become_sudo ? ", become sudo" : "",
		    h->host_key ? ", key pinned" : "");
	}
	if (p->has_swap)
		fprintf(fp, "swap: %s <-> %s after phase %d (host keys %s)\n",
		    p->swap_hosts[0], p->swap_hosts[1], p->swap_after_phase,
		    p->swap_host_keys == HOST_KEYS_FOLLOW_MACHINE
			? "follow the machine"
			: "follow the address");
	json_array_foreach(json_object_get(root, "phases"), i, ph)
	{
		fprintf(fp, "\nphase %lld: %s\n",
		    (long long)json_integer_value(json_object_get(ph, "id")),
		    json_string_value(json_object_get(ph, "name")));
		json_array_foreach(json_object_get(ph, "tasks"), j, t)
		    show_task_text(s, fp, t);
	}
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
