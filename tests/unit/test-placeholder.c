/*
 * Unit tests of placeholder.c: the inventory addresses that stand for
 * "not filled in yet", and real ones that must not be taken for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "placeholder.h"

static void
documentation_addresses(void **state)
{
	static const char *const ph[] = { "192.0.2.10", "192.0.2.0",
		"198.51.100.7", "203.0.113.255", "2001:db8::1",
		"2001:DB8:1::", "", "dennou.example", "host.example.org",
		"example.com", "x.invalid", "a.b.test", "::ffff:192.0.2.10",
		"dennou.example.", NULL };
	const char *const *a;

	(void)state;
	for (a = ph; *a != NULL; a++)
		assert_non_null(placeholder_address(*a));
	assert_string_equal(placeholder_address("192.0.2.10"),
	    "a documentation address (RFC 5737)");
	assert_string_equal(placeholder_address("2001:db8::5"),
	    "a documentation address (RFC 3849)");
	assert_string_equal(placeholder_address(""), "empty");
}

/* Strings only: placeholder_address() classifies text and never
 * resolves or connects (the production inventory's address among them). */
static void
real_addresses(void **state)
{
	static const char *const real[] = { "133.30.109.22", "127.0.0.23",
		"192.0.3.10", "192.0.1.10", "198.51.101.1", "203.0.112.1",
		"2001:db9::1", "::1", "dennou.gfd-dennou.org", "examples.com",
		"myexample.org", "test", "latest", "::ffff:133.30.109.22",
		"example.", NULL };
	const char *const *a;

	(void)state;
	for (a = real; *a != NULL; a++)
		assert_null(placeholder_address(*a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(documentation_addresses),
		cmocka_unit_test(real_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
