/*
 * cmd-version.c: hostswap version — the program's and its libraries'.
 */
#include <getopt.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libssh/libssh.h>
#include <sqlite3.h>
#include <uv.h>
#include <yaml.h>

#include "cmd.h"
#include "exitcode.h"
#include "http.h"

static int cmd_version_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_version_entry = { "version", "",
	"print hostswap's version and its libraries'", NULL, cmd_version_exec };

/* hostswap version */
static int
cmd_version_exec(const struct cmd_entry *self, int argc, char **argv)
{
	int ch;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "+", NULL, NULL)) != -1)
		return ch == CMD_HELP ? EXIT_OK : EXIT_USAGE;
	if (optind < argc)
		return cmd_usage_error(self, "too many arguments");
	printf("hostswap %s\n", HOSTSWAP_VERSION);
	printf("libssh %s, libyaml %s, %s, sqlite %s, libuv %s, jansson %s, "
	       "%s\n",
	    ssh_version(0), yaml_get_version_string(), curl_version(),
	    sqlite3_libversion(), uv_version_string(), JANSSON_VERSION,
	    http_parser_name());
	return EXIT_OK;
}
