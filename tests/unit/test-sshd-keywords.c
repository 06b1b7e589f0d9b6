/*
 * Unit tests of sshd-keywords.c: the release each keyword (and value)
 * came with, the version a banner gives, and the reading of a script for
 * the keywords it writes.
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
#include "sshd-keywords.h"

/* The release of a keyword and value, or -1 for no keyword. */
static int
since(const char *name, const char *value)
{
	const struct sshd_keyword *kw = sshd_keyword_find(name, value);

	return kw != NULL ? kw->since : -1;
}

static void
table_knows_releases(void **state)
{
	(void)state;
	/* The values of PermitRootLogin: prohibit-password is 7.0's. */
	assert_int_equal(since("PermitRootLogin", "prohibit-password"), 700);
	assert_int_equal(
	    since("PermitRootLogin", "without-password"), SSHD_BASELINE);
	assert_int_equal(since("PermitRootLogin", "no"), SSHD_BASELINE);
	assert_int_equal(since("PermitRootLogin", NULL), SSHD_BASELINE);
	/* Keywords, from servconf.c at each release tag. */
	assert_int_equal(since("AuthenticationMethods", "publickey"), 602);
	assert_int_equal(since("SetEnv", "A=1"), 708);
	assert_int_equal(since("Include", "/etc/ssh/sshd_config.d/*"), 802);
	assert_int_equal(since("PubkeyAcceptedKeyTypes", "ssh-ed25519"), 608);
	assert_int_equal(since("PubkeyAcceptedAlgorithms", "ssh-ed25519"), 805);
	assert_int_equal(since("AllowStreamLocalForwarding", "no"), 607);
	assert_int_equal(since("AllowTcpForwarding", "local"), 602);
	assert_int_equal(since("AllowTcpForwarding", "yes"), SSHD_BASELINE);
	assert_int_equal(since("ChannelTimeout", "session=5m"), 902);
	/* sshd reads keywords and these values in any case. */
	assert_int_equal(since("permitrootlogin", "Prohibit-Password"), 700);
	assert_int_equal(since("SETENV", NULL), 708);
	/* Not sshd's. */
	assert_int_equal(since("StrictHostKeyChecking", "yes"), -1);
	assert_int_equal(since("Permit", NULL), -1);
}

static void
table_is_consistent(void **state)
{
	static const char *const names[] = { "Port", "HostKey", "Match",
		"ForceCommand", "ChrootDirectory", "KexAlgorithms",
		"AuthorizedKeysCommand", "HostKeyAlgorithms", "RDomain",
		"PermitListen", "ModuliFile", NULL };
	const char *const *n;
	const struct sshd_keyword *kw;

	(void)state;
	for (n = names; *n != NULL; n++) {
		kw = sshd_keyword_find(*n, NULL);
		assert_non_null(kw);
		assert_null(kw->value);
		assert_true(kw->since >= SSHD_BASELINE);
		assert_true(kw->since <= SSHD_VERSION(10, 99));
	}
	/* A value's release is never older than its keyword's. */
	assert_true(since("PermitRootLogin", "prohibit-password") >
	    since("PermitRootLogin", NULL));
}

static void
reads_banners(void **state)
{
	char v[32];

	(void)state;
	assert_int_equal(
	    sshd_version_of_banner("SSH-2.0-OpenSSH_6.7p1 Debian-5+deb8u8"),
	    607);
	assert_int_equal(sshd_version_of_banner("SSH-2.0-OpenSSH_9.2p1"), 902);
	assert_int_equal(sshd_version_of_banner("SSH-2.0-OpenSSH_6.6.1p1 "
						"Ubuntu-2ubuntu2"),
	    606);
	assert_int_equal(sshd_version_of_banner("SSH-2.0-OpenSSH_10.0"), 1000);
	assert_int_equal(
	    sshd_version_of_banner("SSH-2.0-OpenSSH_for_Windows_8.1"), 801);
	assert_int_equal(sshd_version_of_banner("SSH-1.99-OpenSSH_3.9p1"), 309);
	/* OpenSSH without a release that can be read. */
	assert_int_equal(sshd_version_of_banner("SSH-2.0-OpenSSH"), 0);
	assert_int_equal(sshd_version_of_banner("SSH-2.0-OpenSSH_x"), 0);
	assert_int_equal(sshd_version_of_banner("SSH-2.0-OpenSSH_7"), 0);
	/* Not OpenSSH. */
	assert_int_equal(
	    sshd_version_of_banner("SSH-2.0-dropbear_2022.83"), -1);
	assert_int_equal(sshd_version_of_banner("SSH-2.0-libssh_0.10.6"), -1);
	assert_int_equal(sshd_version_of_banner("OpenSSH_6.7"), -1);
	assert_int_equal(sshd_version_of_banner(""), -1);
	assert_int_equal(sshd_version_of_banner(NULL), -1);
	sshd_version_string(607, v, sizeof v);
	assert_string_equal(v, "6.7");
	sshd_version_string(SSHD_BASELINE, v, sizeof v);
	assert_string_equal(v, "3.0 or earlier");
}

/* sshd_keywords_scan() callback: "Keyword value@since" lines. */
static void
collect_cb(const struct sshd_keyword *kw, const char *value, void *arg)
{
	buf_printf(arg, "%s%s %s@%d", ((struct buf *)arg)->len > 0 ? "|" : "",
	    kw->name, value, kw->since);
}

/* What a scan of a text finds, as "Keyword value@since|...". */
static char *
scan(const char *text)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "");
	sshd_keywords_scan(text, collect_cb, &b);
	return buf_release(&b);
}

/* Check a scan's result. */
#define assert_scan(text, want) \
	do { \
		char *got_ = scan(text); \
		assert_string_equal(got_, (want)); \
		free(got_); \
	} while (0)

static void
scans_written_keywords(void **state)
{
	(void)state;
	/* A line of the file, any case, with '=' or a blank. */
	assert_scan("PermitRootLogin prohibit-password\n",
	    "PermitRootLogin prohibit-password@700");
	assert_scan("  permitrootlogin=without-password\n",
	    "PermitRootLogin without-password@300");
	/* Inside quotes, a sed replacement, an echo to the file. */
	assert_scan("sed -i 's/^#*PermitRootLogin.*/PermitRootLogin "
		    "prohibit-password/' /etc/ssh/sshd_config\n",
	    "PermitRootLogin prohibit-password@700");
	assert_scan("echo \"SetEnv LANG=C\" >>/etc/ssh/sshd_config\n",
	    "SetEnv LANG=C@708");
	assert_scan("printf '%s\\n' 'Include /etc/ssh/sshd_config.d/*.conf'\n",
	    "Include /etc/ssh/sshd_config.d/*.conf@802");
	/* Several lines, several keywords. */
	assert_scan("cat >>/etc/ssh/sshd_config <<EOF\nPort 22\n"
		    "AuthenticationMethods publickey\nEOF\n",
	    "Port 22@300|AuthenticationMethods publickey@602");
}

static void
skips_what_is_not_written(void **state)
{
	(void)state;
	/* A comment line. */
	assert_scan("# PermitRootLogin prohibit-password is 7.0's\n", "");
	assert_scan("\t#SetEnv A=1\n", "");
	/* A value made by an expansion, or none. */
	assert_scan("echo \"PermitRootLogin $1\" >>\"$f\"\n", "");
	assert_scan(
	    "sed 's/^PermitRootLogin .*/PermitRootLogin '\"$v\"'/'\n", "");
	assert_scan("grep -q \"^PermitRootLogin ${value}\\$\" \"$f\"\n", "");
	assert_scan("echo PermitRootLogin\n", "");
	/* A word that only contains a keyword. */
	assert_scan("sshd -T | grep -qi '^permitrootlogin no$'\n", "");
	assert_scan("MySetEnv x\n", "");
	/* ssh's own -o options; sshd's -o are read. */
	assert_scan(
	    "ssh -o SetEnv=A=1 -o StrictHostKeyChecking=yes host\n", "");
	assert_scan("sshd -t -o PermitRootLogin=prohibit-password\n",
	    "PermitRootLogin prohibit-password@700");
}

static void
reads_functions_that_write_their_argument(void **state)
{
	(void)state;
	/* The swap plan's way: a function writes PermitRootLogin "$1". */
	assert_scan("sshd_root_login() {\n"
		    "  f=/etc/ssh/sshd_config\n"
		    "  sed 's/^#*PermitRootLogin.*/PermitRootLogin '\"$1\"'/' "
		    "\"$f\" >\"$f.new\"\n"
		    "  grep -q \"^PermitRootLogin $1\\$\" \"$f.new\" ||\n"
		    "    echo \"PermitRootLogin $1\" >>\"$f.new\"\n"
		    "}\n"
		    "sshd_root_login prohibit-password\n"
		    "sshd_root_login no\n",
	    "PermitRootLogin prohibit-password@700|PermitRootLogin no@300");
	/* One line, `function NAME`, ${1}. */
	assert_scan("function env_set { echo \"SetEnv ${1}\" >>sshd_config; }\n"
		    "env_set LANG=C\n",
	    "SetEnv LANG=C@708");
	/* Called with a value made by an expansion, or no value. */
	assert_scan("f() { echo \"PermitRootLogin $1\"; }\nf \"$v\"\nf\n", "");
	/* A function that writes something else with its argument. */
	assert_scan("backup() { cp -p \"$1\" \"$1.bak\"; }\n"
		    "backup /etc/ssh/sshd_config\n",
	    "");
}

static void
knows_when_sshd_is_named(void **state)
{
	(void)state;
	assert_true(sshd_keywords_mentioned("f=/etc/ssh/sshd_config\n"));
	assert_true(sshd_keywords_mentioned("SSHD -t"));
	assert_false(sshd_keywords_mentioned("SetEnv HTTPS on\n"));
	assert_false(sshd_keywords_mentioned(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_knows_releases),
		cmocka_unit_test(table_is_consistent),
		cmocka_unit_test(reads_banners),
		cmocka_unit_test(scans_written_keywords),
		cmocka_unit_test(skips_what_is_not_written),
		cmocka_unit_test(reads_functions_that_write_their_argument),
		cmocka_unit_test(knows_when_sshd_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
