/*
 * cmd-known-hosts.c: hostswap known-hosts — known_hosts lines for every
 * host of the newest run with the key its address answers with now: after
 * the swap, the other machine's. This is the fix for the seed's incident
 * (`Host key verification failed` after the swap), made from what the run
 * verified, never by turning checking off.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "hostkey.h"
#include "store.h"

static int cmd_known_hosts_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_known_hosts_entry = { "known-hosts",
	"[--state FILE]", "print known_hosts lines for every name as of now",
	"  --state FILE  the state file (default ./hostswap.db)\n",
	cmd_known_hosts_exec };

struct cmd_known_hosts {
	int missing;
};

/* One host: its line, or a note on stderr when no key is known. */
static void
cmd_known_hosts_cb(
    void *arg, const char *name, const char *address, int port, const char *key)
{
	struct cmd_known_hosts *k = arg;
	char *n;

	if (key == NULL) {
		fprintf(stderr, "hostswap: %s (%s:%d): no key known yet\n",
		    name, address, port);
		k->missing++;
		return;
	}
	if (strncmp(key, "SHA256:", 7) == 0) {
		/* A pinned fingerprint no connection has presented yet. */
		fprintf(stderr,
		    "hostswap: %s (%s:%d): only the pinned fingerprint %s is "
		    "known yet: the key line comes with the first connection "
		    "that presents it\n",
		    name, address, port, key);
		k->missing++;
		return;
	}
	n = hostkey_known_hosts_name(address, port);
	printf("%s %s\n", n, key);
	free(n);
}

/* hostswap known-hosts */
static int
cmd_known_hosts_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
	};
	const char *state = STORE_DEFAULT;
	struct cmd_known_hosts k = { 0 };
	struct store_run_info ri;
	struct store *st;
	int ch, rc;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 0)
		return cmd_usage_error(self, "too many arguments");
	if ((rc = cmd_open_state(state, &st, &ri)) != EXIT_OK)
		return rc;
	store_known_hosts(st, ri.id, cmd_known_hosts_cb, &k);
	store_run_info_free(&ri);
	store_free(st);
	return EXIT_OK;
}
