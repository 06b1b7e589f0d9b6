/*
 * Unit tests of the remote wrapper, run by a real /bin/sh on this
 * machine: the record tells an exit from a death by signal, an attempt
 * never reuses a record, and a script that arrives without its end line
 * (the controller died while sending it) is never run.
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "wrapper.h"

static char dir[64];

/* A scratch directory for the records. */
static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/hostswap-wrapper.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

/* Remove it. */
static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

/*
 * Run the RUN-mode wrapper for record REC in sh (as setsid would start it
 * under sshd) with `in` (len bytes) on its standard input; its exit
 * status.
 */
static int
run_wrapper(const char *rec, const char *in, size_t len)
{
	char *cmd, *q, *line;
	FILE *fp;
	int rc;

	cmd = wrapper_command(WRAPPER_RUN, rec, NULL);
	q = sh_quote(cmd);
	if (asprintf(&line, "setsid -w sh -c %s >/dev/null 2>&1", q) == -1)
		fail();
	fp = popen(line, "w");
	assert_non_null(fp);
	fwrite(in, 1, len, fp);
	rc = pclose(fp);
	free(line);
	free(q);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The record file's text, or NULL. */
static char *
record_text(const char *rec)
{
	char path[256];

	snprintf(path, sizeof path, "%s/record", rec);
	return buf_read_file(path);
}

/* A whole script runs; its exit status is recorded. */
static void
test_exit_recorded(void **state)
{
	char rec[128], *text, *rt;
	size_t len;

	(void)state;
	snprintf(rec, sizeof rec, "%s/1-a-1", dir);
	text = wrapper_script("echo hi; exit 7", &len);
	assert_int_equal(run_wrapper(rec, text, len), 7);
	rt = record_text(rec);
	assert_non_null(rt);
	assert_non_null(strstr(rt, "pgid "));
	assert_non_null(strstr(rt, "status 7\n"));
	assert_null(strstr(rt, "signal"));
	free(rt);
	free(text);
}

/* A death by a caught signal is recorded as such, not as an exit. */
static void
test_signal_recorded(void **state)
{
	char rec[128], *text, *rt;
	size_t len;

	(void)state;
	snprintf(rec, sizeof rec, "%s/1-b-1", dir);
	text = wrapper_script("kill -TERM $$\nsleep 5", &len);
	run_wrapper(rec, text, len);
	rt = record_text(rec);
	assert_non_null(rt);
	assert_non_null(strstr(rt, "signal TERM\n"));
	free(rt);
	free(text);
}

/* A script cut short is not run at all. */
static void
test_incomplete_not_run(void **state)
{
	char rec[128], flag[128], *script, *text, *rt;
	size_t len;

	(void)state;
	snprintf(rec, sizeof rec, "%s/1-c-1", dir);
	snprintf(flag, sizeof flag, "%s/ran", dir);
	if (asprintf(&script, "touch %s\necho more\n", flag) == -1)
		fail();
	text = wrapper_script(script, &len);
	/* Everything but the end line arrives. */
	assert_int_equal(
	    run_wrapper(rec, text, strlen(script)), WRAPPER_EXIT_INCOMPLETE);
	assert_int_not_equal(access(flag, F_OK), 0);
	rt = record_text(rec);
	assert_non_null(rt);
	assert_null(strstr(rt, "status")); /* a resume: interrupted */
	free(rt);
	/* The whole text, end line included, runs. */
	snprintf(rec, sizeof rec, "%s/1-c-2", dir);
	assert_int_equal(run_wrapper(rec, text, len), 0);
	assert_int_equal(access(flag, F_OK), 0);
	free(text);
	free(script);
}

/* An attempt never reuses a record. */
static void
test_record_not_reused(void **state)
{
	char rec[128], *text;
	size_t len;

	(void)state;
	snprintf(rec, sizeof rec, "%s/1-d-1", dir);
	text = wrapper_script("true", &len);
	assert_int_equal(run_wrapper(rec, text, len), 0);
	assert_int_equal(run_wrapper(rec, text, len), WRAPPER_EXIT_RECORD);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_exit_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_signal_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_incomplete_not_run, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_record_not_reused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
