/*
 * probe-int.h: what probe.c (the checks on the loop: curl's multi handle,
 * its sockets and timer, a probe's start and end) and probe-read.c (what
 * a check's answer says: pop3's messages walked one by one, each kind
 * judged into evidence and an error) share: a probe and its prober.
 */
#ifndef HOSTSWAP_PROBE_INT_H
#define HOSTSWAP_PROBE_INT_H

#include <curl/curl.h>
#include <uv.h>

#include "buf.h"
#include "probe.h"

/* The most of a body kept to look for `contains` (and for a count). */
#define PROBE_BODY_MAX (4u << 20)
/* The most of a message's headers kept to find its Subject. */
#define PROBE_HEADERS_MAX (64u << 10)
/* The most of a Subject shown in the evidence (it is the server's). */
#define PROBE_SUBJECT_SHOWN 200
/* A tcp check waits this long for a connection at most. */
#define PROBE_TCP_CONNECT_MS 10000

struct prober {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t *timer;
	struct probe *probes;     /* running */
	struct probe_sock *socks; /* watched */
	int busy;                 /* inside prober_drain(): free later */
	int dying;
};

/* One socket curl asked us to watch. */
struct probe_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct prober *p;
	struct probe_sock *next;
};

struct probe {
	struct prober *p;
	struct probe *next;
	CURL *easy;
	enum probe_kind kind;
	char *url;     /* as curl uses it */
	char *display; /* without a password */
	char *method;
	int *expect_status;
	size_t nexpect_status;
	char *contains;
	char *user; /* pop3: for the evidence */
	int has_expect;
	enum cmp_op expect_op;
	long expect_n;
	int expect_closed;
	char *subject;
	char *rcpt_text;
	/* pop3 with expect_subject: LIST, then TOP N 0 for the newest
	 * messages, one transfer each, until a Subject matches. */
	char *expect_subject;
	char *top_url;    /* the mailbox's URL, without a message number */
	int pop3_headers; /* the LIST is done: reading headers */
	long pop3_count;  /* the messages LIST counted */
	long pop3_msgs[PROBE_POP3_LOOK]; /* the numbers to read, newest first */
	size_t pop3_nmsgs, pop3_next;
	long pop3_match;      /* the message whose Subject matched, or 0 */
	struct buf pop3_seen; /* evidence: each message read, its Subject */
	uint64_t deadline;    /* uv_now(): the whole check's end; 0: none */
	size_t body_max;
	uint64_t timeout_ms;
	struct curl_slist *resolve;
	struct curl_slist *rcpt;
	struct curl_slist *headers; /* http: request headers */
	struct buf body;
	size_t body_total;
	char *payload; /* smtp: the message; http: the request body */
	size_t payload_len, payload_off;
	char errbuf[CURL_ERROR_SIZE];
	probe_done_cb cb;
	void *arg;
};

int probe_pop3_next(struct probe *);
void probe_judge(struct probe *, CURLcode, struct buf *, struct buf *);

#endif
