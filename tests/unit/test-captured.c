/*
 * Unit tests of captured.c and its callers (SPEC v3 §2): which values may
 * be substituted as text, the refusal's message, the variables' names, the
 * one-line preamble (read back by a real sh, byte for byte), the check of
 * a template's captures, and the search for a secret in a capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "captured.h"
#include "diag.h"
#include "expand.h"
#include "plan.h"
#include "run.h"
#include "secret.h"
#include "xmalloc.h"

static const char plan_text[] =
    "hostswap: 1\n"
    "name: t\n"
    "inventory:\n"
    "  hosts:\n"
    "    ika: {address: 127.0.0.21, user: a}\n"
    "    tako-2: {address: 127.0.0.22, user: a}\n"
    "phases:\n"
    "  - id: 0\n"
    "    name: zero\n"
    "    steps:\n"
    "      - {id: a, on: ika, run: echo, capture: one_key}\n"
    "      - {id: b, on: [ika, tako-2], run: echo, capture: both}\n"
    "      - {id: c, on: local, run: echo, capture: here}\n"
    "  - id: 1\n"
    "    name: one\n"
    "    steps:\n"
    "      - {id: d, on: ika, run: echo, capture: later}\n"
    "  - id: 2\n"
    "    name: two\n"
    "    steps:\n"
    "      - {id: e, on: ika, run: echo}\n";

static const char ugly[] = "from=\"1.2.3.4\" it's\n\n$(touch /tmp/x) `x`\\";

static void
text_only_when_plain(void **state)
{
	(void)state;
	assert_null(captured_unsafe(""));
	assert_null(captured_unsafe("ssh-ed25519 AAAAC3Nz+/a= root@ika"));
	assert_null(captured_unsafe("SHA256:abc+/= /var/tmp/x_1 %,:"));
	assert_string_equal(captured_unsafe(ugly),
	    "\"1.2.3.4\" it's\n\n"
	    "$(touch /tmp/x) `x`\\");
	assert_non_null(captured_unsafe("a\nb"));
	assert_non_null(captured_unsafe("a;b"));
	assert_non_null(captured_unsafe("a$b"));
	assert_non_null(captured_unsafe("a\tb"));
	assert_non_null(captured_unsafe("caf\xc3\xa9"));
}

static void
describes_the_character(void **state)
{
	static const char *const cases[][2] = {
		{ "\"", "'\"'" },
		{ "\n", "'\\n'" },
		{ "\x1b[0m", "'\\x1b'" },
		{ "'", "'\\''" },
		{ "\xc3\xa9t\xc3\xa9", "'\xc3\xa9'" },
		{ "\xc3(", "'\\xc3'" },
	};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = captured_describe(cases[i][0]);
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
}

static void
names_and_refusal(void **state)
{
	char *s;

	(void)state;
	s = captured_var("ika_pubkey", NULL);
	assert_string_equal(s, "HOSTSWAP_CAPTURED_IKA_PUBKEY");
	free(s);
	s = captured_var("key", "tako-2.lan");
	assert_string_equal(s, "HOSTSWAP_CAPTURED_KEY_TAKO_2_LAN");
	free(s);
	assert_null(captured_refusal("k", NULL, "ssh-rsa AAAA= x@y"));
	s = captured_refusal("ika_pubkey", NULL, ugly);
	assert_string_equal(s,
	    "captured value ika_pubkey holds a character that cannot be "
	    "substituted as text: '\"' (use $HOSTSWAP_CAPTURED_IKA_PUBKEY)");
	free(s);
	s = captured_refusal("k", "ika", "a\nb");
	assert_string_equal(s,
	    "captured value k.ika holds a character that cannot be substituted "
	    "as text: '\\n' (use $HOSTSWAP_CAPTURED_K_IKA)");
	free(s);
}

/* Run "PREAMBLE printf %s "$VAR"" in sh; its output (allocated). */
static char *
sh_value(const char *pre, const char *var)
{
	char path[] = "/tmp/test-captured-XXXXXX", chunk[256], *cmd;
	struct buf b;
	FILE *fp;
	size_t n;
	int fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fprintf(fp, "%sprintf '%%s' \"${%s-unset}\"\n", pre, var);
	fclose(fp);
	xasprintf(&cmd, "sh %s", path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	assert_int_equal(pclose(fp), 0);
	unlink(path);
	free(cmd);
	return buf_release(&b);
}

static void
assignment_reads_back_exactly(void **state)
{
	static const char *const values[] = { "", "plain", "it's", "a\nb",
		"a\n\n'b'\n c", ugly, "\r\x1b[0m\t$x" };
	char *as, *pre, *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		as = captured_assign("V", values[i]);
		assert_null(strchr(as, '\n'));
		xasprintf(&pre, "%s; ", as);
		got = sh_value(pre, "V");
		assert_string_equal(got, values[i]);
		free(got);
		free(pre);
		free(as);
	}
}

static void
preamble_of_earlier_phases(void **state)
{
	static const char *const kept[][3] = {
		{ "both", "tako-2", "t value" },
		{ "one_key", "ika", "ssh-ed25519 AAAA= \"quoted\"\nline" },
		{ "both", "ika", "i value" },
		{ "here", "local", "from local" },
		{ "later", "ika", "not yet" },
	};
	struct run_capture c[5];
	size_t i;
	struct diag d;
	struct plan *p = NULL;
	char *pre, *got;

	(void)state;
	for (i = 0; i < 5; i++) {
		c[i].name = xstrdup(kept[i][0]);
		c[i].host = xstrdup(kept[i][1]);
		c[i].value = xstrdup(kept[i][2]);
	}
	diag_init(&d);
	assert_int_equal(
	    plan_parse("t.yaml", plan_text, strlen(plan_text), &p, &d),
	    PLAN_OK);
	diag_free(&d);

	pre = captured_preamble(p, c, 5, 0);
	assert_string_equal(pre, "");
	free(pre);

	pre = captured_preamble(p, c, 5, 1);
	assert_null(strchr(pre, '\n'));
	assert_null(strstr(pre, "LATER"));
	assert_int_equal(pre[strlen(pre) - 2], ';');
	got = sh_value(pre, "HOSTSWAP_CAPTURED_ONE_KEY");
	assert_string_equal(got, c[1].value);
	free(got);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_ONE_KEY_IKA");
	assert_string_equal(got, c[1].value);
	free(got);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_BOTH_TAKO_2");
	assert_string_equal(got, "t value");
	free(got);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_BOTH_IKA");
	assert_string_equal(got, "i value");
	free(got);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_BOTH");
	assert_string_equal(got, "unset");
	free(got);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_HERE");
	assert_string_equal(got, "from local");
	free(got);
	free(pre);

	pre = captured_preamble(p, c, 5, 2);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_LATER");
	assert_string_equal(got, "not yet");
	free(got);
	free(pre);

	/* A capture the run does not hold (a skipped task) is left unset. */
	pre = captured_preamble(p, c, 1, 2);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_BOTH_TAKO_2");
	assert_string_equal(got, "t value");
	free(got);
	got = sh_value(pre, "HOSTSWAP_CAPTURED_LATER");
	assert_string_equal(got, "unset");
	free(got);
	free(pre);
	plan_free(p);
	for (i = 0; i < 5; i++) {
		free(c[i].name);
		free(c[i].host);
		free(c[i].value);
	}
}

static char *
hook_captured(const struct expand_env *env, const char *name, const char *host)
{
	(void)env;
	if (strcmp(name, "good") == 0)
		return xstrdup("ssh-ed25519 AAAA= root@ika");
	if (strcmp(name, "bad") == 0 && host != NULL &&
	    strcmp(host, "tako") == 0)
		return xstrdup("x\n; rm -rf /");
	return NULL;
}

static void
templates_refused_before_expansion(void **state)
{
	struct expand_env env;
	char *err = NULL;

	(void)state;
	memset(&env, 0, sizeof env);
	env.captured = hook_captured;
	assert_int_equal(
	    expand_captured_as_text(&env, "k='${captured.good}' $${x}", &err),
	    0);
	assert_null(err);
	/* Unknown: for the expansion to report. */
	assert_int_equal(
	    expand_captured_as_text(&env, "${captured.nope}", &err), 0);
	assert_int_equal(expand_captured_as_text(&env,
			     "a ${captured.good} ${captured.bad.tako}", &err),
	    -1);
	assert_string_equal(err,
	    "captured value bad.tako holds a character that cannot be "
	    "substituted as text: '\\n' (use $HOSTSWAP_CAPTURED_BAD_TAKO)");
	free(err);
	/* show: placeholders, nothing to refuse. */
	env.captured = NULL;
	assert_int_equal(
	    expand_captured_as_text(&env, "${captured.bad.tako}", &err), 0);
}

static void
finds_a_secret_by_name(void **state)
{
	char n0[] = "empty", n1[] = "pw", n2[] = "token";
	char v0[] = "", v1[] = "hunter2", v2[] = "tok";
	char *names[] = { n0, n1, n2 }, *values[] = { v0, v1, v2 };
	struct secrets s = { names, values, 3 };

	(void)state;
	assert_null(secrets_find(&s, "nothing here"));
	assert_string_equal(secrets_find(&s, "key hunter2 tok"), "pw");
	assert_string_equal(secrets_find(&s, "a tok"), "token");
	assert_null(secrets_find(NULL, "hunter2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_only_when_plain),
		cmocka_unit_test(describes_the_character),
		cmocka_unit_test(names_and_refusal),
		cmocka_unit_test(assignment_reads_back_exactly),
		cmocka_unit_test(preamble_of_earlier_phases),
		cmocka_unit_test(templates_refused_before_expansion),
		cmocka_unit_test(finds_a_secret_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
