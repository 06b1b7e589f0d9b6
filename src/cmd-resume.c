/*
 * cmd-resume.c: hostswap resume — takes up the newest unfinished run of a
 * state file (SPEC §4). The plan must be the one the run was made from
 * (its SHA-256) unless --accept-plan-change; --inventory may replace the
 * inventory (same host names; addresses and logins may change). Expected
 * keys, the swap per host, captures and run.date come from the state file,
 * never from a known_hosts file. resume.c learns what happened while
 * hostswap was away.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "log.h"
#include "observe.h"
#include "plan.h"
#include "run-start.h"
#include "run.h"
#include "run-record.h"
#include "run-setup.h"
#include "store.h"
#include "xmalloc.h"

static int cmd_resume_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_resume_entry = { "resume",
	"[--state FILE] [--inventory FILE] [--listen ADDR:PORT] "
	"[--accept-plan-change] [--auto-approve] [--log-format text|json]",
	"resume the newest unfinished run",
	"  --state FILE            the state file (default ./hostswap.db)\n"
	"  --inventory FILE        replace the run's inventory (same host\n"
	"                          names; addresses and logins may change)\n"
	"  --listen ADDR:PORT      the status endpoint (default "
	"127.0.0.1:8470); a busy\n"
	"                          port refuses it (exit 69); none: no\n"
	"                          endpoint, decide with approve --state\n"
	"  --accept-plan-change    go on although the plan file changed\n"
	"  --auto-approve          approve every manual step (rehearsals)\n"
	"  --log-format text|json  one line per transition (default text)\n",
	cmd_resume_exec };

/* Whether the plan (and its own inventory) are still what the run had. */
static int
cmd_resume_same_plan(const struct store_run_info *ri,
    const struct daemon_hashes *h, int new_inventory)
{
	if (strcmp(ri->plan_sha256, h->plan) != 0)
		return 0;
	return new_inventory || strcmp(ri->inventory_sha256, h->inventory) == 0;
}

/* What the command line of `resume` says. */
struct cmd_resume_args {
	struct run_opts ro;
	const char *state, *inv, *listen;
	int accept;
	int help; /* --help was answered */
};

/* Parse resume's options into a; EXIT_OK, or EXIT_USAGE (said why). */
static int
cmd_resume_parse(const struct cmd_entry *self, int argc, char **argv,
    struct cmd_resume_args *a)
{
	static const struct option opts[] = { { "state", required_argument,
						  NULL, 's' },
		{ "inventory", required_argument, NULL, 'i' },
		{ "listen", required_argument, NULL, 'l' },
		{ "accept-plan-change", no_argument, NULL, 'C' },
		{ "auto-approve", no_argument, NULL, 'a' },
		{ "log-format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 } };
	int ch;

	memset(a, 0, sizeof *a);
	run_opts_init(&a->ro);
	a->ro.resume = 1;
	a->state = STORE_DEFAULT;
	a->listen = DAEMON_LISTEN;
	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			a->state = optarg;
			break;
		case 'i':
			a->inv = optarg;
			break;
		case 'l':
			a->listen = optarg;
			break;
		case 'C':
			a->accept = 1;
			break;
		case 'a':
			a->ro.auto_approve = 1;
			break;
		case 'f':
			if (cmd_log_format_arg(
				self, optarg, &a->ro.log_format) == -1)
				return EXIT_USAGE;
			break;
		case CMD_HELP:
			a->help = 1;
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 0)
		return cmd_usage_error(self, "too many arguments");
	return EXIT_OK;
}

/*
 * Hold the state file and read its newest run. Returns EXIT_OK with *st
 * set when there is an unfinished run to take up; EXIT_OK with *st NULL
 * when there is none (said so); or an error.
 */
static int
cmd_resume_open(const char *state, struct store **st, struct store_run_info *ri)
{
	int rc;

	*st = NULL;
	if (access(state, F_OK) == -1) {
		log_warnx("%s: no such state file", state);
		return EXIT_NOINPUT;
	}
	if ((rc = daemon_open_state(state, st)) != EXIT_OK)
		return rc;
	if (store_newest_run(*st, ri) != STORE_OK) {
		log_info("%s holds no run: nothing to resume", state);
		store_free(*st);
		*st = NULL;
		return EXIT_OK;
	}
	if (!store_run_unfinished(ri)) {
		log_info("run %d (%s) is %s: nothing to resume", ri->id,
		    ri->plan_path, ri->state);
		store_run_info_free(ri);
		store_free(*st);
		*st = NULL;
		return EXIT_OK;
	}
	return EXIT_OK;
}

/*
 * Load the run's plan (from where it was, else as given) with the
 * inventory the command line names, else the run's; hash both, and refuse
 * a changed plan unless --accept-plan-change. On EXIT_OK, *p and h are
 * set.
 */
static int
cmd_resume_plan(const struct cmd_resume_args *a,
    const struct store_run_info *ri, struct plan **p, struct daemon_hashes *h)
{
	const char *plan_path, *inv = a->inv;
	int rc;

	plan_path =
	    ri->plan_realpath != NULL && access(ri->plan_realpath, F_OK) == 0
	    ? ri->plan_realpath
	    : ri->plan_path;
	if (inv == NULL)
		inv = ri->inventory_path;
	if ((rc = cmd_load_plan(plan_path, inv, p)) != EXIT_OK)
		return rc;
	if (daemon_hashes(*p, h) == -1) {
		log_warn("cannot read %s or its inventory", (*p)->path);
		daemon_hashes_free(h);
		return EXIT_NOINPUT;
	}
	if (!cmd_resume_same_plan(ri, h, inv != ri->inventory_path)) {
		if (!a->accept) {
			log_warnx("%s: the plan %s (or its inventory) changed "
				  "since run %d was made (SHA-256 %.12s, now "
				  "%.12s): check the change, then resume "
				  "with --accept-plan-change",
			    a->state, plan_path, ri->id, ri->plan_sha256,
			    h->plan);
			daemon_hashes_free(h);
			return EXIT_REFUSED;
		}
		log_info("the plan changed since run %d was made: going on "
			 "with the new one (--accept-plan-change)",
		    ri->id);
	}
	return EXIT_OK;
}

/* hostswap resume */
static int
cmd_resume_exec(const struct cmd_entry *self, int argc, char **argv)
{
	struct cmd_resume_args a;
	struct daemon_listen dl;
	int rc;
	struct store_run_info ri;
	struct daemon_hashes h;
	struct store *st = NULL;
	struct plan *p = NULL;
	struct run *r = NULL;
	char *err = NULL;
	uv_loop_t loop;
	size_t i;

	memset(&ri, 0, sizeof ri);
	if ((rc = cmd_resume_parse(self, argc, argv, &a)) != EXIT_OK || a.help)
		return rc;
	if (daemon_parse_listen(a.listen, &dl, &err) == -1) {
		rc = cmd_usage_error(self, "%s", err);
		free(err);
		return rc;
	}
	log_init(a.ro.log_format, 0);
	if ((rc = cmd_resume_open(a.state, &st, &ri)) != EXIT_OK || st == NULL)
		return rc;
	if ((rc = cmd_resume_plan(&a, &ri, &p, &h)) != EXIT_OK)
		goto out;

	/* The endpoint's port before the run is taken up: a busy port
	 * leaves the run as it was. */
	if ((rc = daemon_listen_open(&dl)) != EXIT_OK) {
		daemon_hashes_free(&h);
		goto out;
	}
	uv_loop_init(&loop);
	if (run_new(&loop, p, &a.ro, &r, &err) == -1 ||
	    run_record_restore(st, r, &err) == -1) {
		/* A secret that cannot be resolved fails the run (as
		 * `run` does); a run the inventory does not fit is invalid. */
		rc = r == NULL ? EXIT_FAILED : EXIT_INVALID;
		log_warnx("%s", err);
		free(err);
		run_free(r);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		daemon_hashes_free(&h);
		daemon_listen_close(&dl);
		goto out;
	}
	run_setup(r, st, 0);
	store_run_plan(st, r->id, h.plan, h.inventory_path, h.inventory);
	daemon_hashes_free(&h);
	/* The inventory as it is now: a console fix may have moved a host. */
	for (i = 0; i < r->nhosts; i++)
		observe_host(&r->hosts[i]);
	store_run_info_free(&ri);
	rc = daemon_loop(r, 1, &dl);
	plan_free(p);
	return rc;
out:
	store_run_info_free(&ri);
	store_free(st);
	plan_free(p);
	return rc;
}
