/* Unit tests of vars.c: scanning, escapes and expansion of ${...}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vars.h"
#include "xmalloc.h"

struct seen {
	char names[8][32];
	size_t offs[8];
	size_t n;
};

static int
record_cb(const char *name, size_t len, size_t off, size_t k, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(k, s->n);
	memcpy(s->names[s->n], name, len);
	s->names[s->n][len] = '\0';
	s->offs[s->n++] = off;
	return 0;
}

static char *
lookup_cb(const char *name, void *arg)
{
	(void)arg;
	if (strcmp(name, "who") == 0)
		return xstrdup("world");
	if (strcmp(name, "hosts.ika.address") == 0)
		return xstrdup("127.0.0.21");
	return NULL;
}

static void
scans_references_in_order(void **state)
{
	const char *s = "a ${x} b $${y} $$ $HOME ${hosts.ika.address}";
	struct seen seen;

	(void)state;
	memset(&seen, 0, sizeof seen);
	assert_int_equal(
	    vars_scan(s, strlen(s), record_cb, &seen, NULL), VARS_OK);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.names[0], "x");
	assert_int_equal(seen.offs[0], 2);
	assert_string_equal(seen.names[1], "hosts.ika.address");
}

static void
reports_malformed(void **state)
{
	size_t bad = 99;

	(void)state;
	assert_int_equal(
	    vars_scan("ok ${open", 9, NULL, NULL, &bad), VARS_UNTERMINATED);
	assert_int_equal(bad, 3);
	assert_int_equal(vars_scan("${}", 3, NULL, NULL, &bad), VARS_BADNAME);
	assert_int_equal(
	    vars_scan("${a b}", 6, NULL, NULL, &bad), VARS_BADNAME);
	assert_int_equal(
	    vars_scan("${a\n}", 5, NULL, NULL, &bad), VARS_UNTERMINATED);
}

static void
expands_and_escapes(void **state)
{
	char *v, *err;

	(void)state;
	v = vars_expand("hello ${who}, $${HOME} $$ $1 at ${hosts.ika.address}",
	    lookup_cb, NULL, &err);
	assert_non_null(v);
	assert_string_equal(v, "hello world, ${HOME} $$ $1 at 127.0.0.21");
	free(v);
}

static void
unknown_is_an_error_not_empty(void **state)
{
	char *v, *err = NULL;

	(void)state;
	v = vars_expand("x ${nobody} y", lookup_cb, NULL, &err);
	assert_null(v);
	assert_non_null(err);
	assert_string_equal(err, "nobody");
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scans_references_in_order),
		cmocka_unit_test(reports_malformed),
		cmocka_unit_test(expands_and_escapes),
		cmocka_unit_test(unknown_is_an_error_not_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
