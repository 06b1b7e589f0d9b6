/*
 * http.h: the daemon's HTTP/1.1 server on its own libuv loop (SPEC §6):
 * requests parsed by http-parser (paused after each, so pipelined
 * requests are answered in order), keep-alive, limits (431, 413), the
 * head and body deadlines (408), the connection and event-stream limits
 * (503), and Server-Sent Events streams with a per-client buffer cap.
 * What each path answers is api.c's.
 */
#ifndef HOSTSWAP_HTTP_H
#define HOSTSWAP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"

/* Limits and timeouts (SPEC §6). */
#define HTTP_MAX_HEADERS 8192  /* request line and headers: else 431 */
#define HTTP_MAX_BODY    65536 /* else 413 */
/* Unparsed input a connection may hold (a request and one more read). */
#define HTTP_MAX_INPUT    (HTTP_MAX_HEADERS + HTTP_MAX_BODY + 16384)
#define HTTP_MAX_QUEUE    262144  /* answers queued: parse no more */
#define HTTP_SSE_MAX_BUF  1048576 /* an SSE client this far behind is cut */
#define HTTP_HEADER_MS    10000   /* from the connection or the last answer */
#define HTTP_BODY_MS      10000   /* from the end of the head */
#define HTTP_LINGER_MS    1000    /* after the last answer, for the client */
#define HTTP_DRAIN_MS     3000    /* at the end, for event streams to empty */
#define HTTP_MAX_CONNS    256     /* connections at once, streams included */
#define HTTP_MAX_SSE      64      /* event streams at once */
#define HTTP_MAX_REFUSING 64      /* connections being answered 503 */
/* Descriptors kept for the run itself (http.c, http_fit_nofile()). */
#define HTTP_FD_MARGIN 256
#define HTTP_NOFILE    (HTTP_MAX_CONNS + HTTP_MAX_REFUSING + HTTP_FD_MARGIN)

struct http_server;
struct http_conn;

struct http_request {
	const char *method; /* "GET", "POST", ... */
	char *path;         /* without the query */
	char *host;         /* headers, or NULL */
	char *authorization;
	char *last_event_id;
	int gzip; /* Accept-Encoding names gzip */
	struct buf body;
};

/* Answers one request: must call http_respond() or http_sse_start(). */
typedef void (*http_handler)(
    void *, struct http_conn *, const struct http_request *);

int http_server_new(uv_loop_t *, const char *, int, int, http_handler, void *,
    struct http_server **, char **);
void http_server_free(struct http_server *);
int http_server_port(const struct http_server *);
uint64_t http_server_requests(const struct http_server *, int);
const char *http_parser_name(void);

void http_respond(
    struct http_conn *, int, const char *, const char *, size_t, const char *);
int http_sse_start(struct http_conn *, int64_t);
void http_sse_send(struct http_conn *, int64_t, const char *, size_t);
void http_server_broadcast(struct http_server *, int64_t, const char *, size_t);
size_t http_server_sse_queued(struct http_server *);

/* A connection without a socket (the fuzzer): answers go to a buffer. */
struct http_conn *http_conn_new_buffered(struct http_server *, struct buf *);
void http_conn_feed(struct http_conn *, const char *, size_t);
int http_conn_reading(const struct http_conn *);
void http_conn_free(struct http_conn *);

#endif
