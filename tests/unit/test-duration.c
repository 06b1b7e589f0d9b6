/* Unit tests of duration.c: what plans may write, and what they may not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"

static void
parses_units(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(duration_parse("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(duration_parse("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(duration_parse("10m", &ms), 0);
	assert_int_equal(ms, 600000);
	assert_int_equal(duration_parse("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(duration_parse("1h30m", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(duration_parse("2m500ms", &ms), 0);
	assert_int_equal(ms, 120500);
	assert_int_equal(duration_parse("0s", &ms), 0);
	assert_int_equal(ms, 0);
}

static void
refuses_bad(void **state)
{
	static const char *const bad[] = { "", "30", "10 m", "m", "1x", "1s1h",
		"1m1m", "-5s", "1.5s", "10minutes", "1s500", "9999999999999h",
		"1ms1s", NULL };
	const char *const *b;
	uint64_t ms;

	(void)state;
	for (b = bad; *b != NULL; b++)
		assert_int_equal(duration_parse(*b, &ms), -1);
}

static void
formats_round_trip(void **state)
{
	static const uint64_t v[] = { 1, 500, 1000, 90000, 600000, 5400000,
		3723004, 86400000 };
	char buf[32];
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		duration_format(v[i], buf, sizeof buf);
		assert_int_equal(duration_parse(buf, &ms), 0);
		assert_int_equal(ms, v[i]);
	}
	duration_format(5400000, buf, sizeof buf);
	assert_string_equal(buf, "1h30m");
	duration_format(0, buf, sizeof buf);
	assert_string_equal(buf, "0s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_units),
		cmocka_unit_test(refuses_bad),
		cmocka_unit_test(formats_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
