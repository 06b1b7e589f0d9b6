/*
 * api.c: what the daemon's HTTP endpoint answers (SPEC §6), on top of
 * http.c: the status page, the status JSON (built once per state change
 * and served from that cache), the event stream (ids from the durable
 * event log, so Last-Event-ID works across a resume; a comment every 15
 * s), a task's whole log, approve / reject / abort with the bearer token
 * (compared in constant time), /metrics and /healthz.
 *
 * Access: every request's Host must be the listening address or
 * localhost (each with or without the port), else 403 — DNS rebinding.
 * POST needs the token. The daemon listens on loopback only (daemon.c
 * refuses any other address): an operator elsewhere comes through
 * `ssh -L`, so GET needs no token.
 */
#include <sys/random.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "api.h"
#include "buf.h"
#include "clock.h"
#include "console.h"
#include "http.h"
#include "log.h"
#include "plan.h"
#include "run-record.h"
#include "run.h"
#include "scheduler.h"
#include "status-live.h"
#include "status.h"
#include "store.h"
#include "task.h"
#include "xmalloc.h"

/* How often an event stream gets a comment line. */
#define API_HEARTBEAT_MS 15000

extern const char api_page_html[];
extern const unsigned long api_page_html_len;

struct api {
	struct run *run;
	struct store *store;
	struct http_server *http;
	char addr[64];
	int port;
	char token[65];
	char *url;
	char *status;             /* the cached status JSON */
	unsigned char *status_gz; /* ... and gzipped, for clients that ask */
	size_t status_gz_len;
	uint64_t status_ms; /* when it was built */
	int64_t status_seq; /* the last event it reflects */
	int outage_running; /* it holds a running outage: its length ages */
	int dirty;
	int64_t last_seq;     /* the last event streamed */
	uv_timer_t heartbeat; /* then the drain's, once the run ended */
	uint64_t drain_until;
	void (*drained)(void *);
	void *drained_arg;
};

/* Whether two strings are equal, in time that does not depend on where
 * they differ (only on the length of the expected one). */
static int
api_token_equal(const char *given, const char *want)
{
	size_t i, n = strlen(want), g = strlen(given);
	unsigned char d = (unsigned char)(g != n);

	for (i = 0; i < n; i++)
		d |= (unsigned char)(want[i] ^ (i < g ? given[i] : 0));
	return d == 0;
}

/* Whether the request carries the bearer token. */
static int
api_authorized(const struct api *a, const struct http_request *req)
{
	const char *h = req->authorization;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	return api_token_equal(h + 7, a->token);
}

/* Whether the Host header names us: our address or localhost, with or
 * without the port. */
static int
api_host_ok(const struct api *a, const char *host)
{
	char with[96];
	const char *names[2] = { a->addr, "localhost" };
	int i;

	if (host == NULL)
		return 0;
	for (i = 0; i < 2; i++) {
		if (strcasecmp(host, names[i]) == 0)
			return 1;
		snprintf(with, sizeof with, "%s:%d", names[i], a->port);
		if (strcasecmp(host, with) == 0)
			return 1;
	}
	if (strchr(a->addr, ':') != NULL) { /* IPv6: [::1] and [::1]:port */
		snprintf(with, sizeof with, "[%s]", a->addr);
		if (strcasecmp(host, with) == 0)
			return 1;
		snprintf(with, sizeof with, "[%s]:%d", a->addr, a->port);
		if (strcasecmp(host, with) == 0)
			return 1;
	}
	return 0;
}

/* gzip a text (RFC 1952), or NULL. */
static unsigned char *
api_gzip(const char *text, size_t len, size_t *out_len)
{
	z_stream z;
	unsigned char *out;
	size_t cap;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)len) + 32;
	out = xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)text;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/*
 * The status JSON (and its gzipped copy), rebuilt only after a change —
 * or, while the users' outage runs, once its length (outage.seconds) is
 * a second old: a long wait changes nothing else.
 */
static const char *
api_status(struct api *a)
{
	uint64_t now = clock_now_ms();
	json_t *o, *running;

	if (a->status == NULL || a->dirty ||
	    (a->outage_running && now - a->status_ms >= 1000)) {
		free(a->status);
		free(a->status_gz);
		o = status_json(a->run);
		running = json_object_get(
		    json_object_get(json_object_get(o, "run"), "outage"),
		    "running");
		a->outage_running = json_is_true(running);
		a->status_ms = now;
		a->status_seq = a->last_seq;
		a->status = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		a->status_gz =
		    api_gzip(a->status, strlen(a->status), &a->status_gz_len);
		a->dirty = 0;
	}
	return a->status;
}

/* Answer with JSON. */
static void
api_json(struct http_conn *c, int status, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	http_respond(c, status, "application/json", s, strlen(s), NULL);
	free(s);
}

/* Answer with {"error": msg}. */
static void
api_fail(struct http_conn *c, int status, const char *msg)
{
	api_json(c, status, json_pack("{s:s}", "error", msg));
}

/*
 * An event as an SSE message in b (initialised here); 0 for an event the
 * streams do not carry (notes, hosts), with b left untouched.
 */
static int
api_sse_frame(struct buf *b, int64_t seq, const char *type, const char *data)
{
	if (strcmp(type, "run") != 0 && strcmp(type, "phase") != 0 &&
	    strcmp(type, "task") != 0)
		return 0;
	buf_init(b);
	buf_printf(
	    b, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)seq, type, data);
	return 1;
}

/* One event as an SSE message. */
static void
api_sse_event(void *arg, int64_t seq, uint64_t ts, const char *type, int run,
    const char *data)
{
	struct http_conn *c = arg;
	struct buf b;

	(void)ts;
	(void)run;
	if (!api_sse_frame(&b, seq, type, data))
		return;
	http_sse_send(c, seq, b.data, b.len);
	buf_free(&b);
}

/* Broadcast one event to every stream. */
static void
api_broadcast_event(void *arg, int64_t seq, uint64_t ts, const char *type,
    int run, const char *data)
{
	struct api *a = arg;
	struct buf b;

	(void)ts;
	(void)run;
	a->last_seq = seq;
	if (!api_sse_frame(&b, seq, type, data))
		return;
	http_server_broadcast(a->http, seq, b.data, b.len);
	buf_free(&b);
}

/* The store committed: the status changed; stream the new events. */
static void
api_committed(void *arg)
{
	struct api *a = arg;
	int64_t last;

	a->dirty = 1;
	store_events(
	    a->store, a->last_seq, a->run->id, api_broadcast_event, a, &last);
}

/* Timer: a comment line on every stream keeps proxies and clients awake. */
static void
api_heartbeat_cb(uv_timer_t *t)
{
	struct api *a = t->data;
	static const char beat[] = ": heartbeat\n\n";

	http_server_broadcast(a->http, 0, beat, sizeof beat - 1);
}

/* GET /api/v1/events: what came after Last-Event-ID, then live. */
static void
api_events(struct api *a, struct http_conn *c, const struct http_request *req)
{
	int64_t after = a->last_seq, last;
	char *end;

	if (req->last_event_id != NULL) {
		after = strtoll(req->last_event_id, &end, 10);
		if (*end != '\0' || after < 0)
			after = 0;
	}
	if (after > a->last_seq)
		after = a->last_seq;
	if (http_sse_start(c, after) == -1)
		return; /* answered 503: too many streams */
	/* The backlog up to what was already streamed; newer events come
	 * with the next commit. */
	store_events(a->store, after, a->run->id, api_sse_event, c, &last);
}

/* GET /api/v1/log/PHASE/STEP/HOST */
static void
api_log(struct api *a, struct http_conn *c, const char *rest)
{
	char *copy = xstrdup(rest), *step, *host, *end, *err = NULL;
	struct run_task *t;
	struct buf b;
	long phase;

	phase = strtol(copy, &end, 10);
	if (end == copy || *end != '/' || (step = end + 1) == NULL ||
	    (host = strchr(step, '/')) == NULL) {
		free(copy);
		api_fail(c, 404, "use /api/v1/log/PHASE/STEP/HOST");
		return;
	}
	*host++ = '\0';
	if ((t = run_task_find(a->run, (int)phase, step, host)) == NULL) {
		free(copy);
		api_fail(c, 404, "no such task");
		return;
	}
	if (t->step->sensitive) {
		free(copy);
		api_fail(c, 404, "a sensitive step's output is never kept");
		return;
	}
	if (t->out.all.len > 0) {
		http_respond(c, 200, "text/plain; charset=utf-8",
		    t->out.all.data, t->out.all.len, NULL);
	} else {
		buf_init(&b);
		if (store_task_output(a->store, a->run->id, (int)phase, step,
			host, 0, &b, &err) == -1)
			free(err);
		http_respond(c, 200, "text/plain; charset=utf-8",
		    b.data ? b.data : "", b.len, NULL);
		buf_free(&b);
	}
	free(copy);
}

/* POST /api/v1/approve and /api/v1/reject */
static void
api_decide(struct api *a, struct http_conn *c, const struct http_request *req,
    int approve)
{
	json_t *o, *jp, *js, *jh, *jb;
	json_error_t je;
	struct run_task *t;
	const char *host;
	char by[128];
	size_t i;

	o = json_loadb(
	    req->body.data ? req->body.data : "", req->body.len, 0, &je);
	jp = json_object_get(o, "phase");
	js = json_object_get(o, "step");
	jh = json_object_get(o, "host");
	if (o == NULL || !json_is_integer(jp) || !json_is_string(js) ||
	    (jh != NULL && !json_is_string(jh))) {
		json_decref(o);
		api_fail(c, 400,
		    "the body is {\"phase\": N, \"step\": \"ID\", \"host\": "
		    "\"local\"}");
		return;
	}
	host = jh ? json_string_value(jh) : "local";
	t = run_task_find(
	    a->run, (int)json_integer_value(jp), json_string_value(js), host);
	if (t == NULL) {
		json_decref(o);
		api_fail(c, 404, "no such task");
		return;
	}
	if (t->state != TASK_WAITING) {
		json_decref(o);
		api_fail(c, 409, "the task is not waiting for a decision");
		return;
	}
	/* Who decided, as the client says (the approve command names its
	 * user and host, the page itself): printable, bounded. */
	jb = json_object_get(o, "by");
	snprintf(by, sizeof by, "%s",
	    json_is_string(jb) ? json_string_value(jb) : "an HTTP client");
	for (i = 0; by[i] != '\0'; i++)
		if ((unsigned char)by[i] < 0x20 || by[i] == 0x7f)
			by[i] = ' ';
	json_decref(o);
	run_note(a->run, "%d/%s: decision from %s",
	    a->run->plan->phases[t->phase->index].id, t->step->id, by);
	if (approve)
		task_approve(t);
	else
		task_reject(t);
	api_json(c, 200,
	    json_pack("{s:b, s:i, s:s, s:s, s:s}", "ok", 1, "phase",
		a->run->plan->phases[t->phase->index].id, "step", t->step->id,
		"host", t->host, "state", task_state_names[t->state]));
}

/* GET /metrics: Prometheus text format. */
static void
api_metrics(struct api *a, struct http_conn *c)
{
	static const int codes[] = { 200, 400, 401, 403, 404, 405, 408, 409,
		413, 431, 503 };
	size_t n[TASK_NSTATES] = { 0 }, i, j, ended = 0;
	struct run *r = a->run;
	double sum = 0;
	struct buf b;

	for (i = 0; i < r->nphases; i++) {
		for (j = 0; j < r->phases[i].ntasks; j++) {
			const struct run_task *t = &r->phases[i].tasks[j];

			n[t->state]++;
			if (t->finished_ms > t->started_ms &&
			    t->started_ms != 0) {
				sum +=
				    (double)(t->finished_ms - t->started_ms) /
				    1000.0;
				ended++;
			}
		}
	}
	buf_init(&b);
	buf_adds(&b,
	    "# HELP hostswap_tasks Tasks of the run by state.\n"
	    "# TYPE hostswap_tasks gauge\n");
	for (i = 0; i < TASK_NSTATES; i++)
		buf_printf(&b, "hostswap_tasks{state=\"%s\"} %zu\n",
		    task_state_names[i], n[i]);
	buf_printf(&b,
	    "# HELP hostswap_current_phase The id of the current phase.\n"
	    "# TYPE hostswap_current_phase gauge\n"
	    "hostswap_current_phase %d\n",
	    r->current < r->nphases
		? r->plan->phases[r->phases[r->current].index].id
		: -1);
	buf_printf(&b,
	    "# HELP hostswap_task_duration_seconds Durations of ended "
	    "tasks.\n"
	    "# TYPE hostswap_task_duration_seconds summary\n"
	    "hostswap_task_duration_seconds_sum %.3f\n"
	    "hostswap_task_duration_seconds_count %zu\n",
	    sum, ended);
	buf_printf(&b,
	    "# HELP hostswap_reconnects_total SSH sessions opened again.\n"
	    "# TYPE hostswap_reconnects_total counter\n"
	    "hostswap_reconnects_total %lu\n",
	    r->reconnects);
	buf_adds(&b,
	    "# HELP hostswap_http_requests_total HTTP requests "
	    "answered, by status.\n"
	    "# TYPE hostswap_http_requests_total counter\n");
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		buf_printf(&b,
		    "hostswap_http_requests_total{code=\"%d\"} %llu\n",
		    codes[i],
		    (unsigned long long)http_server_requests(
			a->http, codes[i]));
	http_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data,
	    b.len, NULL);
	buf_free(&b);
}

/* Which methods a known path takes (for 405), or NULL if unknown. */
static const char *
api_allowed(const char *path)
{
	if (strcmp(path, "/") == 0 || strcmp(path, "/api/v1/status") == 0 ||
	    strcmp(path, "/api/v1/events") == 0 ||
	    strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 ||
	    strncmp(path, "/api/v1/log/", 12) == 0)
		return "GET";
	if (strcmp(path, "/api/v1/approve") == 0 ||
	    strcmp(path, "/api/v1/reject") == 0 ||
	    strcmp(path, "/api/v1/abort") == 0)
		return "POST";
	return NULL;
}

/* Every request. */
static void
api_handle(void *arg, struct http_conn *c, const struct http_request *req)
{
	struct api *a = arg;
	const char *allowed, *p = req->path;
	int get =
	    strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	char hdr[64];

	if (req->host == NULL) {
		api_fail(c, 400, "no Host header");
		return;
	}
	if (!api_host_ok(a, req->host)) {
		api_fail(c, 403, "this Host is not the daemon's address");
		return;
	}
	if ((allowed = api_allowed(p)) == NULL) {
		api_fail(c, 404, "no such path");
		return;
	}
	if ((strcmp(allowed, "GET") == 0) != get) {
		snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allowed);
		http_respond(c, 405, "application/json",
		    "{\"error\":\"method not allowed\"}", 30, hdr);
		return;
	}
	if (!get && !api_authorized(a, req)) {
		http_respond(c, 401, "application/json",
		    "{\"error\":\"this needs the bearer token\"}", 39,
		    "WWW-Authenticate: Bearer\r\n");
		return;
	}
	if (strcmp(p, "/") == 0)
		http_respond(c, 200, "text/html; charset=utf-8", api_page_html,
		    api_page_html_len,
		    "Content-Security-Policy: default-src 'self'; script-src "
		    "'unsafe-inline'; style-src 'unsafe-inline'\r\n");
	else if (strcmp(p, "/api/v1/status") == 0) {
		const char *s = api_status(a);
		char head[128];

		/* The last event it reflects: a page that has seen newer
		 * events keeps them (the status came late). */
		snprintf(head, sizeof head,
		    "X-Hostswap-Event-Id: %lld\r\nVary: Accept-Encoding\r\n%s",
		    (long long)a->status_seq,
		    req->gzip && a->status_gz != NULL
			? "Content-Encoding: gzip\r\n"
			: "");
		if (req->gzip && a->status_gz != NULL)
			http_respond(c, 200, "application/json",
			    (const char *)a->status_gz, a->status_gz_len, head);
		else
			http_respond(
			    c, 200, "application/json", s, strlen(s), head);
	} else if (strcmp(p, "/api/v1/events") == 0)
		api_events(a, c, req);
	else if (strncmp(p, "/api/v1/log/", 12) == 0)
		api_log(a, c, p + 12);
	else if (strcmp(p, "/api/v1/approve") == 0)
		api_decide(a, c, req, 1);
	else if (strcmp(p, "/api/v1/reject") == 0)
		api_decide(a, c, req, 0);
	else if (strcmp(p, "/api/v1/abort") == 0) {
		run_note(a->run,
		    "abort asked over HTTP: the run stops once "
		    "its running tasks end");
		sched_abort(a->run);
		api_json(c, 200, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(p, "/metrics") == 0)
		api_metrics(a, c);
	else
		http_respond(
		    c, 200, "text/plain; charset=utf-8", "ok\n", 3, NULL);
}

/* Write the token to STATE.token, readable by its owner only. */
static int
api_write_token(const struct api *a, const char *state, char **err)
{
	char *path, line[80];
	int fd, n;

	xasprintf(&path, "%s.token", state);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		xasprintf(err, "cannot write %s", path);
		free(path);
		return -1;
	}
	n = snprintf(line, sizeof line, "%s\n", a->token);
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		xasprintf(err, "cannot write %s", path);
		free(path);
		return -1;
	}
	close(fd);
	free(path);
	return 0;
}

/*
 * Start the endpoint for a run on addr:port (port 0: a free one), or on
 * fd (not -1), a socket the daemon bound to it before the run existed: the
 * token in STATE.token, the URL in the state file and on the console.
 * Returns NULL with *err if it cannot listen.
 */
struct api *
api_new(struct run *r, struct store *st, const char *state, const char *addr,
    int port, int fd, char **err)
{
	struct api *a = xcalloc(1, sizeof *a);
	unsigned char rnd[24];
	char *note;
	size_t i;

	a->run = r;
	a->store = st;
	snprintf(a->addr, sizeof a->addr, "%s", addr);
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		fatal("getrandom");
	for (i = 0; i < sizeof rnd; i++)
		snprintf(a->token + 2 * i, 3, "%02x", rnd[i]);
	if (http_server_new(
		r->loop, addr, port, fd, api_handle, a, &a->http, err) == -1) {
		free(a);
		return NULL;
	}
	a->port = http_server_port(a->http);
	if (api_write_token(a, state, err) == -1) {
		http_server_free(a->http);
		free(a);
		return NULL;
	}
	/* Stream only what comes from now on; a client with Last-Event-ID
	 * gets the backlog from the file. */
	a->last_seq = store_last_seq(st);
	store_on_commit(st, api_committed, a);
	uv_timer_init(r->loop, &a->heartbeat);
	a->heartbeat.data = a;
	uv_timer_start(&a->heartbeat, api_heartbeat_cb, API_HEARTBEAT_MS,
	    API_HEARTBEAT_MS);
	uv_unref((uv_handle_t *)&a->heartbeat);
	xasprintf(&a->url, "http://%s%s%s:%d/", strchr(addr, ':') ? "[" : "",
	    addr, strchr(addr, ':') ? "]" : "", a->port);
	store_set_url(st, r->id, a->url);
	r->approvals = 1;
	/* The token goes to the console only, never to the audit trail. */
	console_note(r, "status page: %s#token=%s", a->url, a->token);
	xasprintf(
	    &note, "status page: %s (its token is in %s.token)", a->url, state);
	run_record_note(r, note);
	free(note);
	return a;
}

/* Polled while draining: every stream emptied, or time is up. */
static void
api_drain_cb(uv_timer_t *t)
{
	struct api *a = t->data;
	void (*cb)(void *) = a->drained;

	if (http_server_sse_queued(a->http) > 0 &&
	    uv_now(a->run->loop) < a->drain_until)
		return;
	uv_timer_stop(&a->heartbeat);
	a->drained = NULL;
	cb(a->drained_arg);
}

/*
 * The run ended: call cb once every event stream has been handed all it
 * was sent — the run's last events included — or after HTTP_DRAIN_MS,
 * so that a page a little behind still learns how the run ended before
 * the daemon exits. Requests are answered meanwhile (a page's last
 * refresh).
 */
void
api_drain(struct api *a, void (*cb)(void *), void *arg)
{
	a->drained = cb;
	a->drained_arg = arg;
	a->drain_until = uv_now(a->run->loop) + HTTP_DRAIN_MS;
	uv_timer_stop(&a->heartbeat);
	uv_ref((uv_handle_t *)&a->heartbeat);
	uv_timer_start(&a->heartbeat, api_drain_cb, 0, 20);
}

/* The heartbeat's timer closed: the api goes. */
static void
api_closed_cb(uv_handle_t *h)
{
	struct api *a = h->data;

	free(a->url);
	free(a->status);
	free(a->status_gz);
	free(a);
}

/* The HTTP server under the endpoint (the fuzzer feeds it requests). */
struct http_server *
api_server(const struct api *a)
{
	return a->http;
}

/* Stop serving. */
void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	store_on_commit(a->store, NULL, NULL);
	store_set_url(a->store, a->run->id, NULL); /* no daemon there now */
	http_server_free(a->http);
	explicit_bzero(a->token, sizeof a->token);
	uv_close((uv_handle_t *)&a->heartbeat, api_closed_cb);
}
