/*
 * Unit tests of the plan loader: the model it builds from a good plan
 * (defaults, kinds, targets, swap, captures), expansion for a task, and
 * positions of errors, including inside block scalars and after UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "expand.h"
#include "outage.h"
#include "plan-names.h"
#include "plan.h"
#include "step.h"

static const char good[] =
    "hostswap: 1\n"
    "name: t\n"
    "vars: {domain: example.org, fqdn: \"www.${domain}\"}\n"
    "secrets: {pw: {env: T_PW}}\n"
    "defaults: {timeout: 2m, retries: 1, retry_delay: 1s}\n"
    "swap: {after_phase: 1, hosts: [ika, tako]}\n"
    "inventory:\n"
    "  hosts:\n"
    "    ika: {address: 127.0.0.21, user: a, host_key: \"ssh-ed25519 "
    "AAAAika\"}\n"
    "    tako: {address: 127.0.0.22, port: 2200, user: a, max_channels: 3,\n"
    "           host_key: \"ssh-ed25519 AAAAtako\", become: sudo,\n"
    "           become_password: \"${secrets.pw}\"}\n"
    "  vars: {domain: example.net}\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: zero\n"
    "    steps:\n"
    "      - name: Make Key!\n"
    "        on: ika\n"
    "        run: echo ${fqdn} ${host} ${secrets.pw}\n"
    "        capture: key\n"
    "      - id: restart\n"
    "        on: [tako]\n"
    "        detach: /etc/init.d/networking restart\n"
    "  - id: 1\n"
    "    name: one\n"
    "    steps:\n"
    "      - id: put-motd\n"
    "        on: [ika, tako]\n"
    "        put: {path: /etc/motd, content: \"${captured.key}\\n\", "
    "mode: \"0640\", backup: true}\n"
    "        timeout: 30s\n"
    "      - id: web\n"
    "        http: {url: \"https://${fqdn}/\", expect_status: [200, 301]}\n"
    "  - id: 2\n"
    "    name: two\n"
    "    steps:\n"
    "      - id: key\n"
    "        on: ika\n"
    "        run: echo ${hosts.ika.host_key}\n"
    "      - id: mail\n"
    "        pop3: {url: pop3://x, user: u, password: p, "
    "expect_messages: \">= 1\"}\n";

static struct plan *
load(const char *text, struct diag *d)
{
	struct plan *p = NULL;

	diag_init(d);
	plan_parse("t.yaml", text, strlen(text), &p, d);
	return p;
}

static void
loads_the_model(void **state)
{
	struct diag d;
	struct plan *p = load(good, &d);
	const struct step *st;

	(void)state;
	if (p == NULL)
		diag_print(&d, stderr);
	assert_non_null(p);
	assert_int_equal(p->nphases, 3);
	assert_int_equal(p->inv->nhosts, 2);
	assert_int_equal(plan_host(p, "tako")->port, 2200);
	assert_int_equal(plan_host(p, "tako")->max_channels, 3);
	assert_int_equal(plan_host(p, "ika")->port, 22);
	assert_int_equal(plan_host(p, "ika")->max_channels, 10);
	assert_true(p->has_swap);
	assert_int_equal(p->swap_after_phase, 1);

	st = &p->phases[0].steps[0];
	assert_string_equal(st->id, "make-key");
	assert_int_equal(st->kind, STEP_RUN);
	assert_int_equal(st->timeout_ms, 120000);
	assert_int_equal(st->retries, 1);
	assert_true(st->idempotent);
	assert_string_equal(st->capture, "key");

	st = &p->phases[0].steps[1];
	assert_int_equal(st->kind, STEP_DETACH);
	assert_false(st->idempotent);

	st = &p->phases[1].steps[0];
	assert_int_equal(st->kind, STEP_PUT);
	assert_int_equal(st->put.mode, 0640);
	assert_true(st->put.backup);
	assert_int_equal(st->timeout_ms, 30000);
	assert_int_equal(st->non, 2);

	st = &p->phases[1].steps[1];
	assert_int_equal(st->kind, STEP_HTTP);
	assert_true(st->on_local);
	assert_int_equal(st->http.nexpect_status, 2);
	assert_int_equal(st->http.expect_status[1], 301);

	st = &p->phases[2].steps[1];
	assert_int_equal(st->pop3.expect_op, CMP_GE);
	assert_int_equal(st->pop3.expect_n, 1);
	plan_free(p);
	diag_free(&d);
}

static void
expands_for_a_task(void **state)
{
	struct diag d;
	struct plan *p = load(good, &d);
	struct expand_env env;
	char *v;

	(void)state;
	assert_non_null(p);
	expand_env_show(&env, p);
	/* Inventory vars override plan vars; vars use vars; secrets masked. */
	v = expand(&env, "ika", 0, p->phases[0].steps[0].script, NULL);
	assert_string_equal(v, "echo www.example.net ika ***");
	free(v);
	v = expand(&env, "tako", 1, p->phases[1].steps[0].put.content, NULL);
	assert_string_equal(v, "<captured:key>\n");
	free(v);
	/* After the swap phase the name ika expects tako's machine's key. */
	v = expand(&env, "ika", 2, p->phases[2].steps[0].script, NULL);
	assert_string_equal(v, "echo ssh-ed25519 AAAAtako");
	free(v);
	plan_free(p);
	diag_free(&d);
}

/* Load bad text and return the first message, "LINE:COL: msg". */
static char *
first_error(const char *text)
{
	static char buf[512];
	struct diag d;
	struct plan *p = load(text, &d);

	assert_null(p);
	assert_true(d.n > 0);
	diag_sort(&d);
	snprintf(
	    buf, sizeof buf, "%u:%u: %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	diag_free(&d);
	return buf;
}

static void
positions_inside_block_scalars(void **state)
{
	static const char text[] =
	    "hostswap: 1\n"
	    "name: t\n"
	    "inventory: {hosts: {ika: {address: 127.0.0.1}}}\n"
	    "phases:\n"
	    "  - id: 1\n"
	    "    name: \xe4\xb8\x80\n"
	    "    steps:\n"
	    "      - id: a\n"
	    "        on: ika\n"
	    "        run: |\n"
	    "          echo one\n"
	    "\n"
	    "          echo $${HOME} two ${nope}\n";

	(void)state;
	assert_string_equal(first_error(text),
	    "13:29: unknown variable "
	    "'${nope}': not defined under 'vars:' of the plan or inventory");
}

static void
columns_count_characters(void **state)
{
	static const char text[] =
	    "hostswap: 1\n"
	    "name: t\n"
	    "inventory: {hosts: {ika: {address: 127.0.0.1}}}\n"
	    "phases:\n"
	    "  - {id: 1, name: \xe7\xac\xac\xe4\xb8\x80, steps: "
	    "[{id: a, on: iko, run: x}]}\n";

	(void)state;
	/* Two 3-byte characters count as two columns. */
	assert_string_equal(first_error(text),
	    "5:43: unknown host 'iko' "
	    "(did you mean 'ika'?)");
}

static const char outage_plan[] =
    "hostswap: 1\n"
    "name: t\n"
    "inventory: {hosts: {ika: {address: 127.0.0.1}, tako: {address: "
    "127.0.0.2}}}\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: stop\n"
    "    steps:\n"
    "      - {id: stop, on: [ika, tako], run: x, outage: start}\n"
    "  - id: 3\n"
    "    name: check\n"
    "    steps:\n"
    "      - {id: check, on: [ika, tako], run: x, outage: end}\n"
    "      - {id: other, on: ika, run: x}\n";

static void
outage_marks_parse(void **state)
{
	struct diag d;
	struct plan *p = load(outage_plan, &d);
	const struct step *st;
	int ph = -1;

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->phases[0].steps[0].outage, OUTAGE_START);
	assert_int_equal(p->phases[1].steps[0].outage, OUTAGE_END);
	assert_int_equal(p->phases[1].steps[1].outage, OUTAGE_NONE);
	st = plan_outage_step(p, OUTAGE_END, &ph);
	assert_non_null(st);
	assert_string_equal(st->id, "check");
	assert_int_equal(ph, 3);
	plan_free(p);
	diag_free(&d);
}

/* The outage's figure from tasks fed in any order. */
static void
outage_from_tasks(void **state)
{
	struct diag d;
	struct plan *p = load(outage_plan, &d);
	struct outage o;
	json_t *j;

	(void)state;
	assert_non_null(p);
	outage_init_plan(&o, p);
	assert_true(o.marked);
	/* Nothing started: all null. */
	outage_task(&o, 1, "stop", "pending", 0, 0);
	j = outage_json(&o, 5000);
	assert_true(json_is_null(json_object_get(j, "start")));
	assert_true(json_is_null(json_object_get(j, "seconds")));
	assert_true(json_is_false(json_object_get(j, "running")));
	json_decref(j);
	/* The start step's first task starts it; the clock runs. */
	outage_init_plan(&o, p);
	outage_task(&o, 1, "stop", "succeeded", 2000, 2500);
	outage_task(&o, 1, "stop", "succeeded", 1000, 3000);
	outage_task(&o, 3, "check", "succeeded", 8000, 9000);
	outage_task(&o, 3, "check", "running", 8000, 0);
	assert_int_equal(o.start_ms, 1000);
	assert_int_equal(outage_end_ms(&o), 0);
	j = outage_json(&o, 11500);
	assert_true(json_is_true(json_object_get(j, "running")));
	assert_true(json_is_null(json_object_get(j, "end")));
	assert_true(json_real_value(json_object_get(j, "seconds")) == 10.5);
	json_decref(j);
	/* The end step's last success ends it; other steps do not count. */
	outage_init_plan(&o, p);
	outage_task(&o, 1, "stop", "succeeded", 1000, 3000);
	outage_task(&o, 3, "check", "succeeded", 8000, 9000);
	outage_task(&o, 3, "check", "skipped", 8000, 9250);
	outage_task(&o, 3, "other", "succeeded", 8000, 20000);
	assert_int_equal(outage_end_ms(&o), 9250);
	j = outage_json(&o, 50000);
	assert_true(json_is_false(json_object_get(j, "running")));
	assert_string_equal(json_string_value(json_object_get(j, "start")),
	    "1970-01-01T00:00:01.000Z");
	assert_string_equal(json_string_value(json_object_get(j, "end")),
	    "1970-01-01T00:00:09.250Z");
	assert_true(json_real_value(json_object_get(j, "seconds")) == 8.25);
	json_decref(j);
	/* A failed end task keeps it running. */
	outage_init_plan(&o, p);
	outage_task(&o, 1, "stop", "succeeded", 1000, 3000);
	outage_task(&o, 3, "check", "failed", 8000, 9000);
	outage_task(&o, 3, "check", "succeeded", 8000, 9000);
	assert_int_equal(outage_end_ms(&o), 0);
	/* Marks as the state file keeps them; a bad one reads as none. */
	assert_int_equal(outage_init_marks(&o, "1/stop", "3/check"), 0);
	assert_true(o.marked);
	assert_int_equal(o.end_phase, 3);
	assert_string_equal(o.end_step, "check");
	assert_int_equal(outage_init_marks(&o, "x/stop", "3/check"), -1);
	assert_false(o.marked);
	assert_int_equal(outage_init_marks(&o, NULL, NULL), 0);
	assert_false(o.marked);
	plan_free(p);
	diag_free(&d);
}

static void
outage_errors(void **state)
{
	static const char twice[] =
	    "hostswap: 1\n"
	    "name: t\n"
	    "inventory: {hosts: {ika: {address: 127.0.0.1}}}\n"
	    "phases:\n"
	    "  - id: 1\n"
	    "    name: one\n"
	    "    steps:\n"
	    "      - {id: a, on: ika, run: x, outage: end}\n"
	    "      - {id: b, on: ika, run: x, outage: end}\n"
	    "      - {id: c, on: ika, run: x, outage: start}\n";
	static const char backwards[] =
	    "hostswap: 1\n"
	    "name: t\n"
	    "inventory: {hosts: {ika: {address: 127.0.0.1}}}\n"
	    "phases:\n"
	    "  - {id: 1, name: a, steps: [{id: a, on: ika, run: x, outage: "
	    "end}]}\n"
	    "  - {id: 2, name: b, steps: [{id: b, on: ika, run: x, outage: "
	    "start}]}\n";

	(void)state;
	assert_string_equal(first_error(twice),
	    "9:42: a second 'outage: end' (the first is step 'a', line 8): a "
	    "plan has one outage");
	assert_string_equal(first_error(backwards),
	    "5:63: 'outage: end' in phase 1 comes before 'outage: start' (step "
	    "'b', phase 2): the outage must start in the same phase or an "
	    "earlier one");
}

static void
slugs(void **state)
{
	char *s;

	(void)state;
	s = step_slug("Stop Services (apache2, bind9)");
	assert_string_equal(s, "stop-services-apache2-bind9");
	free(s);
	s = step_slug("\xe5\x90\x84\xe3\x82\xb5");
	assert_string_equal(s, "");
	free(s);
	s = step_slug("ika \xe3\x81\xae rsync_home");
	assert_string_equal(s, "ika-rsync_home");
	free(s);
	assert_true(step_valid_id("copy-home_2"));
	assert_false(step_valid_id("-x"));
	assert_false(step_valid_id("a/b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_the_model),
		cmocka_unit_test(expands_for_a_task),
		cmocka_unit_test(positions_inside_block_scalars),
		cmocka_unit_test(columns_count_characters),
		cmocka_unit_test(slugs),
		cmocka_unit_test(outage_marks_parse),
		cmocka_unit_test(outage_from_tasks),
		cmocka_unit_test(outage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
