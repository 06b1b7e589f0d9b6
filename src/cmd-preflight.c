/*
 * cmd-preflight.c: hostswap preflight PLAN — every check of preflight.c,
 * one line per host and check on stdout (`HOST CHECK PASS|WARN|FAIL
 * reason`), a summary on stderr; exit 0 when nothing failed, 1 when
 * something did. Changes nothing anywhere.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cmd.h"
#include "exitcode.h"
#include "log.h"
#include "plan.h"
#include "preflight.h"
#include "xmalloc.h"

static int cmd_preflight_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_preflight_entry = { "preflight",
	"PLAN [--inventory FILE] [--known-hosts FILE] [--accept-new-host-keys]",
	"check every host before the night; changes nothing",
	"  --inventory FILE        use this inventory instead of the plan's\n"
	"  --known-hosts FILE      where expected keys come from (default\n"
	"                          ~/.ssh/known_hosts) when not pinned\n"
	"  --accept-new-host-keys  an unknown host key is a warning, as `run`\n"
	"                          would trust it on first use\n"
	"\n"
	"Prints HOST CHECK PASS|WARN|FAIL reason, a line per host and check\n"
	"(controller checks under `local`); exits 1 when any check fails.\n",
	cmd_preflight_exec };

/*
 * Make the checks of a loaded plan on a loop of its own and print them.
 * Returns the number of failures.
 */
int
cmd_preflight_checks(const struct plan *p, const struct preflight_opts *po,
    uv_loop_t *loop, FILE *fp, const char *prefix, enum log_format format)
{
	struct preflight *pf;
	int failures;

	/* A host or sh that hangs up must cost a failed write only. */
	signal(SIGPIPE, SIG_IGN);
	pf = preflight_new(loop, p, po);
	preflight_start(pf);
	uv_run(loop, UV_RUN_DEFAULT);
	preflight_print(pf, fp, prefix, format);
	failures = preflight_count(pf, PREFLIGHT_FAIL);
	log_info("preflight: %d passed, %d warning%s, %d failure%s",
	    preflight_count(pf, PREFLIGHT_PASS),
	    preflight_count(pf, PREFLIGHT_WARN),
	    preflight_count(pf, PREFLIGHT_WARN) == 1 ? "" : "s", failures,
	    failures == 1 ? "" : "s");
	preflight_free(pf);
	return failures;
}

/* hostswap preflight */
static int
cmd_preflight_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = { { "inventory", required_argument,
						  NULL, 'i' },
		{ "known-hosts", required_argument, NULL, 'k' },
		{ "accept-new-host-keys", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 } };
	struct preflight_opts po;
	const char *inv = NULL, *known_arg = NULL;
	char *known;
	struct plan *p = NULL;
	uv_loop_t loop;
	int ch, rc;

	memset(&po, 0, sizeof po);
	po.from_phase = po.to_phase = -1;
	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			inv = optarg;
			break;
		case 'k':
			known_arg = optarg;
			break;
		case 'A':
			po.accept_new = 1;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(self,
		    argc - optind == 0 ? "missing PLAN" : "too many arguments");
	if ((rc = cmd_load_plan(argv[optind], inv, &p)) != EXIT_OK)
		return rc;
	known = cmd_known_hosts_path(known_arg);
	po.known_hosts = known;
	uv_loop_init(&loop);
	rc = cmd_preflight_checks(p, &po, &loop, stdout, "", LOG_TEXT) > 0
	    ? EXIT_FAILED
	    : EXIT_OK;
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		log_warnx("internal: the event loop still had live handles");
	plan_free(p);
	free(known);
	return rc;
}
