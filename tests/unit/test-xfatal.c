/*
 * Unit tests of xfatal() (xmalloc.c): the end of a process that cannot
 * allocate is said without the log, as the log would say it — a text
 * line, or a JSON line when the log is JSON, with the journal's priority
 * when stderr is the journal — and the process exits 70. And scrub():
 * the longest value wins where several start at the same place.
 */
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "scrub.h"
#include "xmalloc.h"

/* Run xfatal() in a child whose stderr is a pipe: its line and status. */
static int
child_fatal(int json, int journal, char *out, size_t len)
{
	int fd[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		xfatal_format(json, journal);
		errno = ENOMEM;
		xfatal("xmalloc: %zu bytes", (size_t)4096);
	}
	close(fd[1]);
	while (got < len - 1 && (n = read(fd[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
says_it_in_text(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(child_fatal(0, 0, out, sizeof out), 70);
	assert_string_equal(
	    out, "hostswap: xmalloc: 4096 bytes: Cannot allocate memory\n");
	assert_int_equal(child_fatal(0, 1, out, sizeof out), 70);
	assert_string_equal(
	    out, "<2>hostswap: xmalloc: 4096 bytes: Cannot allocate memory\n");
}

static void
says_it_in_json(void **state)
{
	char out[512];
	json_t *o;
	json_error_t e;

	(void)state;
	assert_int_equal(child_fatal(1, 0, out, sizeof out), 70);
	o = json_loads(out, 0, &e);
	assert_non_null(o);
	assert_string_equal(
	    json_string_value(json_object_get(o, "level")), "fatal");
	assert_string_equal(json_string_value(json_object_get(o, "msg")),
	    "xmalloc: 4096 bytes: Cannot allocate memory");
	assert_int_equal(
	    strlen(json_string_value(json_object_get(o, "ts"))), 24);
	json_decref(o);
}

static void
scrub_hides_longest(void **state)
{
	char a[] = "abc", b[] = "abcdef", e[] = "";
	char *v[] = { a, b, NULL, e };
	char *s;

	(void)state;
	s = scrub(v, 4, "x abcdefg abc ab", 16);
	assert_string_equal(s, "x ***g *** ab");
	free(s);
	s = scrub(NULL, 0, "plain", 5);
	assert_string_equal(s, "plain");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(says_it_in_text),
		cmocka_unit_test(says_it_in_json),
		cmocka_unit_test(scrub_hides_longest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
