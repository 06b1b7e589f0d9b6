/*
 * probe.h: checks made from the controller (SPEC §2: http, smtp, pop3,
 * tcp) with libcurl's multi interface on the run's libuv loop. A check
 * never blocks the loop: its transfer is driven by uv_poll_t handles on
 * curl's sockets and one uv_timer_t for curl's timeouts.
 */
#ifndef HOSTSWAP_PROBE_H
#define HOSTSWAP_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cmp.h"

struct prober;
struct probe;

/* pop3's expect_subject reads the headers of this many messages at most,
 * the newest first. */
#define PROBE_POP3_LOOK 50

/* What a check is: the probe knows no plan, only these. */
enum probe_kind {
	PROBE_HTTP,
	PROBE_SMTP,
	PROBE_POP3,
	PROBE_TCP,
};

/* A name a check connects to a fixed address (the name kept for TLS). */
struct probe_name {
	const char *name;
	const char *address;
};

/* One check, every template already expanded by the caller. */
struct probe_req {
	enum probe_kind kind;
	uint64_t timeout_ms; /* the whole check; 0: none */

	/* http, smtp, pop3 */
	const char *url;
	/* http */
	const char *method; /* NULL: GET */
	const int *expect_status;
	size_t nexpect_status;  /* 0: 200 */
	const char *contains;   /* NULL: any body */
	const char *basic_auth; /* "user:password" or NULL */
	int insecure;           /* no TLS verification */
	int follow_redirects;   /* off by default */
	/* http with a request body (`body` below, e.g. a webhook's JSON):
	 * its Content-Type, or NULL for curl's form default. */
	const char *content_type;
	/* smtp */
	const char *from;
	const char *const *to;
	size_t nto;
	const char *subject;
	const char *body; /* smtp: the message's text; http: sent (POST) */
	/* pop3 */
	const char *user;
	const char *password;
	int has_expect;
	enum cmp_op expect_op;
	long expect_n;
	const char *expect_subject; /* NULL: any messages */
	/* tcp */
	const char *host;
	int port;
	int expect_closed; /* the port must refuse, not accept */

	/* From the inventory: names connected to fixed addresses (curl's
	 * RESOLVE: the name is kept for TLS), and a CA bundle. */
	const struct probe_name *resolve;
	size_t nresolve;
	const char *ca_file;
};

/*
 * What a check saw. `evidence` says what it found (status and size, the
 * matching line, the server's answer, the message count, the port's
 * state) whether or not it passed; `error` is NULL when it passed. Both
 * hold no password: userinfo in URLs is shown as "***".
 */
struct probe_result {
	int ok;
	const char *error;
	const char *evidence;
};

typedef void (*probe_done_cb)(void *, const struct probe_result *);

struct prober *prober_new(uv_loop_t *);
void prober_free(struct prober *);
struct probe *probe_start(
    struct prober *, const struct probe_req *, probe_done_cb, void *);
void probe_cancel(struct probe *);
char *probe_url_display(const char *);
int probe_url_target(const char *, char **, long *);
int probe_cmp(enum cmp_op, long, long);
const char *probe_cmp_name(enum cmp_op);

#endif
