/*
 * preflight-reach.c: whether a check's host and port answer from the
 * controller — a name resolved with uv_getaddrinfo (off the loop), then a
 * TCP connect with uv_tcp_connect to each address in turn until one
 * answers, all within a time limit. Nothing is sent: the connection is
 * closed as soon as it is made. Each reach owns its handles and frees
 * itself after the last close callback.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "preflight-int.h"
#include "xmalloc.h"

struct reach {
	uv_loop_t *loop;
	uv_getaddrinfo_t gai;
	int gai_pending;
	struct addrinfo *ai;
	struct addrinfo *cur; /* the address being tried */
	uv_tcp_t tcp;
	int tcp_open;
	uv_connect_t creq;
	uv_timer_t timer;
	int handles; /* open uv handles */
	int status;  /* the last error */
	char addr[INET6_ADDRSTRLEN + 8];
	int finished;
	preflight_reach_cb cb;
	void *arg;
};

static void reach_try(struct reach *);

/* Free the reach once nothing of it is left on the loop. */
static void
reach_maybe_free(struct reach *re)
{
	if (re->handles > 0 || re->gai_pending)
		return;
	if (re->ai != NULL)
		uv_freeaddrinfo(re->ai);
	free(re);
}

/* A handle of the reach closed. */
static void
reach_closed_cb(uv_handle_t *h)
{
	struct reach *re = h->data;

	re->handles--;
	if (h == (uv_handle_t *)&re->tcp) {
		re->tcp_open = 0;
		/* The previous address refused: the next one, if any. */
		if (!re->finished && re->cur != NULL) {
			re->cur = re->cur->ai_next;
			reach_try(re);
		}
	}
	reach_maybe_free(re);
}

/* Report the outcome once, and close everything. */
static void
reach_finish(struct reach *re, int status)
{
	if (re->finished)
		return;
	re->finished = 1;
	re->cb(re->arg, status, re->addr);
	if (re->gai_pending)
		uv_cancel((uv_req_t *)&re->gai);
	if (!uv_is_closing((uv_handle_t *)&re->timer))
		uv_close((uv_handle_t *)&re->timer, reach_closed_cb);
	if (re->tcp_open && !uv_is_closing((uv_handle_t *)&re->tcp))
		uv_close((uv_handle_t *)&re->tcp, reach_closed_cb);
}

/* No answer in time. */
static void
reach_timer_cb(uv_timer_t *t)
{
	reach_finish(t->data, UV_ETIMEDOUT);
}

/* The connect ended: answered, or try the next address. */
static void
reach_connect_cb(uv_connect_t *req, int status)
{
	struct reach *re = req->data;

	if (re->finished)
		return;
	if (status == 0) {
		reach_finish(re, 0);
		return;
	}
	re->status = status;
	if (re->cur->ai_next == NULL) {
		reach_finish(re, status);
		return;
	}
	/* reach_closed_cb() tries the next address. */
	uv_close((uv_handle_t *)&re->tcp, reach_closed_cb);
}

/* Connect to the current address (or report the last error). */
static void
reach_try(struct reach *re)
{
	const struct sockaddr *sa;
	int rc;

	for (; re->cur != NULL; re->cur = re->cur->ai_next) {
		sa = re->cur->ai_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
			    &((const struct sockaddr_in *)(const void *)sa)
				 ->sin_addr,
			    re->addr, sizeof re->addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((const struct sockaddr_in6 *)(const void *)sa)
				 ->sin6_addr,
			    re->addr, sizeof re->addr);
		else
			continue;
		uv_tcp_init(re->loop, &re->tcp);
		re->tcp.data = re;
		re->tcp_open = 1;
		re->handles++;
		re->creq.data = re;
		if ((rc = uv_tcp_connect(
			 &re->creq, &re->tcp, sa, reach_connect_cb)) == 0)
			return;
		re->status = rc;
		if (re->cur->ai_next == NULL)
			break;
		/* reach_closed_cb() goes on with the next address. */
		uv_close((uv_handle_t *)&re->tcp, reach_closed_cb);
		return;
	}
	reach_finish(re, re->status != 0 ? re->status : UV_EAI_NONAME);
}

/* The name is resolved (or not). */
static void
reach_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct reach *re = req->data;

	re->gai_pending = 0;
	re->ai = ai;
	if (re->finished) {
		reach_maybe_free(re);
		return;
	}
	if (status < 0 || ai == NULL) {
		reach_finish(re, status < 0 ? status : UV_EAI_NONAME);
		return;
	}
	re->cur = ai;
	reach_try(re);
}

/*
 * Connect to host:port within timeout_ms; cb(arg, status, address) says
 * how it went: 0, or a libuv error (UV_ECONNREFUSED, UV_ETIMEDOUT, a
 * resolver error). cb may run before this returns.
 */
void
preflight_reach(uv_loop_t *loop, const char *host, int port,
    unsigned timeout_ms, preflight_reach_cb cb, void *arg)
{
	struct reach *re = xcalloc(1, sizeof *re);
	struct addrinfo hints;
	char service[16];
	int rc;

	re->loop = loop;
	re->cb = cb;
	re->arg = arg;
	snprintf(re->addr, sizeof re->addr, "%s", host);
	uv_timer_init(loop, &re->timer);
	re->timer.data = re;
	re->handles = 1;
	uv_timer_start(&re->timer, reach_timer_cb, timeout_ms, 0);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof service, "%d", port);
	re->gai.data = re;
	rc =
	    uv_getaddrinfo(loop, &re->gai, reach_gai_cb, host, service, &hints);
	if (rc < 0) {
		reach_finish(re, rc);
		return;
	}
	re->gai_pending = 1;
}
