/*
 * Unit tests of preflight-scan.c: the services a script names to the
 * commands that manage them (written as they are, never through a
 * variable), and that the scan of command words stays as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "buf.h"
#include "preflight-int.h"

/* preflight_scan callback: "a b c". */
static void
collect_cb(const char *w, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s%s", b->len > 0 ? " " : "", w);
}

/* The services (or the commands) a script names, space-separated. */
static char *
scanned(const char *script, int services)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "");
	if (services)
		preflight_scan_services(script, collect_cb, &b);
	else
		preflight_scan(script, collect_cb, &b);
	return buf_release(&b);
}

#define assert_scanned(script, services, want) \
	do { \
		char *got_ = scanned(script, services); \
		assert_string_equal(got_, (want)); \
		free(got_); \
	} while (0)

static void
finds_literal_services(void **state)
{
	(void)state;
	assert_scanned("service ssh reload\n", 1, "ssh");
	assert_scanned("sudo service qmail restart\n", 1, "qmail");
	assert_scanned("/etc/init.d/networking restart\n", 1, "networking");
	assert_scanned("invoke-rc.d --quiet bind stop\n", 1, "bind");
	assert_scanned("systemctl disable apache2.service\n", 1, "apache2");
	assert_scanned("systemctl --now enable a b.service\n", 1, "a b");
	assert_scanned("update-rc.d -f tcpserver remove\n", 1, "tcpserver");
	assert_scanned(
	    "insserv -rf openbsd-inetd\ninsserv -d qmail tcpserver\n", 1,
	    "openbsd-inetd qmail tcpserver");
	assert_scanned("insserv -p /etc/init.d bind\n", 1, "bind");
	assert_scanned(
	    "if service apache2 status; then service apache2 stop; fi\n", 1,
	    "apache2");
	assert_scanned("x=$(service php7.0-fpm reload)\n", 1, "php7.0-fpm");
}

static void
skips_what_is_chosen_at_run_time(void **state)
{
	(void)state;
	/* The swap plan's stop-services loop: names through a variable. */
	assert_scanned("for s in apache2 bind bind9; do\n"
		       "  if [ ! -e /etc/init.d/$s ]; then continue; fi\n"
		       "  service $s status || service $s stop\n"
		       "done\n",
	    1, "");
	assert_scanned("service \"$name\" restart\n", 1, "");
	assert_scanned("/etc/init.d/$s stop\n", 1, "");
	/* No action, options only, other unit types, other verbs. */
	assert_scanned("service ssh\n", 1, "");
	assert_scanned("service --status-all\n", 1, "");
	assert_scanned("systemctl restart ssh.socket\n", 1, "");
	assert_scanned("systemctl daemon-reload\n", 1, "");
	assert_scanned("systemctl list-units apache2\n", 1, "");
	/* Words that are not commands: text, comments, here-documents. */
	assert_scanned("echo service ssh reload\n# service bind stop\n", 1, "");
	assert_scanned("cat <<EOF\nservice ssh reload\nEOF\n", 1, "");
	/* Not a name: a path elsewhere, a glob, a dot first. */
	assert_scanned("/etc/init.d/sub/x start\n", 1, "");
	assert_scanned("service 'a*' start\nservice .x start\n", 1, "");
}

static void
commands_unchanged(void **state)
{
	(void)state;
	assert_scanned(
	    "service ssh reload\ninsserv -rf bind\n", 0, "service insserv");
	assert_scanned(
	    "/etc/init.d/networking restart\n", 0, "/etc/init.d/networking");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_literal_services),
		cmocka_unit_test(skips_what_is_chosen_at_run_time),
		cmocka_unit_test(commands_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
