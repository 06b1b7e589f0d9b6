/*
 * http-fuzzer.c: libFuzzer target for the daemon's HTTP request path. The
 * input is the bytes a client sends on one connection: they go through
 * http.c's real parser callbacks and limits (a connection without a
 * socket, http_conn_new_buffered()) to api.c's real router and handlers
 * — Host check, token, methods, paths, the status JSON, event streams,
 * logs, metrics and the approve / reject bodies read by jansson — over a
 * real run of a small plan whose manual steps wait, with its state file
 * in a temporary directory. Nothing connects anywhere: the plan's steps
 * are all manual.
 *
 * "FUZZTOKEN" in the input stands for the run's bearer token (random for
 * each run), so that the corpus reaches what lies behind the 401. A
 * request that changed the run (an approval, a rejection, an abort) has
 * the run made anew for the next input.
 *
 * Every answer must begin with a status line; a crash, a leak or a
 * sanitizer report fails the target.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "api.h"
#include "buf.h"
#include "diag.h"
#include "http.h"
#include "log.h"
#include "plan.h"
#include "run-record.h"
#include "run-start.h"
#include "run.h"
#include "store.h"
#include "xmalloc.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_TOKEN "FUZZTOKEN"

static const char fuzz_plan[] = "hostswap: 1\n"
				"name: fuzz\n"
				"inventory: {hosts: {}}\n"
				"phases:\n"
				"  - id: 1\n"
				"    name: decide\n"
				"    steps:\n"
				"      - {id: look, manual: \"Look at it\"}\n"
				"      - {id: twice, manual: \"Look again\"}\n"
				"  - id: 2\n"
				"    name: after\n"
				"    steps:\n"
				"      - {id: after, manual: \"The end\"}\n";

/* One run with its state file and endpoint, made anew after a change. */
static struct {
	uv_loop_t loop;
	char dir[64];
	char state[96];
	struct plan *plan;
	struct run *run;
	struct store *store;
	struct api *api;
	char token[80];
	int ended;
} fz;

/* The run ended (rejected, aborted): made anew before the next input. */
static void
fuzz_ended(struct run *r)
{
	(void)r;
	fz.ended = 1;
}

/* Let the loop do what is due now (commits, closes). */
static void
fuzz_spin(void)
{
	int i;

	for (i = 0; i < 4; i++)
		uv_run(&fz.loop, UV_RUN_NOWAIT);
}

/* Whether a request changed the run: then the next input gets a new one. */
static int
fuzz_changed(void)
{
	const struct run *r = fz.run;

	return fz.ended || r->aborted ||
	    (r->state != RUN_RUNNING && r->state != RUN_WAITING) ||
	    r->phases[0].tasks[0].state != TASK_WAITING ||
	    r->phases[0].tasks[1].state != TASK_WAITING;
}

/* Make the run, its state file and its endpoint; wait for the manual
 * steps of phase 1 to wait. */
static void
fuzz_start(void)
{
	struct run_opts ro;
	char *err = NULL, path[128];
	FILE *f;
	int i;

	memset(&ro, 0, sizeof ro);
	ro.from_phase = ro.to_phase = -1;
	ro.grace_ms = 1000;
	ro.known_hosts = "/dev/null";
	unlink(fz.state);
	if (store_open(fz.state, STORE_WRITE, &fz.store, &err) != STORE_OK ||
	    run_new(&fz.loop, fz.plan, &ro, &fz.run, &err) == -1)
		fatalx("fuzz: %s", err);
	fz.run->started_ms = run_now_ms();
	fz.run->store = fz.store;
	store_attach(fz.store, &fz.loop);
	run_record_create(fz.store, fz.run, "0", NULL, "0", NULL);
	if ((fz.api = api_new(
		 fz.run, fz.store, fz.state, "127.0.0.1", 0, -1, &err)) == NULL)
		fatalx("fuzz: %s", err);
	snprintf(path, sizeof path, "%s.token", fz.state);
	if ((f = fopen(path, "r")) == NULL ||
	    fgets(fz.token, sizeof fz.token, f) == NULL)
		fatalx("fuzz: no token in %s", path);
	fclose(f);
	fz.token[strcspn(fz.token, "\n")] = '\0';
	fz.ended = 0;
	run_start(fz.run, fuzz_ended);
	/* The attempts begin once the run's start is committed (off the
	 * loop): give them a few seconds at most. */
	for (i = 0; i < 5000 && fuzz_changed(); i++) {
		uv_run(&fz.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	if (fuzz_changed())
		fatalx("fuzz: the manual steps do not wait");
}

/* Tear the run down (as the daemon does at its end). */
static void
fuzz_stop(void)
{
	api_free(fz.api);
	run_free(fz.run);
	store_free(fz.store);
	uv_run(&fz.loop, UV_RUN_DEFAULT);
	fz.api = NULL;
	fz.run = NULL;
	fz.store = NULL;
}

/* The removal of the fuzzer's files at exit. */
static void
fuzz_cleanup(void)
{
	char path[128];

	snprintf(path, sizeof path, "%s.token", fz.state);
	unlink(path);
	unlink(fz.state);
	snprintf(path, sizeof path, "%s-journal", fz.state);
	unlink(path);
	snprintf(path, sizeof path, "%s-wal", fz.state);
	unlink(path);
	snprintf(path, sizeof path, "%s-shm", fz.state);
	unlink(path);
	snprintf(path, sizeof path, "%s.lock", fz.state);
	unlink(path);
	rmdir(fz.dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag d;

	(void)argc;
	(void)argv;
	log_init(LOG_TEXT, 0);
	/* Under TMPDIR: libFuzzer may leave with _exit(), past atexit. */
	snprintf(fz.dir, sizeof fz.dir, "%s/http-fuzzer.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 32
		? getenv("TMPDIR")
		: "/tmp");
	if (mkdtemp(fz.dir) == NULL)
		fatal("mkdtemp");
	snprintf(fz.state, sizeof fz.state, "%s/fuzz.db", fz.dir);
	atexit(fuzz_cleanup);
	diag_init(&d);
	if (plan_parse("fuzz.yaml", fuzz_plan, sizeof fuzz_plan - 1, &fz.plan,
		&d) != PLAN_OK) {
		diag_print(&d, stderr);
		fatalx("fuzz: the built-in plan does not load");
	}
	diag_free(&d);
	uv_loop_init(&fz.loop);
	return 0;
}

/* The input with every FUZZTOKEN replaced by the run's token. */
static void
fuzz_input(const uint8_t *data, size_t size, struct buf *in)
{
	const char *p = (const char *)data, *end = p + size, *t;
	size_t n = sizeof FUZZ_TOKEN - 1;

	buf_init(in);
	while ((t = memmem(p, (size_t)(end - p), FUZZ_TOKEN, n)) != NULL) {
		buf_add(in, p, (size_t)(t - p));
		buf_adds(in, fz.token);
		p = t + n;
	}
	buf_add(in, p, (size_t)(end - p));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_conn *c;
	struct buf in, out;
	size_t cut;

	if (fz.run == NULL)
		fuzz_start();
	fuzz_input(data, size, &in);
	buf_init(&out);
	c = http_conn_new_buffered(api_server(fz.api), &out);
	/* In two reads, where the first byte says: the parser must carry
	 * any request across any boundary. */
	cut = in.len > 0 ? (unsigned char)in.data[0] % (in.len + 1) : 0;
	http_conn_feed(c, in.data, cut);
	http_conn_feed(c, in.data + cut, in.len - cut);
	if (out.len > 0 && strncmp(out.data, "HTTP/1.1 ", 9) != 0)
		abort(); /* an answer without a status line */
	if (getenv("HTTP_FUZZER_ECHO") != NULL) /* to check a seed by eye */
		fprintf(stderr, "%s\n", out.data != NULL ? out.data : "");
	http_conn_free(c);
	fuzz_spin(); /* the commits of what a request did, and the close */
	buf_free(&in);
	buf_free(&out);
	if (fuzz_changed()) {
		fuzz_stop();
		fuzz_start();
	}
	return 0;
}
