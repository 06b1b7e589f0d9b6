/*
 * daemon.c: what `run` and `resume` share. The state file is opened as its
 * one writer (a second daemon is refused, naming the holder's pid), the
 * plan and inventory are hashed so that a resume notices a change, and
 * daemon_loop() carries a run on the libuv loop to its end, commits the
 * last transitions, lets the notifications about the end go, and checks
 * that no handle is left behind.
 *
 * The endpoint's port is bound before the run is created
 * (daemon_listen_open): a port another program holds refuses the run
 * (exit 69) with nothing written, rather than a night that goes on
 * without its endpoint and ends `waiting` at the first manual step. With
 * `--listen none` there is no endpoint at all, and manual steps are
 * decided through the state file (inbox.c).
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include <arpa/inet.h>

#include "api.h"
#include "buf.h"
#include "daemon.h"
#include "exitcode.h"
#include "inbox.h"
#include "log.h"
#include "notify.h"
#include "plan.h"
#include "run-start.h"
#include "run.h"
#include "store.h"
#include "xmalloc.h"

/*
 * Open the state file for writing and hold it. Returns EXIT_OK, or
 * EXIT_REFUSED with the reason printed (another daemon holds it, or it
 * is not a usable state file).
 */
int
daemon_open_state(const char *path, struct store **out)
{
	struct store *st;
	char *err = NULL;
	int rc;

	*out = NULL;
	if (store_open(path, STORE_WRITE, &st, &err) != STORE_OK) {
		log_warnx("%s", err);
		free(err);
		return EXIT_REFUSED;
	}
	if ((rc = store_lock(st, &err)) != STORE_OK) {
		log_warnx("%s", err);
		free(err);
		store_free(st);
		return EXIT_REFUSED;
	}
	*out = st;
	return EXIT_OK;
}

/* The hashes a run records of its plan and inventory. -1: unreadable. */
int
daemon_hashes(const struct plan *p, struct daemon_hashes *h)
{
	memset(h, 0, sizeof *h);
	if (digest_file(p->path, h->plan) == -1)
		return -1;
	if (p->inv->inline_ || p->inv->path == NULL) {
		memcpy(h->inventory, h->plan, sizeof h->inventory);
		return 0;
	}
	h->inventory_path = realpath(p->inv->path, NULL);
	if (h->inventory_path == NULL)
		h->inventory_path = xstrdup(p->inv->path);
	if ((h->inventory_text = buf_read_file(p->inv->path)) == NULL)
		return -1;
	digest_data(h->inventory_text, strlen(h->inventory_text), h->inventory);
	return 0;
}

/* Free what daemon_hashes() allocated. */
void
daemon_hashes_free(struct daemon_hashes *h)
{
	free(h->inventory_path);
	free(h->inventory_text);
}

/*
 * Parse --listen ADDR:PORT ([ADDR]:PORT for IPv6; localhost is
 * 127.0.0.1), or `none` (no endpoint). Only a loopback address
 * (127.0.0.0/8, ::1) is served: the endpoint decides manual steps and
 * its pages need no token, so it is never put on a network; an operator
 * elsewhere forwards the port with ssh -L. -1 with *err.
 */
int
daemon_parse_listen(const char *arg, struct daemon_listen *l, char **err)
{
	static const unsigned char lo6[16] = { [15] = 1 };
	const char *colon, *a = arg, *end;
	unsigned char bin[16];
	char *e;
	long port;
	size_t n;

	memset(l, 0, sizeof *l);
	l->fd = -1;
	if (strcmp(arg, "none") == 0) {
		l->none = 1;
		return 0;
	}
	if (*a == '[') {
		if ((end = strchr(a, ']')) == NULL || end[1] != ':')
			goto bad;
		a++;
		n = (size_t)(end - a);
		colon = end + 1;
	} else {
		if ((colon = strrchr(a, ':')) == NULL)
			goto bad;
		n = (size_t)(colon - a);
	}
	if (n == 0 || n >= sizeof l->addr)
		goto bad;
	memcpy(l->addr, a, n);
	port = strtol(colon + 1, &e, 10);
	if (*e != '\0' || e == colon + 1 || port < 0 || port > 65535)
		goto bad;
	l->port = (int)port;
	if (strcmp(l->addr, "localhost") == 0)
		strcpy(l->addr, "127.0.0.1");
	if ((inet_pton(AF_INET, l->addr, bin) == 1 && bin[0] == 127) ||
	    (inet_pton(AF_INET6, l->addr, bin) == 1 &&
		memcmp(bin, lo6, sizeof lo6) == 0))
		return 0;
	if (inet_pton(AF_INET, l->addr, bin) == 1 ||
	    inet_pton(AF_INET6, l->addr, bin) == 1) {
		xasprintf(err,
		    "--listen %s is not a loopback address: the endpoint "
		    "serves only 127.0.0.0/8 and ::1 (from another machine, "
		    "forward it: ssh -L 8470:127.0.0.1:8470 CONTROLLER)",
		    arg);
		return -1;
	}
bad:
	xasprintf(
	    err, "--listen takes ADDR:PORT (an IP address), not '%s'", arg);
	return -1;
}

/*
 * Bind and listen on the endpoint's address now, before the run exists,
 * and keep the socket for the endpoint (daemon_loop). Returns EXIT_OK, or
 * EXIT_UNAVAILABLE with the reason printed: the port is busy (or
 * otherwise not to be had), and nothing was started.
 */
int
daemon_listen_open(struct daemon_listen *l)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int fd, on = 1, e;

	if (l->none || l->fd != -1)
		return EXIT_OK;
	memset(&ss, 0, sizeof ss);
	if (uv_ip4_addr(l->addr, l->port, sin) != 0 &&
	    uv_ip6_addr(l->addr, l->port, sin6) != 0) {
		log_warnx("--listen %s: not an IP address", l->addr);
		return EXIT_UNAVAILABLE;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
	    bind(fd, (struct sockaddr *)&ss,
		ss.ss_family == AF_INET6 ? sizeof *sin6 : sizeof *sin) == -1 ||
	    listen(fd, 511) == -1) {
		e = errno;
		if (fd != -1)
			close(fd);
		if (e == EADDRINUSE)
			log_warnx("cannot listen on %s%s%s:%d: port %d is busy "
				  "(another program holds it, perhaps another "
				  "hostswap daemon): nothing was started. "
				  "Choose another port with --listen "
				  "ADDR:PORT, or run without the endpoint with "
				  "--listen none (manual steps are then "
				  "decided with 'hostswap approve|reject "
				  "PHASE/STEP --state FILE')",
			    strchr(l->addr, ':') ? "[" : "", l->addr,
			    strchr(l->addr, ':') ? "]" : "", l->port, l->port);
		else
			log_warnx("cannot listen on %s%s%s:%d: %s: nothing was "
				  "started (--listen ADDR:PORT chooses "
				  "another address, --listen none runs "
				  "without the endpoint)",
			    strchr(l->addr, ':') ? "[" : "", l->addr,
			    strchr(l->addr, ':') ? "]" : "", l->port,
			    strerror(e));
		return EXIT_UNAVAILABLE;
	}
	l->fd = fd;
	return EXIT_OK;
}

/* Give up the endpoint's socket if no endpoint took it. */
void
daemon_listen_close(struct daemon_listen *l)
{
	if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
}

static int daemon_status = EXIT_SOFTWARE;
static struct api *daemon_api; /* the run's endpoint, if it has one */

/* The event streams have had the run's last events: leave the loop. */
static void
daemon_streams_drained(void *arg)
{
	struct run *r = arg;

	uv_stop(r->loop);
}

/* Every message about the end is sent or given up: the pages watching
 * get the end too. */
static void
daemon_drained(void *arg)
{
	struct run *r = arg;

	if (daemon_api != NULL)
		api_drain(daemon_api, daemon_streams_drained, r);
	else
		uv_stop(r->loop);
}

/*
 * The run ended: leave the loop so that the daemon can tear down — once
 * the notifications about the end have gone (briefly; they never change
 * the exit status).
 */
static void
daemon_finished(struct run *r)
{
	daemon_status = run_exit_code(r);
	if (r->store != NULL)
		store_commit_final(r->store);
	notify_drain(r->notify, daemon_drained, r);
}

/*
 * Carry a run (made, and recorded in its state file) to its end: start
 * it, or take it up again when resumed; then free it and drain the loop.
 * Returns the exit status of SPEC §5.
 */
int
daemon_loop(struct run *r, int resumed, struct daemon_listen *l)
{
	uv_loop_t *loop = r->loop;
	struct store *st = r->store;
	struct api *api = NULL;
	struct inbox *inbox = NULL;
	char *err = NULL;

	/* A client that hangs up (an event stream, a killed curl) must cost
	 * a failed write, never the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (st != NULL && l != NULL && !l->none) {
		api = api_new(
		    r, st, store_path(st), l->addr, l->port, l->fd, &err);
		l->fd = -1; /* the endpoint took it */
		if (api == NULL) {
			/* Rare now that the port is bound: the token file,
			 * say. The swap goes on; decisions take the state
			 * file's way. */
			log_warnx("%s: the run goes on without its status "
				  "endpoint; decide its manual steps with "
				  "'hostswap approve|reject PHASE/STEP "
				  "--state %s'",
			    err, store_path(st));
			free(err);
		}
	}
	if (st != NULL && api == NULL) {
		inbox = inbox_new(r, st);
		if (l != NULL && l->none)
			run_note(r,
			    "no status endpoint (--listen none): decide manual "
			    "steps with 'hostswap approve|reject PHASE/STEP "
			    "--state %s'",
			    store_path(st));
	}
	daemon_api = api;
	if (resumed)
		run_start_resumed(r, daemon_finished);
	else
		run_start(r, daemon_finished);
	uv_run(loop, UV_RUN_DEFAULT);
	daemon_api = NULL;
#ifdef HOSTSWAP_TEST_HOOKS
	if (st != NULL && getenv("HOSTSWAP_REPORT_COMMITS") != NULL)
		fprintf(stderr,
		    "hostswap: state file commits: %lu\n"
		    "hostswap: state file syncs off the loop: %lu\n",
		    store_commits(st), store_syncs(st));
#endif
	api_free(api);
	inbox_free(inbox);
	notify_free(r->notify);
	r->notify = NULL;
	run_free(r);
	store_free(st);
	/* Let every handle's close callback run, then check none is left. */
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		log_warnx("internal: the event loop still had live handles");
	return daemon_status;
}
