/*
 * http.h: the daemon's HTTP/1.1 server on its own libuv loop (SPEC §6):
 * requests parsed by http-parser (paused after each, so pipelined
 * requests are answered in order), keep-alive, limits (431, 413), idle
 * and slow-client timeouts, the Host check (403), and Server-Sent Events
 * streams with a per-client buffer cap. What each path answers is api.c's.
 */
#ifndef HOSTSWAP_HTTP_H
#define HOSTSWAP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"

/* Limits and timeouts. */
#define HTTP_MAX_HEADERS 8192    /* request line and headers: else 431 */
#define HTTP_MAX_BODY    65536   /* else 413 */
#define HTTP_HEADER_MS   10000   /* a request's head must arrive in this */
#define HTTP_IDLE_MS     60000   /* an idle keep-alive connection closes */
#define HTTP_SSE_MAX_BUF 1048576 /* an SSE client this far behind is cut */

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

int http_server_new(uv_loop_t *, const char *, int, http_handler, void *,
    struct http_server **, char **);
void http_server_free(struct http_server *);
int http_server_port(const struct http_server *);
uint64_t http_server_requests(const struct http_server *, int);

void http_respond(
    struct http_conn *, int, const char *, const char *, size_t, const char *);
void http_sse_start(struct http_conn *, int64_t);
void http_sse_send(struct http_conn *, int64_t, const char *, size_t);
void http_server_broadcast(struct http_server *, int64_t, const char *, size_t);

#endif
