/*
 * http.c: the daemon's HTTP/1.1 server, on the run's own libuv loop (no
 * second thread). A connection reads into http-parser (Debian's
 * libhttp-parser), which is paused at the end of every request: the
 * request is answered, then parsing goes on with the bytes already read,
 * so pipelined requests are answered in order.
 *
 * Limits (SPEC §6), so that clients can neither stop the run nor take
 * what its SSH sessions and its state file need:
 * - time: a request's head must arrive within HTTP_HEADER_MS of the
 *   connection or of the previous answer, its body within HTTP_BODY_MS of
 *   its head (else 408 and close); a connection with no request begun by
 *   then simply closes. Neither deadline moves when bytes trickle in.
 * - count: HTTP_MAX_CONNS connections at once, HTTP_MAX_SSE of them event
 *   streams. One more is still accepted (never left in the backlog),
 *   answered 503 and closed; at most HTTP_MAX_REFUSING such answers are
 *   under way, beyond that a connection is accepted and closed at once.
 * - memory: the request line and headers in HTTP_MAX_HEADERS bytes (431),
 *   a body of HTTP_MAX_BODY (413), unparsed input below HTTP_MAX_INPUT;
 *   answers queued for a client that does not read stop the parsing of
 *   its next requests past HTTP_MAX_QUEUE; an event stream that falls
 *   HTTP_SSE_MAX_BUF behind is cut.
 * - files: the open-file limit is raised only as far as HTTP_NOFILE.
 *
 * A connection that became an event stream (SSE) reads no more requests.
 * Each connection owns its handles; it is freed in its close callback. A
 * connection may also have no socket (http_conn_new_buffered()): its
 * answers go to a buffer, its requests come from http_conn_feed() — the
 * fuzzer drives the real request path that way.
 */
#include <sys/resource.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HOSTSWAP_LLHTTP
#include <llhttp.h>
#else
#include <http_parser.h>
#endif

#include "buf.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

/*
 * The parser: llhttp where the build found it (Debian 13's
 * libllhttp-dev), else http-parser, its predecessor (Debian 12 has no
 * llhttp). The callbacks are the same; what differs is said here once:
 * llhttp binds its settings at init, is paused by a callback's return
 * value, and reports an error code rather than the bytes it consumed.
 */
#ifdef HOSTSWAP_LLHTTP
typedef llhttp_t http_parser_t;
typedef llhttp_settings_t http_parser_settings_t;
#define HTTP_CONTENT_LENGTH(p) \
	(((p)->flags & F_CONTENT_LENGTH) ? (p)->content_length : 0)
#define HTTP_METHOD_NAME(p) llhttp_method_name((llhttp_method_t)(p)->method)
#define HTTP_KEEP_ALIVE(p)  llhttp_should_keep_alive(p)
#define HTTP_PAUSE(p)       ((void)(p), HPE_PAUSED)
#define HTTP_RESUME(p)      llhttp_resume(p)
#define HTTP_ERRNO(p)       llhttp_get_errno(p)
#define HTTP_PARSER_INIT(p) llhttp_init((p), HTTP_REQUEST, &http_settings)
#else
typedef http_parser http_parser_t;
typedef http_parser_settings http_parser_settings_t;
#define HTTP_CONTENT_LENGTH(p) \
	((p)->content_length != (uint64_t)-1 ? (p)->content_length : 0)
#define HTTP_METHOD_NAME(p) http_method_str((enum http_method)(p)->method)
#define HTTP_KEEP_ALIVE(p)  http_should_keep_alive(p)
#define HTTP_PAUSE(p)       (http_parser_pause((p), 1), 0)
#define HTTP_RESUME(p)      http_parser_pause((p), 0)
#define HTTP_ERRNO(p)       HTTP_PARSER_ERRNO(p)
#define HTTP_PARSER_INIT(p) http_parser_init((p), HTTP_REQUEST)
#endif

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	http_handler handler;
	void *arg;
	int port;
	struct http_conn *conns;
	int nconns;           /* in conns, answering requests or streaming */
	int nsse;             /* ... of which event streams */
	int nrefusing;        /* in conns, answered 503 and closing */
	int max_conns;        /* HTTP_MAX_CONNS, fewer if files are short */
	uint64_t counts[600]; /* requests answered, by status */
	int closing;
	uint64_t header_ms; /* HTTP_HEADER_MS; shorter in tests */
	char rbuf[16384];   /* every connection's reads land here */
};

enum http_conn_state {
	C_READING, /* parsing requests */
	C_SSE,     /* an event stream */
	C_CLOSING,
};

/* What a connection counts as, against the server's limits. */
enum http_conn_kind { K_CONN, K_REFUSED };

struct http_conn {
	struct http_server *server;
	struct http_conn *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	int handles;
	enum http_conn_state state;
	enum http_conn_kind kind;
	int sse;         /* counted as an event stream */
	int listed;      /* in the server's list and counts */
	int paused;      /* answers pile up: parse no more until they drain */
	struct buf *out; /* no socket: answers go here (the fuzzer) */
	http_parser_t parser;
	struct buf in;   /* bytes read, not yet parsed */
	size_t head;     /* bytes of the current request's head so far */
	int in_request;  /* a request has begun */
	int complete;    /* ... and ended: answer it */
	int header_kind; /* the header whose value comes next */
	int error;       /* a status to answer with, then close */
	struct buf field, value;
	struct buf url;
	struct http_request req;
	int keep_alive;
	int last; /* the answer closes the connection */
	uv_shutdown_t shutdown;
	int64_t sse_seq; /* the last event sent */
};

/* Headers that matter; the rest are read and dropped. */
enum { H_OTHER, H_HOST, H_AUTHORIZATION, H_LAST_EVENT_ID };

static void http_conn_close(struct http_conn *);
static void http_conn_parse(struct http_conn *);
static void http_timer_cb(uv_timer_t *);
static void http_alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
static void http_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);

/* The reason phrase of a status. */
static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* Forget the current request. */
static void
http_req_reset(struct http_conn *c)
{
	free(c->req.path);
	free(c->req.host);
	free(c->req.authorization);
	free(c->req.last_event_id);
	buf_free(&c->req.body);
	memset(&c->req, 0, sizeof c->req);
	buf_free(&c->url);
	buf_free(&c->field);
	buf_free(&c->value);
	c->head = 0;
	c->in_request = c->complete = 0;
	c->header_kind = H_OTHER;
}

/* A header's name and value are whole: keep the ones that matter. */
static void
http_header_done(struct http_conn *c)
{
	char **slot = NULL;

	if (c->field.data == NULL)
		return;
	if (strcasecmp(c->field.data, "host") == 0)
		slot = &c->req.host;
	else if (strcasecmp(c->field.data, "authorization") == 0)
		slot = &c->req.authorization;
	else if (strcasecmp(c->field.data, "last-event-id") == 0)
		slot = &c->req.last_event_id;
	else if (strcasecmp(c->field.data, "accept-encoding") == 0 &&
	    c->value.data != NULL && strcasestr(c->value.data, "gzip") != NULL)
		c->req.gzip = 1;
	if (slot != NULL) {
		if (*slot != NULL) /* a repeated Host is an attack */
			c->error = 400;
		free(*slot);
		*slot = buf_release(&c->value);
	}
	buf_free(&c->field);
	buf_free(&c->value);
}

/* Count head bytes; 431 past the limit. */
static int
http_head_add(struct http_conn *c, size_t n)
{
	c->head += n;
	if (c->head > HTTP_MAX_HEADERS) {
		c->error = 431;
		return -1;
	}
	return 0;
}

/* Parser: a request begins. */
static int
http_on_begin(http_parser_t *p)
{
	struct http_conn *c = p->data;

	c->in_request = 1;
	return 0;
}

/* Parser: part of the URL. */
static int
http_on_url(http_parser_t *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (http_head_add(c, len) == -1)
		return -1;
	buf_add(&c->url, at, len);
	return 0;
}

/* Parser: part of a header's name. */
static int
http_on_field(http_parser_t *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (http_head_add(c, len) == -1)
		return -1;
	if (c->value.data != NULL)
		http_header_done(c);
	buf_add(&c->field, at, len);
	return 0;
}

/* Parser: part of a header's value. */
static int
http_on_value(http_parser_t *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (http_head_add(c, len) == -1)
		return -1;
	buf_add(&c->value, at, len);
	if (c->value.data == NULL)
		buf_adds(&c->value, "");
	return 0;
}

/* Parser: the head is complete. */
static int
http_on_headers(http_parser_t *p)
{
	struct http_conn *c = p->data;
	char *q;

	http_header_done(c);
	if (HTTP_CONTENT_LENGTH(p) > HTTP_MAX_BODY) {
		c->error = 413;
		return -1;
	}
	c->req.method = HTTP_METHOD_NAME(p);
	c->req.path = buf_release(&c->url);
	if ((q = strchr(c->req.path, '?')) != NULL)
		*q = '\0';
	c->keep_alive = HTTP_KEEP_ALIVE(p);
	/* The body has its own deadline, counted from the head. */
	uv_timer_start(&c->timer, http_timer_cb, HTTP_BODY_MS, 0);
	return 0;
}

/* Parser: part of the body. */
static int
http_on_body(http_parser_t *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (c->req.body.len + len > HTTP_MAX_BODY) {
		c->error = 413;
		return -1;
	}
	buf_add(&c->req.body, at, len);
	return 0;
}

/* Parser: the request is complete; pause until it is answered. */
static int
http_on_complete(http_parser_t *p)
{
	struct http_conn *c = p->data;

	c->complete = 1;
	return HTTP_PAUSE(p);
}

static const http_parser_settings_t http_settings = {
	.on_message_begin = http_on_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_field,
	.on_header_value = http_on_value,
	.on_headers_complete = http_on_headers,
	.on_body = http_on_body,
	.on_message_complete = http_on_complete,
};

struct http_write {
	uv_write_t req;
	char *data;
	struct http_conn *conn;
	int close_after;
};

/* Bytes answered but not yet taken by the client. */
static size_t
http_conn_queued(struct http_conn *c)
{
	if (c->out != NULL)
		return c->out->len;
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

/* Lingering close: the client had its answer and time to read it. */
static void
http_linger_cb(uv_timer_t *t)
{
	http_conn_close(t->data);
}

/*
 * The last answer is written and our side shut down: close once the
 * client closes or after a short linger, reading and dropping what it
 * still sends — closing with unread bytes would reset the connection and
 * could destroy the answer before the client read it.
 */
static void
http_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct http_conn *c = req->data;

	if (c->state == C_CLOSING)
		return;
	if (status < 0) {
		http_conn_close(c);
		return;
	}
	uv_timer_stop(&c->timer);
	uv_timer_start(&c->timer, http_linger_cb, HTTP_LINGER_MS, 0);
}

/*
 * A write ended: free it; after the last word, shut down and linger. A
 * connection whose answers piled up parses its next requests once they
 * drained.
 */
static void
http_write_cb(uv_write_t *req, int status)
{
	struct http_write *w = req->data;
	struct http_conn *c = w->conn;
	int close_after = w->close_after;

	free(w->data);
	free(w);
	if (c->state == C_CLOSING)
		return;
	if (status < 0) {
		http_conn_close(c);
		return;
	}
	if (close_after) {
		c->shutdown.data = c;
		if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
			http_shutdown_cb) < 0)
			http_conn_close(c);
		return;
	}
	if (c->paused && c->state == C_READING &&
	    http_conn_queued(c) <= HTTP_MAX_QUEUE / 2) {
		c->paused = 0;
		uv_read_start(
		    (uv_stream_t *)&c->tcp, http_alloc_cb, http_read_cb);
		http_conn_parse(c);
	}
}

/* Queue bytes on the connection (taking data). */
static void
http_write(struct http_conn *c, char *data, size_t len, int close_after)
{
	struct http_write *w;
	uv_buf_t b = uv_buf_init(data, (unsigned)len);

	if (c->out != NULL) { /* no socket: keep what the client would read */
		buf_add(c->out, data, len);
		free(data);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->data = data;
	w->conn = c;
	w->close_after = close_after;
	w->req.data = w;
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, http_write_cb) <
	    0) {
		free(data);
		free(w);
		http_conn_close(c);
	}
}

/*
 * Answer the current request: status, type, body and extra header lines
 * (each ending in CRLF, or NULL). The connection is kept alive if the
 * client asked for it and the request was well formed.
 */
void
http_respond(struct http_conn *c, int status, const char *type,
    const char *body, size_t len, const char *extra)
{
	char head[1024], *out;
	int n,
	    keep = c->keep_alive && status < 500 && c->error == 0 &&
	    status != 400 && status != 413 && status != 431 && status != 408;

	if (c->state == C_CLOSING)
		return;
	if (status >= 0 && status < 600)
		c->server->counts[status]++;
	/* One allocation of the exact size: the head, then the body (a
	 * status of a few hundred tasks is tens of KB, served thousands of
	 * times a second). */
	n = snprintf(head, sizeof head,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "%s%s\r\n",
	    status, http_reason(status), type, len, extra ? extra : "",
	    keep ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof head)
		fatalx("http: a response head does not fit");
	out = xmalloc((size_t)n + len + 1);
	memcpy(out, head, (size_t)n);
	if (len > 0)
		memcpy(out + n, body, len);
	http_write(c, out, (size_t)n + len, !keep);
	if (!keep)
		c->last = 1; /* nothing more is read from it */
	c->keep_alive = keep;
}

/* Answer with a short plain-text error. */
static void
http_error(struct http_conn *c, int status)
{
	char msg[96];
	int n =
	    snprintf(msg, sizeof msg, "%d %s\n", status, http_reason(status));

	c->keep_alive = 0;
	http_respond(
	    c, status, "text/plain; charset=utf-8", msg, (size_t)n, NULL);
}

/*
 * Turn the connection into an event stream (SSE): headers now, events
 * with a sequence number above seq later (http_sse_send()). With
 * HTTP_MAX_SSE streams open it is answered 503 instead: returns -1.
 */
int
http_sse_start(struct http_conn *c, int64_t seq)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\r\n"
	    ": hostswap events\n\n";

	if (c->state != C_READING)
		return -1;
	if (c->server->nsse >= HTTP_MAX_SSE) {
		http_error(c, 503);
		return -1;
	}
	c->server->counts[200]++;
	c->server->nsse++;
	c->sse = 1;
	c->state = C_SSE;
	c->sse_seq = seq;
	uv_timer_stop(&c->timer);
	http_write(c, xstrdup(head), sizeof head - 1, 0);
	return 0;
}

/*
 * Send one event (a whole SSE message) if its sequence number is new for
 * this client (seq 0: a comment, always). A client too far behind is cut.
 */
void
http_sse_send(struct http_conn *c, int64_t seq, const char *text, size_t len)
{
	if (c->state != C_SSE || (seq != 0 && seq <= c->sse_seq))
		return;
	if (http_conn_queued(c) > HTTP_SSE_MAX_BUF) {
		log_debug("an event stream client is too slow: cut");
		http_conn_close(c);
		return;
	}
	if (seq != 0)
		c->sse_seq = seq;
	http_write(c, xstrndup(text, len), len, 0);
}

/* The bytes every event stream still holds, not yet handed to the kernel
 * (a drain waits for none). */
size_t
http_server_sse_queued(struct http_server *s)
{
	struct http_conn *c;
	size_t n = 0;

	for (c = s->conns; c != NULL; c = c->next)
		if (c->state == C_SSE)
			n += http_conn_queued(c);
	return n;
}

/* Send an event to every stream. */
void
http_server_broadcast(
    struct http_server *s, int64_t seq, const char *text, size_t len)
{
	struct http_conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		http_sse_send(c, seq, text, len);
	}
}

/* One holder of a connection let go (a handle closed, or the caller of
 * http_conn_new_buffered()); the last one frees it. */
static void
http_conn_unref(struct http_conn *c)
{
	if (--c->handles > 0)
		return;
	http_req_reset(c);
	buf_free(&c->in);
	free(c);
}

/* A handle of a connection closed. */
static void
http_conn_closed_cb(uv_handle_t *h)
{
	http_conn_unref(h->data);
}

/* Take a connection off the server's list and out of its counts. */
static void
http_conn_unlist(struct http_conn *c)
{
	struct http_server *s = c->server;
	struct http_conn **cp;

	if (!c->listed)
		return;
	c->listed = 0;
	for (cp = &s->conns; *cp != NULL; cp = &(*cp)->next) {
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	}
	if (c->kind == K_REFUSED)
		s->nrefusing--;
	else
		s->nconns--;
	if (c->sse)
		s->nsse--;
	c->sse = 0;
}

/* Close a connection (once); it leaves the server's list now. */
static void
http_conn_close(struct http_conn *c)
{
	http_conn_unlist(c);
	if (c->state == C_CLOSING)
		return;
	c->state = C_CLOSING;
	if (c->out == NULL && !uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, http_conn_closed_cb);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, http_conn_closed_cb);
}

/*
 * Timer: a request's head or body did not arrive in time (408), or no
 * request began within HTTP_HEADER_MS of the connection or of the last
 * answer (the connection just closes).
 */
static void
http_timer_cb(uv_timer_t *t)
{
	struct http_conn *c = t->data;

	if (c->state != C_READING)
		return;
	if (c->in_request && !c->last) {
		http_error(c, 408);
		return;
	}
	http_conn_close(c);
}

/* The parser this build uses and its version, for `hostswap version`. */
const char *
http_parser_name(void)
{
	static char name[64];
#ifdef HOSTSWAP_LLHTTP
	snprintf(name, sizeof name, "llhttp %d.%d.%d", LLHTTP_VERSION_MAJOR,
	    LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
#else
	unsigned long v = http_parser_version();

	snprintf(name, sizeof name, "http-parser %lu.%lu.%lu", (v >> 16) & 255,
	    (v >> 8) & 255, v & 255);
#endif
	return name;
}

/* Parse what was read: the bytes the parser took (up to a pause). */
static size_t
http_parse(struct http_conn *c)
{
#ifdef HOSTSWAP_LLHTTP
	const char *end;

	if (llhttp_execute(&c->parser, c->in.data, c->in.len) == HPE_OK)
		return c->in.len;
	end = llhttp_get_error_pos(&c->parser);
	return end != NULL ? (size_t)(end - c->in.data) : 0;
#else
	return http_parser_execute(
	    &c->parser, &http_settings, c->in.data, c->in.len);
#endif
}

/* Parse what was read; answer each complete request in order. */
static void
http_conn_parse(struct http_conn *c)
{
	size_t n;

	while (c->state == C_READING && !c->last && c->in.len > 0) {
		if (http_conn_queued(c) > HTTP_MAX_QUEUE) {
			/* The client does not read its answers: read and
			 * answer no more until it does (http_write_cb). */
			if (c->out == NULL && !c->paused)
				uv_read_stop((uv_stream_t *)&c->tcp);
			c->paused = 1;
			return;
		}
		n = http_parse(c);
		if (n > 0) {
			memmove(c->in.data, c->in.data + n, c->in.len - n);
			c->in.len -= n;
			c->in.data[c->in.len] = '\0';
		}
		if (c->complete) {
			if (c->error != 0)
				http_error(c, c->error);
			else
				c->server->handler(c->server->arg, c, &c->req);
			http_req_reset(c);
			if (c->state == C_READING && !c->last) {
				HTTP_RESUME(&c->parser);
				/* The next request's head is due from now. */
				uv_timer_start(&c->timer, http_timer_cb,
				    c->server->header_ms, 0);
			}
			continue;
		}
		if (HTTP_ERRNO(&c->parser) != HPE_OK &&
		    HTTP_ERRNO(&c->parser) != HPE_PAUSED) {
			http_error(c, c->error ? c->error : 400);
			return;
		}
		if (n == 0)
			return;
	}
}

/*
 * Bytes from the client: parse them and answer what is complete. Past
 * the last answer, and on an event stream, they are dropped.
 */
void
http_conn_feed(struct http_conn *c, const char *data, size_t len)
{
	if (len == 0 || c->state != C_READING || c->last)
		return;
	buf_add(&c->in, data, len);
	if (c->in.len > HTTP_MAX_INPUT) {
		/* More than one request may hold: stop reading. */
		http_error(c, 431);
		return;
	}
	http_conn_parse(c);
}

/* Read buffers: one per server, reused (reads are handled at once). */
static void
http_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct http_conn *c = h->data;

	(void)hint;
	b->base = c->server->rbuf;
	b->len = sizeof c->server->rbuf;
}

/* Bytes arrived, or the end. */
static void
http_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct http_conn *c = st->data;

	if (n < 0)
		http_conn_close(c);
	else
		http_conn_feed(c, b->base, (size_t)n);
}

/* A new connection object of the server, in its list and counts. */
static struct http_conn *
http_conn_new(struct http_server *s, enum http_conn_kind kind, struct buf *out)
{
	struct http_conn *c = xcalloc(1, sizeof *c);

	c->server = s;
	c->kind = kind;
	c->out = out;
	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	c->handles = 2; /* the timer, and the socket or the caller */
	if (out == NULL) {
		uv_tcp_init(s->loop, &c->tcp);
		c->tcp.data = c;
	}
	buf_init(&c->in);
	HTTP_PARSER_INIT(&c->parser);
	c->parser.data = c;
	c->next = s->conns;
	s->conns = c;
	c->listed = 1;
	if (kind == K_REFUSED)
		s->nrefusing++;
	else
		s->nconns++;
	return c;
}

/* A handle accepted only to be closed at once. */
static void
http_drop_closed_cb(uv_handle_t *h)
{
	free(h);
}

/*
 * A client connected. Past the connection limit it is still accepted —
 * left in the backlog it would wait there, and keep its client waiting,
 * for as long as the flood lasts — answered 503 and closed; past
 * HTTP_MAX_REFUSING such answers under way, closed without one.
 */
static void
http_connection_cb(uv_stream_t *l, int status)
{
	struct http_server *s = l->data;
	struct http_conn *c;
	uv_tcp_t *drop;
	int refuse;

	if (status < 0)
		return;
	refuse = s->nconns >= s->max_conns;
	if (refuse && s->nrefusing >= HTTP_MAX_REFUSING) {
		drop = xcalloc(1, sizeof *drop);
		uv_tcp_init(s->loop, drop);
		uv_accept(l, (uv_stream_t *)drop);
		uv_close((uv_handle_t *)drop, http_drop_closed_cb);
		return;
	}
	c = http_conn_new(s, refuse ? K_REFUSED : K_CONN, NULL);
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0) {
		http_conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_start(&c->timer, http_timer_cb, s->header_ms, 0);
	uv_read_start((uv_stream_t *)&c->tcp, http_alloc_cb, http_read_cb);
	if (refuse) {
		log_debug("%d HTTP connections open: one more refused (503)",
		    s->nconns);
		http_error(c, 503);
	}
}

/*
 * A connection without a socket: its answers are appended to out, its
 * requests come from http_conn_feed(). It counts as a connection until it
 * is closed (by the server, or by http_conn_free()); the caller's pointer
 * stays valid until http_conn_free(), its memory goes once the loop runs.
 */
struct http_conn *
http_conn_new_buffered(struct http_server *s, struct buf *out)
{
	struct http_conn *c = http_conn_new(s, K_CONN, out);

	uv_timer_start(&c->timer, http_timer_cb, s->header_ms, 0);
	return c;
}

/* Whether a connection still reads requests (not answered for the last
 * time, not an event stream, not closed). */
int
http_conn_reading(const struct http_conn *c)
{
	return c->state == C_READING && !c->last;
}

/* Close a connection made by http_conn_new_buffered() and let it go. */
void
http_conn_free(struct http_conn *c)
{
	http_conn_close(c);
	http_conn_unref(c);
}

/* The listening handle closed: free the server. */
static void
http_server_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

/*
 * Make room for the connections allowed, and no more. The endpoint holds
 * at most HTTP_MAX_CONNS + HTTP_MAX_REFUSING sockets and its listening
 * one; HTTP_FD_MARGIN is for the run itself: a socket per SSH session
 * (two while one reconnects), the state file (SQLite's database, journal
 * and lock: 4), checks and notifications through libcurl (a socket each
 * and its resolver's), local steps (3 pipes each, at most LOCAL_MAX_RUNNING
 * at once: 96), the loop's own (epoll,
 * signals, async), stdio and the plan, inventory, known_hosts and token
 * files while read. That is HTTP_NOFILE (576): the soft limit is raised
 * to it if lower (Linux's usual 1024 already covers it), never beyond the
 * hard limit and never lowered. Raising it to the hard maximum, as before,
 * let a flood of clients take descriptors without end; the connection
 * limits now bound them, and where even HTTP_NOFILE cannot be had, fewer
 * connections are served so that the run keeps its margin.
 */
static int
http_fit_nofile(void)
{
	struct rlimit rl;
	rlim_t want = HTTP_NOFILE, fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return HTTP_MAX_CONNS;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		fit = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want
		    ? want
		    : rl.rlim_max;
		rl.rlim_cur = fit;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug("cannot raise the open-file limit");
		else
			log_debug("open-file limit raised to %lu",
			    (unsigned long)fit);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		fit = rl.rlim_cur > HTTP_FD_MARGIN + HTTP_MAX_REFUSING + 16
		    ? rl.rlim_cur - HTTP_FD_MARGIN - HTTP_MAX_REFUSING - 1
		    : 16;
		log_warnx("the open-file limit is %lu: at most %lu HTTP "
			  "connections",
		    (unsigned long)rl.rlim_cur, (unsigned long)fit);
		return (int)fit;
	}
	return HTTP_MAX_CONNS;
}

/*
 * Listen on addr:port (port 0: any free one), or serve fd (not -1): a
 * socket already bound to addr:port and listening, which the server
 * takes, even on failure. Returns 0, or -1 with *err.
 */
int
http_server_new(uv_loop_t *loop, const char *addr, int port, int fd,
    http_handler handler, void *arg, struct http_server **out, char **err)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int rc, len = sizeof ss;

	*out = NULL;
	memset(&ss, 0, sizeof ss);
	if (uv_ip4_addr(addr, port, sin) != 0 &&
	    uv_ip6_addr(addr, port, sin6) != 0) {
		xasprintf(err, "%s is not an IP address", addr);
		free(s);
		if (fd != -1)
			close(fd);
		return -1;
	}
	s->max_conns = http_fit_nofile();
	s->loop = loop;
	s->header_ms = HTTP_HEADER_MS;
#ifdef HOSTSWAP_TEST_HOOKS
	/* Test builds: the slow-client test need not wait 10 s. */
	if (getenv("HOSTSWAP_HTTP_HEADER_MS") != NULL)
		s->header_ms =
		    strtoull(getenv("HOSTSWAP_HTTP_HEADER_MS"), NULL, 10);
#endif
	s->handler = handler;
	s->arg = arg;
	uv_tcp_init(loop, &s->tcp);
	s->tcp.data = s;
	if (fd != -1 && (rc = uv_tcp_open(&s->tcp, fd)) < 0)
		close(fd);
	if ((fd != -1 && rc < 0) ||
	    (fd == -1 &&
		(rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&ss, 0)) < 0) ||
	    (rc = uv_listen((uv_stream_t *)&s->tcp, 511, http_connection_cb)) <
		0) {
		xasprintf(err, "cannot listen on %s:%d: %s", addr, port,
		    uv_strerror(rc));
		s->closing = 1;
		uv_close((uv_handle_t *)&s->tcp, http_server_closed_cb);
		return -1;
	}
	uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&ss, &len);
	s->port = ss.ss_family == AF_INET6 ? ntohs(sin6->sin6_port)
					   : ntohs(sin->sin_port);
	*out = s;
	return 0;
}

/* The port it listens on. */
int
http_server_port(const struct http_server *s)
{
	return s->port;
}

/* How many requests got this status (0: all). */
uint64_t
http_server_requests(const struct http_server *s, int status)
{
	uint64_t n = 0;
	int i;

	if (status > 0 && status < 600)
		return s->counts[status];
	for (i = 0; i < 600; i++)
		n += s->counts[i];
	return n;
}

/* Stop listening and close every connection. */
void
http_server_free(struct http_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		http_conn_close(s->conns);
	uv_close((uv_handle_t *)&s->tcp, http_server_closed_cb);
}
