/*
 * cmd-control.c: hostswap approve / reject PHASE/STEP [--host H] and
 * hostswap abort — decisions sent to the running daemon's endpoint with
 * its bearer token (client.c finds both). No daemon: exit 69.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "client.h"
#include "cmd.h"
#include "control-state.h"
#include "exitcode.h"
#include "store.h"

static int cmd_control_exec(const struct cmd_entry *, int, char **);

#define CMD_CONTROL_HELP \
	"  --host H      the task's host (default local: manual steps run\n" \
	"                on the controller)\n" \
	"  --url URL     the daemon's endpoint (token in HOSTSWAP_TOKEN)\n" \
	"  --state FILE  find the endpoint and token from this state file\n" \
	"                (default ./hostswap.db)\n"

const struct cmd_entry cmd_approve_entry = { "approve",
	"PHASE/STEP [--host H] [--url URL] [--state FILE]",
	"approve a waiting manual step", CMD_CONTROL_HELP, cmd_control_exec };
const struct cmd_entry cmd_reject_entry = { "reject",
	"PHASE/STEP [--host H] [--url URL] [--state FILE]",
	"reject a waiting manual step (the run fails)", CMD_CONTROL_HELP,
	cmd_control_exec };
const struct cmd_entry cmd_abort_entry = { "abort",
	"[--url URL] [--state FILE]",
	"stop the run after its running tasks end",
	"  --url URL     the daemon's endpoint (token in HOSTSWAP_TOKEN)\n"
	"  --state FILE  find the endpoint and token from this state file\n",
	cmd_control_exec };

/*
 * Who decides, for the audit trail: the login behind sudo if any, the
 * controller's name, and the command.
 */
static void
cmd_control_by(const struct cmd_entry *self, char *out, size_t len)
{
	const struct passwd *pw;
	const char *user = getenv("SUDO_USER");
	char host[256];

	if (user == NULL || *user == '\0')
		user = getenv("USER");
	if ((user == NULL || *user == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if (gethostname(host, sizeof host) == -1)
		strcpy(host, "?");
	host[sizeof host - 1] = '\0';
	snprintf(out, len, "%s@%s (hostswap %s)", user ? user : "?", host,
	    self->name);
}

/* hostswap approve | reject | abort */
static int
cmd_control_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "url", required_argument, NULL, 'u' },
		{ "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
	};
	const char *state = STORE_DEFAULT, *url = NULL, *host = "local";
	int abort_ = self == &cmd_abort_entry, ch, rc, phase = 0;
	char *step = NULL, *body = NULL, by[512];
	struct client c;
	struct buf out;
	long status;
	json_t *o;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (abort_)
				return cmd_usage_error(
				    self, "abort takes no --host");
			host = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != (abort_ ? 0 : 1))
		return cmd_usage_error(
		    self, abort_ ? "too many arguments" : "needs PHASE/STEP");
	if (!abort_) {
		if (cmd_parse_task(self, argv[optind], &phase, &step) == -1)
			return EXIT_USAGE;
		cmd_control_by(self, by, sizeof by);
		o = json_pack("{s:i, s:s, s:s, s:s}", "phase", phase, "step",
		    step, "host", host, "by", by);
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	/* A daemon without an endpoint (--listen none) takes decisions
	 * through its state file. */
	if (url == NULL) {
		cmd_control_by(self, by, sizeof by);
		if ((rc = control_state_decide(self->name, state,
			 abort_ ? NULL : argv[optind], phase, step, host,
			 by)) != -1) {
			free(step);
			free(body);
			return rc;
		}
	}
	if ((rc = client_open(url, state, &c)) != EXIT_OK) {
		free(step);
		free(body);
		return rc;
	}
	buf_init(&out);
	rc = client_request(&c, "POST",
	    abort_                           ? "api/v1/abort"
		: self == &cmd_approve_entry ? "api/v1/approve"
					     : "api/v1/reject",
	    abort_ ? "{}" : body, &out, &status);
	if (rc == EXIT_OK && status != 200) {
		o = json_loads(out.data ? out.data : "", 0, NULL);
		fprintf(stderr, "hostswap %s: the daemon answered %ld: %s\n",
		    self->name, status,
		    json_string_value(json_object_get(o, "error"))
			? json_string_value(json_object_get(o, "error"))
			: "no reason given");
		json_decref(o);
		rc = status == 401 ? EXIT_REFUSED : EXIT_FAILED;
	} else if (rc == EXIT_OK)
		printf("%s%s%s: %s\n", abort_ ? "" : argv[optind],
		    abort_ ? "" : " ", abort_ ? "abort" : self->name,
		    abort_ ? "the run stops once its running tasks end"
			   : "done");
	buf_free(&out);
	client_close(&c);
	free(step);
	free(body);
	return rc;
}
