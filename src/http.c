/*
 * http.c: the daemon's HTTP/1.1 server, on the run's own libuv loop (no
 * second thread). A connection reads into http-parser (Debian's
 * libhttp-parser), which is paused at the end of every request: the
 * request is answered, then parsing goes on with the bytes already read,
 * so pipelined requests are answered in order. Limits: the request line
 * and headers in HTTP_MAX_HEADERS bytes (431), a body of HTTP_MAX_BODY
 * (413); a request's head must arrive within HTTP_HEADER_MS (slow clients
 * are cut off) and an idle keep-alive connection closes after
 * HTTP_IDLE_MS. A connection that became an event stream (SSE) reads no
 * more requests and is cut if it falls HTTP_SSE_MAX_BUF behind.
 *
 * Each connection owns its handles; it is freed in its close callback.
 */
#include <sys/resource.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	http_handler handler;
	void *arg;
	int port;
	struct http_conn *conns;
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

struct http_conn {
	struct http_server *server;
	struct http_conn *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	int handles;
	enum http_conn_state state;
	http_parser parser;
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
http_on_begin(http_parser *p)
{
	struct http_conn *c = p->data;

	c->in_request = 1;
	return 0;
}

/* Parser: part of the URL. */
static int
http_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (http_head_add(c, len) == -1)
		return -1;
	buf_add(&c->url, at, len);
	return 0;
}

/* Parser: part of a header's name. */
static int
http_on_field(http_parser *p, const char *at, size_t len)
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
http_on_value(http_parser *p, const char *at, size_t len)
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
http_on_headers(http_parser *p)
{
	struct http_conn *c = p->data;
	char *q;

	http_header_done(c);
	if (p->content_length != (uint64_t)-1 &&
	    p->content_length > HTTP_MAX_BODY) {
		c->error = 413;
		return -1;
	}
	c->req.method = http_method_str((enum http_method)p->method);
	c->req.path = buf_release(&c->url);
	if ((q = strchr(c->req.path, '?')) != NULL)
		*q = '\0';
	c->keep_alive = http_should_keep_alive(p);
	uv_timer_stop(&c->timer);
	return 0;
}

/* Parser: part of the body. */
static int
http_on_body(http_parser *p, const char *at, size_t len)
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
http_on_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	c->complete = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings http_settings = {
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
	uv_timer_start(&c->timer, http_linger_cb, 1000, 0);
}

/* A write ended: free it; after the last word, shut down and linger. */
static void
http_write_cb(uv_write_t *req, int status)
{
	struct http_write *w = req->data;
	struct http_conn *c = w->conn;

	if (c->state != C_CLOSING) {
		if (status < 0)
			http_conn_close(c);
		else if (w->close_after) {
			c->shutdown.data = c;
			if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
				http_shutdown_cb) < 0)
				http_conn_close(c);
		}
	}
	free(w->data);
	free(w);
}

/* Queue bytes on the connection (taking data). */
static void
http_write(struct http_conn *c, char *data, size_t len, int close_after)
{
	struct http_write *w = xcalloc(1, sizeof *w);
	uv_buf_t b = uv_buf_init(data, (unsigned)len);

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
 * with a sequence number above seq later (http_sse_send()).
 */
void
http_sse_start(struct http_conn *c, int64_t seq)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\r\n"
	    ": hostswap events\n\n";

	c->server->counts[200]++;
	c->state = C_SSE;
	c->sse_seq = seq;
	uv_timer_stop(&c->timer);
	http_write(c, xstrdup(head), sizeof head - 1, 0);
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
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
	    HTTP_SSE_MAX_BUF) {
		log_debug("an event stream client is too slow: cut");
		http_conn_close(c);
		return;
	}
	if (seq != 0)
		c->sse_seq = seq;
	http_write(c, xstrndup(text, len), len, 0);
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

/* A handle of a connection closed; the last one frees it. */
static void
http_conn_closed_cb(uv_handle_t *h)
{
	struct http_conn *c = h->data;

	if (--c->handles > 0)
		return;
	http_req_reset(c);
	buf_free(&c->in);
	free(c);
}

/* Close a connection (once); it leaves the server's list now. */
static void
http_conn_close(struct http_conn *c)
{
	struct http_conn **cp;

	if (c->state == C_CLOSING && c->handles == 0)
		return;
	for (cp = &c->server->conns; *cp != NULL; cp = &(*cp)->next) {
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	}
	if (c->handles == 0)
		return;
	c->state = C_CLOSING;
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, http_conn_closed_cb);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, http_conn_closed_cb);
}

/* Timer: a slow request head, or an idle keep-alive connection. */
static void
http_timer_cb(uv_timer_t *t)
{
	struct http_conn *c = t->data;

	if (c->state != C_READING)
		return;
	if (c->in_request) {
		http_error(c, 408);
		return;
	}
	http_conn_close(c);
}

/* Parse what was read; answer each complete request in order. */
static void
http_conn_parse(struct http_conn *c)
{
	size_t n;

	while (c->state == C_READING && !c->last && c->in.len > 0) {
		n = http_parser_execute(
		    &c->parser, &http_settings, c->in.data, c->in.len);
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
				http_parser_pause(&c->parser, 0);
				uv_timer_start(
				    &c->timer, http_timer_cb, HTTP_IDLE_MS, 0);
			}
			continue;
		}
		if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK &&
		    HTTP_PARSER_ERRNO(&c->parser) != HPE_PAUSED) {
			http_error(c, c->error ? c->error : 400);
			return;
		}
		if (n == 0)
			return;
	}
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

	if (n < 0) {
		http_conn_close(c);
		return;
	}
	if (n > 0 && c->state == C_READING && !c->last) {
		if (!c->in_request && c->in.len == 0)
			uv_timer_start(
			    &c->timer, http_timer_cb, c->server->header_ms, 0);
		buf_add(&c->in, b->base, (size_t)n);
		if (c->in.len > HTTP_MAX_HEADERS + HTTP_MAX_BODY + 16384) {
			/* More than one request may hold: stop reading. */
			http_error(c, 431);
			return;
		}
		http_conn_parse(c);
	}
}

/* A client connected. */
static void
http_connection_cb(uv_stream_t *l, int status)
{
	struct http_server *s = l->data;
	struct http_conn *c;

	if (status < 0)
		return;
	c = xcalloc(1, sizeof *c);
	c->server = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	buf_init(&c->in);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->next = s->conns;
	s->conns = c;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0) {
		http_conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_start(&c->timer, http_timer_cb, s->header_ms, 0);
	uv_read_start((uv_stream_t *)&c->tcp, http_alloc_cb, http_read_cb);
}

/* The listening handle closed: free the server. */
static void
http_server_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Raise the open-file limit to its hard maximum: many clients are fine. */
static void
http_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug("cannot raise the open-file limit");
	}
}

/*
 * Listen on addr:port (port 0: any free one). Returns 0, or -1 with *err.
 */
int
http_server_new(uv_loop_t *loop, const char *addr, int port,
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
		return -1;
	}
	http_raise_nofile();
	s->loop = loop;
	s->header_ms = HTTP_HEADER_MS;
#ifdef HOSTSWAP_CRASH_POINTS
	/* Test builds: the slow-client test need not wait 10 s. */
	if (getenv("HOSTSWAP_HTTP_HEADER_MS") != NULL)
		s->header_ms =
		    strtoull(getenv("HOSTSWAP_HTTP_HEADER_MS"), NULL, 10);
#endif
	s->handler = handler;
	s->arg = arg;
	uv_tcp_init(loop, &s->tcp);
	s->tcp.data = s;
	if ((rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&ss, 0)) < 0 ||
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
