/*
 * cmd-run.c: hostswap run PLAN — the daemon. Loads and validates the plan,
 * makes preflight's checks (unless --no-preflight), creates the run
 * (expected host keys fixed now), runs its phases on one libuv loop, and
 * exits with the status of SPEC §5.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "buf.h"
#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "hostkey.h"
#include "log.h"
#include "plan.h"
#include "preflight.h"
#include "run-start.h"
#include "run.h"
#include "run-record.h"
#include "run-setup.h"
#include "store.h"
#include "xmalloc.h"

static int cmd_run_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_run_entry = { "run",
	"PLAN [--inventory FILE] [--state FILE] [--listen ADDR:PORT] "
	"[--from-phase N] [--to-phase N] [--dry-run] [--auto-approve] "
	"[--known-hosts FILE] [--accept-new-host-keys] [--abandon-unfinished] "
	"[--assume-swapped | --assume-not-swapped] [--no-preflight] "
	"[--log-format text|json]",
	"run a plan: every step of a phase in parallel, phase after phase",
	"  --inventory FILE        use this inventory instead of the plan's\n"
	"  --state FILE            the state file (default ./hostswap.db)\n"
	"  --listen ADDR:PORT      the status endpoint (default "
	"127.0.0.1:8470); a busy\n"
	"                          port refuses the run (exit 69); none: no\n"
	"                          endpoint, decide with approve --state\n"
	"  --from-phase N          start at phase N (earlier ones skipped)\n"
	"  --to-phase N            stop after phase N\n"
	"  --dry-run               print what would run; connect nowhere\n"
	"  --auto-approve          approve every manual step (rehearsals)\n"
	"  --known-hosts FILE      where expected keys come from (default\n"
	"                          ~/.ssh/known_hosts) when not pinned\n"
	"  --accept-new-host-keys  trust a host's first key (recorded)\n"
	"  --abandon-unfinished    start anew despite an unfinished run\n"
	"  --assume-swapped        with --from-phase past the swap: it "
	"happened\n"
	"  --assume-not-swapped    with --from-phase past the swap: it did "
	"not\n"
	"  --no-preflight          skip preflight's checks, made before the\n"
	"                          run is created (a FAIL stops it, exit 1)\n"
	"  --log-format text|json  one line per transition (default text)\n",
	cmd_run_exec };

/*
 * The state file's newest run must be finished, or abandoned on purpose:
 * EXIT_OK (with *abandon_id set to the run to abandon once preflight has
 * passed, or 0), or EXIT_REFUSED with the reason printed.
 */
static int
cmd_run_check_unfinished(struct store *st, int abandon, int *abandon_id)
{
	struct store_run_info ri;

	*abandon_id = 0;
	if (store_newest_run(st, &ri) != STORE_OK)
		return EXIT_OK;
	if (!store_run_unfinished(&ri)) {
		store_run_info_free(&ri);
		return EXIT_OK;
	}
	if (!abandon) {
		log_warnx("%s: run %d (plan %s, uid %s) is %s and unfinished: "
			  "take it up with 'hostswap resume --state %s', or "
			  "start anew with --abandon-unfinished",
		    store_path(st), ri.id, ri.plan_path, ri.uid, ri.state,
		    store_path(st));
		store_run_info_free(&ri);
		return EXIT_REFUSED;
	}
	*abandon_id = ri.id;
	store_run_info_free(&ri);
	return EXIT_OK;
}

/* The full keys preflight saw for machines pinned by fingerprint. */
struct cmd_run_keys {
	char **names;
	struct hostkey *keys;
	size_t n;
};

/* preflight: a fingerprint pin matched; the run keeps the full key. */
static void
cmd_run_key_seen(void *arg, const char *name, const struct hostkey *k)
{
	struct cmd_run_keys *ks = arg;

	ks->names = xreallocarray(ks->names, ks->n + 1, sizeof *ks->names);
	ks->keys = xreallocarray(ks->keys, ks->n + 1, sizeof *ks->keys);
	ks->names[ks->n] = xstrdup(name);
	hostkey_copy(&ks->keys[ks->n], k);
	ks->n++;
}

/* Give the new run the keys preflight completed, then forget them. */
static void
cmd_run_keys_apply(struct cmd_run_keys *ks, struct run *r)
{
	struct run_host *rh;
	size_t i;

	for (i = 0; i < ks->n; i++) {
		if (r != NULL && (rh = run_host(r, ks->names[i])) != NULL)
			run_complete_key(rh, &ks->keys[i]);
		free(ks->names[i]);
		hostkey_clear(&ks->keys[i]);
	}
	free(ks->names);
	free(ks->keys);
	memset(ks, 0, sizeof *ks);
}

/*
 * preflight's checks, with the run's options, on the run's loop before
 * the run exists: EXIT_OK, or EXIT_FAILED when a check failed (the state
 * file then holds no new run, so the operator fixes and runs again). The
 * full keys of fingerprint pins it saw go to ks.
 */
static int
cmd_run_preflight(const struct plan *p, const struct run_opts *ro,
    int assume_swapped, uv_loop_t *loop, struct cmd_run_keys *ks)
{
	struct preflight_opts po;

	memset(&po, 0, sizeof po);
	po.known_hosts = ro->known_hosts;
	po.accept_new = ro->accept_new;
	po.from_phase = ro->from_phase;
	po.to_phase = ro->to_phase;
	po.swapped = assume_swapped && p->has_swap;
	po.key_seen = cmd_run_key_seen;
	po.key_arg = ks;
	if (cmd_preflight_checks(
		p, &po, loop, stderr, "preflight: ", ro->log_format) == 0)
		return EXIT_OK;
	log_warnx("preflight failed: nothing was started; fix what FAILs "
		  "and run again (--no-preflight skips the checks)");
	return EXIT_FAILED;
}

/* Parse a phase number: digits only (an empty value names no phase). */
static int
cmd_run_phase_arg(
    const struct cmd_entry *self, const char *opt, const char *arg, int *out)
{
	char *end;
	long v;

	if (arg[0] == '\0') {
		cmd_usage_error(
		    self, "%s needs a phase id, not an empty value", opt);
		return -1;
	}
	errno = 0;
	v = strtol(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || errno != 0 || *end != '\0' ||
	    v > INT_MAX) {
		cmd_usage_error(
		    self, "%s takes a phase id, not '%s'", opt, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * A --from-phase or --to-phase must name a phase of the plan: a range
 * that names none would run nothing and look like success. The error
 * lists the phases there are.
 */
static int
cmd_run_phase_exists(
    const struct cmd_entry *self, const struct plan *p, const char *opt, int id)
{
	struct buf ids;
	size_t i;
	int rc;

	if (id < 0 || plan_phase(p, id) != NULL)
		return EXIT_OK;
	buf_init(&ids);
	for (i = 0; i < p->nphases; i++)
		buf_printf(&ids, "%s%d", i > 0 ? ", " : "", p->phases[i].id);
	rc = cmd_usage_error(self,
	    "%s %d: %s has no such phase (its phases: %s)", opt, id, p->path,
	    ids.data != NULL ? ids.data : "none");
	buf_free(&ids);
	return rc;
}

/* What the command line of `run` says. */
struct cmd_run_args {
	struct run_opts ro;
	const char *plan, *inv, *known_arg, *state, *listen;
	int assume_swapped, assume_not, abandon, no_preflight;
	int help; /* --help was answered */
};

/* Parse run's options into a; EXIT_OK, or EXIT_USAGE (said why). */
static int
cmd_run_parse(
    const struct cmd_entry *self, int argc, char **argv, struct cmd_run_args *a)
{
	static const struct option opts[] = { { "inventory", required_argument,
						  NULL, 'i' },
		{ "state", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "from-phase", required_argument, NULL, 'F' },
		{ "to-phase", required_argument, NULL, 'T' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "auto-approve", no_argument, NULL, 'a' },
		{ "known-hosts", required_argument, NULL, 'k' },
		{ "accept-new-host-keys", no_argument, NULL, 'A' },
		{ "abandon-unfinished", no_argument, NULL, 'U' },
		{ "assume-swapped", no_argument, NULL, 'S' },
		{ "assume-not-swapped", no_argument, NULL, 'N' },
		{ "no-preflight", no_argument, NULL, 'P' },
		{ "log-format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 } };
	struct run_opts *ro = &a->ro;
	int ch, rc = EXIT_OK;

	memset(a, 0, sizeof *a);
	run_opts_init(ro);
	a->state = STORE_DEFAULT;
	a->listen = DAEMON_LISTEN;
	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			a->inv = optarg;
			break;
		case 's':
			a->state = optarg;
			break;
		case 'U':
			a->abandon = 1;
			break;
		case 'l':
			a->listen = optarg;
			break;
		case 'P':
			a->no_preflight = 1;
			break;
		case 'F':
			if (cmd_run_phase_arg(self, "--from-phase", optarg,
				&ro->from_phase) == -1)
				rc = EXIT_USAGE;
			break;
		case 'T':
			if (cmd_run_phase_arg(self, "--to-phase", optarg,
				&ro->to_phase) == -1)
				rc = EXIT_USAGE;
			break;
		case 'n':
			ro->dry_run = 1;
			break;
		case 'a':
			ro->auto_approve = 1;
			break;
		case 'k':
			a->known_arg = optarg;
			break;
		case 'A':
			ro->accept_new = 1;
			break;
		case 'S':
			a->assume_swapped = 1;
			break;
		case 'N':
			a->assume_not = 1;
			break;
		case 'f':
			if (cmd_log_format_arg(self, optarg, &ro->log_format) ==
			    -1)
				rc = EXIT_USAGE;
			break;
		case CMD_HELP:
			a->help = 1;
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
		if (rc != EXIT_OK)
			return rc;
	}
	if (argc - optind != 1)
		return cmd_usage_error(self,
		    argc - optind == 0 ? "missing PLAN" : "too many arguments");
	a->plan = argv[optind];
	if (a->assume_swapped && a->assume_not)
		return cmd_usage_error(self,
		    "--assume-swapped and "
		    "--assume-not-swapped exclude each other");
	if (ro->from_phase >= 0 && ro->to_phase >= 0 &&
	    ro->to_phase < ro->from_phase)
		return cmd_usage_error(self,
		    "--to-phase %d is before "
		    "--from-phase %d",
		    ro->to_phase, ro->from_phase);
	return EXIT_OK;
}

/* The phases the command line names, against the plan's. */
static int
cmd_run_check_range(const struct cmd_entry *self, const struct plan *p,
    const struct cmd_run_args *a)
{
	int rc;

	if ((rc = cmd_run_phase_exists(
		 self, p, "--from-phase", a->ro.from_phase)) != EXIT_OK ||
	    (rc = cmd_run_phase_exists(
		 self, p, "--to-phase", a->ro.to_phase)) != EXIT_OK)
		return rc;
	if (p->has_swap && a->ro.from_phase > p->swap_after_phase &&
	    !a->assume_swapped && !a->assume_not) {
		log_warnx("--from-phase %d starts after the swap (phase %d): "
			  "say whether it happened with --assume-swapped or "
			  "--assume-not-swapped",
		    a->ro.from_phase, p->swap_after_phase);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * Record the new run, with everything it starts with, in the state file
 * before anything connects anywhere; then carry it to its end. The
 * daemon frees the run and the state file and closes the loop; h is
 * freed here.
 */
static int
cmd_run_go(struct run *r, const struct cmd_run_args *a, struct store *st,
    int abandon_id, struct daemon_hashes *h, struct cmd_run_keys *ks,
    struct daemon_listen *dl)
{
#ifdef HOSTSWAP_TEST_HOOKS
	/* Test builds: bench/engine.sh prices the state file by running
	 * the same plan without one. */
	if (getenv("HOSTSWAP_BENCH_NO_STATE") != NULL) {
		store_free(st);
		st = NULL;
	}
#endif
	run_setup(r, st, a->assume_swapped);
	r->started_ms = run_now_ms();
	if (st != NULL) {
		/* One transaction: the old run is abandoned only if the new
		 * one is created (a failure before leaves it resumable). */
		if (abandon_id > 0) {
			log_info("abandoning unfinished run %d", abandon_id);
			store_run_abandon(st, abandon_id);
		}
		run_record_create(st, r, h->plan, h->inventory_path,
		    h->inventory, h->inventory_text);
	}
	/* Keys preflight completed are the run's, committed before any
	 * session of the run connects. */
	cmd_run_keys_apply(ks, r);
	if (st != NULL)
		store_commit(st);
	daemon_hashes_free(h);
	return daemon_loop(r, 0, dl);
}

/* hostswap run */
static int
cmd_run_exec(const struct cmd_entry *self, int argc, char **argv)
{
	struct cmd_run_args a;
	struct daemon_listen dl;
	char *known = NULL, *err = NULL;
	int rc, abandon_id = 0, hashed = 0, looping = 0;
	struct plan *p = NULL;
	struct run *r = NULL;
	struct store *st = NULL;
	struct daemon_hashes h;
	struct cmd_run_keys ks;
	uv_loop_t loop;

	memset(&ks, 0, sizeof ks);
	dl.fd = -1;
	if ((rc = cmd_run_parse(self, argc, argv, &a)) != EXIT_OK || a.help)
		goto out;
	if (daemon_parse_listen(a.listen, &dl, &err) == -1) {
		rc = cmd_usage_error(self, "%s", err);
		free(err);
		goto out;
	}
	log_init(a.ro.log_format, 0);
	if ((rc = cmd_load_plan(a.plan, a.inv, &p)) != EXIT_OK ||
	    (rc = cmd_run_check_range(self, p, &a)) != EXIT_OK)
		goto out;
	if (a.ro.dry_run) {
		printf("dry run: nothing connects anywhere\n");
		rc = show_plan_text(
			 p, stdout, a.ro.from_phase, a.ro.to_phase) == 0
		    ? EXIT_OK
		    : EXIT_SOFTWARE;
		goto out;
	}
	known = cmd_known_hosts_path(a.known_arg);
	a.ro.known_hosts = known;

	hashed = 1;
	if (daemon_hashes(p, &h) == -1) {
		log_warn("cannot read %s or its inventory", p->path);
		rc = EXIT_NOINPUT;
		goto out;
	}
	if ((rc = daemon_open_state(a.state, &st)) != EXIT_OK ||
	    (rc = cmd_run_check_unfinished(st, a.abandon, &abandon_id)) !=
		EXIT_OK)
		goto out;

	/* The endpoint's port before the run exists (and before preflight
	 * takes its time): a busy port leaves nothing to resume. */
	if ((rc = daemon_listen_open(&dl)) != EXIT_OK)
		goto out;
	uv_loop_init(&loop);
	looping = 1;
	/* Before the run exists: a failed preflight leaves the state file
	 * as it was (an unfinished run still unfinished). */
	if (!a.no_preflight &&
	    (rc = cmd_run_preflight(p, &a.ro, a.assume_swapped, &loop, &ks)) !=
		EXIT_OK)
		goto out;
	if (run_new(&loop, p, &a.ro, &r, &err) == -1) {
		log_warnx("%s", err);
		free(err);
		uv_loop_close(&loop);
		looping = 0;
		rc = EXIT_FAILED;
		goto out;
	}
	rc = cmd_run_go(r, &a, st, abandon_id, &h, &ks, &dl);
	st = NULL;
	hashed = 0;
	looping = 0;
out:
	cmd_run_keys_apply(&ks, NULL);
	daemon_listen_close(&dl);
	store_discard(st); /* no run created: a file made for it goes */
	if (hashed)
		daemon_hashes_free(&h);
	plan_free(p);
	free(known);
	if (looping) {
		/* The preflight's handles close. */
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
	}
	return rc;
}
