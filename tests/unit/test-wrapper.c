/*
 * Unit tests of the remote wrapper, run by a real /bin/sh on this
 * machine: the record tells an exit from a death by signal, an attempt
 * never reuses a record, a script that arrives without its end line
 * (the controller died while sending it) is never run, and a record
 * directory that someone else could write is refused before anything of
 * the script runs. The records live in the real base (/var/lib/hostswap
 * as root; else $HOME, set to a scratch directory, .local/state/hostswap)
 * under a run id of the test's own, removed afterwards.
 */
#include <sys/wait.h>

#include <signal.h>

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

static char dir[64];   /* scratch: $HOME, flags */
static char base[256]; /* the record base */
static char run[64];   /* this test's run id: records below base/run */

/* A scratch home, and a run id of this test's own. */
static int
setup(void **state)
{
	static int n;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/hostswap-wrapper.XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("HOME", dir, 1);
	if (geteuid() == 0)
		snprintf(base, sizeof base, "%s", WRAPPER_BASE_ROOT);
	else
		snprintf(base, sizeof base, "%s/%s", dir, WRAPPER_BASE_USER);
	snprintf(run, sizeof run, "unit%ld-%d", (long)getpid(), ++n);
	return 0;
}

/* Remove the scratch home and the run's records. */
static int
teardown(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(cmd, sizeof cmd,
	    "chmod -R u+w %s/%s 2>/dev/null; rm -rf %s "
	    "%s/%s",
	    base, run, dir, base, run);
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

	cmd = wrapper_command(WRAPPER_RUN, rec, NULL, 0);
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
	char path[512];

	snprintf(path, sizeof path, "%s/%s/record", base, rec);
	return buf_read_file(path);
}

/* A whole script runs; its exit status is recorded. */
static void
test_exit_recorded(void **state)
{
	char rec[128], *text, *rt;
	size_t len;

	(void)state;
	snprintf(rec, sizeof rec, "%s/h/1-a-1", run);
	text = wrapper_script("echo hi; exit 7", NULL, &len);
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
	snprintf(rec, sizeof rec, "%s/h/1-b-1", run);
	text = wrapper_script("kill -TERM $$\nsleep 5", NULL, &len);
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
	snprintf(rec, sizeof rec, "%s/h/1-c-1", run);
	snprintf(flag, sizeof flag, "%s/ran", dir);
	if (asprintf(&script, "touch %s\necho more\n", flag) == -1)
		fail();
	text = wrapper_script(script, NULL, &len);
	/* Everything but the end line arrives. */
	assert_int_equal(
	    run_wrapper(rec, text, strlen(script)), WRAPPER_EXIT_INCOMPLETE);
	assert_int_not_equal(access(flag, F_OK), 0);
	rt = record_text(rec);
	assert_non_null(rt);
	assert_null(strstr(rt, "status")); /* a resume: interrupted */
	free(rt);
	/* The whole text, end line included, runs. */
	snprintf(rec, sizeof rec, "%s/h/1-c-2", run);
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
	snprintf(rec, sizeof rec, "%s/h/1-d-1", run);
	text = wrapper_script("true", NULL, &len);
	assert_int_equal(run_wrapper(rec, text, len), 0);
	assert_int_equal(run_wrapper(rec, text, len), WRAPPER_EXIT_RECORD);
	free(text);
}

/* Run sh -c CMD (a shell line of the test's own); its exit status. */
static int sh(const char *, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		fail();
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/*
 * Prepare base/run as HOW (a shell line run with $R set to that path),
 * then run a script that would touch a flag: the wrapper refuses with
 * WHY in its message and the script never runs.
 */
static void
hostile_mode(const char *how, const char *why, int verified)
{
	char rec[128], flag[128], errf[128], *script, *text, *cmd, *q, *line;
	char *msg;
	size_t len;
	FILE *fp;
	int rc;

	assert_int_equal(
	    sh("mkdir -p %s && R=%s/%s && %s", base, base, run, how), 0);
	snprintf(rec, sizeof rec, "%s/h/1-x-1", run);
	snprintf(flag, sizeof flag, "%s/ran", dir);
	snprintf(errf, sizeof errf, "%s/err", dir);
	if (asprintf(&script, "touch %s\n", flag) == -1)
		fail();
	text = wrapper_script(script, NULL, &len);
	cmd = wrapper_command(WRAPPER_RUN, rec, NULL, verified);
	q = sh_quote(cmd);
	if (asprintf(&line, "setsid -w sh -c %s >/dev/null 2>%s", q, errf) ==
	    -1)
		fail();
	fp = popen(line, "w");
	assert_non_null(fp);
	fwrite(text, 1, len, fp);
	rc = pclose(fp);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), WRAPPER_EXIT_RECORD);
	assert_int_not_equal(access(flag, F_OK), 0);
	msg = buf_read_file(errf);
	assert_non_null(msg);
	assert_non_null(strstr(msg, WRAPPER_UNSAFE));
	if (strstr(msg, why) == NULL)
		fail_msg("'%s' does not say '%s'", msg, why);
	free(msg);
	free(line);
	free(q);
	free(cmd);
	free(text);
	free(script);
}

/* The whole check, as a wrapper that was not told the run checked. */
static void
hostile(const char *how, const char *why)
{
	hostile_mode(how, why, 0);
}

/* A run directory that is a link (to a directory of the same user). */
static void
test_unsafe_link(void **state)
{
	(void)state;
	hostile("mkdir -p \"$R.real\" && ln -s \"$R.real\" \"$R\"",
	    "not a real directory (symbolic link)");
	sh("rm -rf %s/%s.real", base, run);
}

/* A run directory that another user made (and so owns). */
static void
test_unsafe_owner(void **state)
{
	(void)state;
	hostile("mkdir -m 700 \"$R\" && chown 65534 \"$R\"", "owned by uid");
}

/* A run directory of the user's that others may write. */
static void
test_unsafe_mode(void **state)
{
	(void)state;
	hostile("mkdir \"$R\" && chmod 0777 \"$R\"",
	    "writable by others (mode 777)");
}

/* A host directory made in advance as a file. */
static void
test_unsafe_not_dir(void **state)
{
	(void)state;
	hostile("mkdir -m 700 \"$R\" && : >\"$R/h\"",
	    "not a real directory (regular");
}

/* A process group of its own running sleep 30: its leader's pid. */
static pid_t
sleeping_group(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

/*
 * Run the kill script of record rec: the group of pid must survive it.
 * Returns the record's probe script, quoted for sh -c (to free).
 */
static char *
kill_spares(const char *rec, pid_t pid)
{
	char *killer = wrapper_kill_script(rec), *probe, *q;

	q = sh_quote(killer);
	sh("sh -c %s 2>/dev/null", q);
	assert_int_equal(kill(pid, 0), 0);
	free(q);
	free(killer);
	probe = wrapper_probe_script(rec);
	q = sh_quote(probe);
	free(probe);
	return q;
}

/*
 * The kill at a timeout believes no record it cannot trust: an attempt
 * directory that is a link to a forged record (pgid of a group that is
 * not the task's) kills nothing, and neither does a record that is a
 * link; the probe says "none" or refuses, never the forged status.
 */
static void
test_kill_forged_record(void **state)
{
	char *qp, rec[128];
	pid_t pid;

	(void)state;
	pid = sleeping_group();
	assert_int_equal(sh("mkdir -p -m 700 %s/%s/h %s/forged && printf "
			    "'pgid %ld\\nstatus 0\\n' >%s/forged/record "
			    "&& ln -s %s/forged %s/%s/h/1-k-1 && mkdir -m "
			    "700 %s/%s/h/1-k-2 && ln -s %s/forged/record "
			    "%s/%s/h/1-k-2/record",
			     base, run, dir, (long)pid, dir, dir, base, run,
			     base, run, dir, base, run),
	    0);
	snprintf(rec, sizeof rec, "%s/h/1-k-1", run);
	qp = kill_spares(rec, pid);
	assert_int_not_equal(
	    sh("sh -c %s 2>/dev/null | grep -q status", qp), 0);
	free(qp);
	snprintf(rec, sizeof rec, "%s/h/1-k-2", run);
	qp = kill_spares(rec, pid);
	assert_int_equal(sh("sh -c %s 2>/dev/null | grep -qx none", qp), 0);
	free(qp);
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A wrapper told that this run checked its directories (so it uses
 * built-ins only) still refuses a link or another user's directory put
 * in their place since.
 */
static void
test_verified_link_and_owner(void **state)
{
	(void)state;
	hostile_mode("mkdir -p \"$R.real/h\" && ln -s \"$R.real\" \"$R\"",
	    "not a real directory (symbolic link)", 1);
	sh("rm -rf %s/%s.real %s/%s", base, run, base, run);
	hostile_mode("mkdir -p -m 700 \"$R/h\" && chown -R 65534 \"$R\"",
	    "owned by another user", 1);
}

/*
 * A record in a sound tree whose group id has been taken again (another
 * process now leads a group of that id: a wrong start time) or that comes
 * from before a reboot (a wrong boot id) names no live task: the probe
 * says dead and the kill kills nothing.
 */
static void
test_stale_group(void **state)
{
	char *killer, *probe, *qk, *qp, rec[128];
	char boot[64] = "", start[32] = "", line[256], fmt[128];
	FILE *fp;
	pid_t pid;
	size_t i;

	(void)state;
	pid = sleeping_group();
	fp = fopen("/proc/sys/kernel/random/boot_id", "r");
	assert_non_null(fp);
	assert_non_null(fgets(boot, sizeof boot, fp));
	boot[strcspn(boot, "\n")] = '\0';
	fclose(fp);
	snprintf(line, sizeof line, "/proc/%ld/stat", (long)pid);
	/* Its real start time, to show the good record is believed. */
	fp = fopen(line, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof line, fp));
	fclose(fp);
	{
		char *p = strrchr(line, ')') + 2;
		int f;

		for (f = 3; f < 22; f++)
			p = strchr(p, ' ') + 1;
		snprintf(start, sizeof start, "%.*s", (int)strcspn(p, " "), p);
	}
	for (i = 0; i < 3; i++) {
		snprintf(rec, sizeof rec, "%s/h/1-s-%zu", run, i);
		if (i == 0)
			snprintf(fmt, sizeof fmt,
			    "boot 00000000-0000-0000-0000-000000000000\\n"
			    "start %s\\n",
			    start);
		else if (i == 1)
			snprintf(fmt, sizeof fmt, "boot %s\\nstart 1\\n", boot);
		else
			snprintf(fmt, sizeof fmt, "boot %s\\nstart %s\\n", boot,
			    start);
		assert_int_equal(
		    sh("mkdir -p -m 700 %s/%s/h && mkdir -m 700 "
		       "%s/%s && printf 'pgid %ld\\n%s' "
		       ">%s/%s/record",
			base, run, base, rec, (long)pid, fmt, base, rec),
		    0);
		probe = wrapper_probe_script(rec);
		qp = sh_quote(probe);
		assert_int_equal(sh("sh -c %s 2>/dev/null | grep -qx %s", qp,
				     i < 2 ? "dead" : "running"),
		    0);
		if (i < 2) {
			killer = wrapper_kill_script(rec);
			qk = sh_quote(killer);
			sh("sh -c %s 2>/dev/null", qk);
			assert_int_equal(kill(pid, 0), 0);
			free(killer);
			free(qk);
		}
		free(probe);
		free(qp);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
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
		cmocka_unit_test_setup_teardown(
		    test_unsafe_link, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unsafe_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unsafe_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unsafe_not_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kill_forged_record, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_verified_link_and_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stale_group, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
