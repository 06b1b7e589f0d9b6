/*
 * knock.c: notice a host's sshd coming back the moment it listens again.
 *
 * While a host reboots, a login attempted once a second notices its sshd
 * up to a second late. The port is knocked instead: a bare TCP connect
 * every KNOCK_EVERY_MS, closed as soon as it is accepted, no byte sent.
 * The watch calls back once when the port, seen closed (refused, or no
 * answer within KNOCK_TIMEOUT_MS: a machine that is down on a real
 * network), accepts a connection again; the caller then logs in.
 *
 * A port that accepts at the first knock (the host has not gone down yet,
 * or a login failed for a reason other than a closed port) is left alone
 * until the caller starts a new watch: each accepted knock is a line in
 * the host's sshd log, so a host that answers is knocked at most once per
 * watch. Numeric addresses only: a name would cost a resolver call per
 * knock (the caller's own once-a-second login still finds such a host).
 */
#include <stdlib.h>
#include <string.h>

#include "knock.h"
#include "xmalloc.h"

/* How often the port is knocked, and how long a knock may take. */
#define KNOCK_EVERY_MS   100
#define KNOCK_TIMEOUT_MS 400

/* One connection attempt; it outlives its watch until its handle closes. */
struct knock_try {
	uv_tcp_t tcp;
	uv_connect_t req;
	struct knock *k; /* NULL once its watch stopped or gave up on it */
};

struct knock {
	uv_timer_t timer; /* the next knock, or the one under way's limit */
	struct sockaddr_storage addr;
	knock_back_cb *back;
	void *arg;
	struct knock_try *tr; /* the knock under way, or NULL */
	int closed_seen;
};

static void knock_timer_cb(uv_timer_t *);

static void
knock_try_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Let go of the knock under way (its connect callback then ignores it). */
static void
knock_drop_try(struct knock *k)
{
	struct knock_try *tr = k->tr;

	if (tr == NULL)
		return;
	k->tr = NULL;
	tr->k = NULL;
	uv_close((uv_handle_t *)&tr->tcp, knock_try_closed_cb);
}

static void
knock_connect_cb(uv_connect_t *req, int status)
{
	struct knock_try *tr = req->data;
	struct knock *k = tr->k;

	if (k == NULL)
		return; /* dropped: its handle is closing */
	uv_timer_stop(&k->timer);
	knock_drop_try(k);
	if (status < 0) {
		k->closed_seen = 1;
		uv_timer_start(&k->timer, knock_timer_cb, KNOCK_EVERY_MS, 0);
	} else if (k->closed_seen)
		k->back(k->arg); /* once: no knock is scheduled after it */
}

/* The timer: a knock is due, or the one under way took too long. */
static void
knock_next(struct knock *k)
{
	struct knock_try *tr;

	if (k->tr != NULL) {
		knock_drop_try(k);
		k->closed_seen = 1;
	}
	tr = xcalloc(1, sizeof *tr);
	tr->k = k;
	tr->tcp.data = tr;
	tr->req.data = tr;
	uv_tcp_init(k->timer.loop, &tr->tcp);
	k->tr = tr;
	if (uv_tcp_connect(&tr->req, &tr->tcp,
		(const struct sockaddr *)&k->addr, knock_connect_cb) < 0) {
		/* No route, no socket: closed as far as a login can tell. */
		knock_drop_try(k);
		k->closed_seen = 1;
		uv_timer_start(&k->timer, knock_timer_cb, KNOCK_EVERY_MS, 0);
		return;
	}
	uv_timer_start(&k->timer, knock_timer_cb, KNOCK_TIMEOUT_MS, 0);
}

static void
knock_timer_cb(uv_timer_t *t)
{
	knock_next(t->data);
}

/*
 * Watch address:port; NULL when the address is not a numeric IPv4 or IPv6
 * address (nothing to watch: the caller polls as before).
 */
struct knock *
knock_watch(uv_loop_t *loop, const char *address, int port, knock_back_cb *back,
    void *arg)
{
	struct sockaddr_storage ss;
	struct knock *k;

	memset(&ss, 0, sizeof ss);
	if (address == NULL || port <= 0 || port > 65535 ||
	    (uv_ip4_addr(address, port, (struct sockaddr_in *)&ss) != 0 &&
		uv_ip6_addr(address, port, (struct sockaddr_in6 *)&ss) != 0))
		return NULL;
	k = xcalloc(1, sizeof *k);
	k->addr = ss;
	k->back = back;
	k->arg = arg;
	uv_timer_init(loop, &k->timer);
	k->timer.data = k;
	knock_next(k);
	return k;
}

static void
knock_timer_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Stop watching (safe from its own callback); k is gone afterwards. */
void
knock_stop(struct knock *k)
{
	if (k == NULL)
		return;
	knock_drop_try(k);
	uv_close((uv_handle_t *)&k->timer, knock_timer_closed_cb);
}
