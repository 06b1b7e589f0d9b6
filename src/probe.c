/*
 * probe.c: the checks made from the controller — http, smtp, pop3, tcp —
 * with libcurl's multi interface inside the run's libuv loop (the shape
 * of curl's docs/examples/multi-uv.c, with the error checks it leaves
 * out). A prober owns one multi handle and one timer; curl tells it which
 * sockets to watch (a uv_poll_t each) and when to wake it. A probe is one
 * easy handle: it ends with a result that says what it saw, passed or
 * not. Nothing here blocks the loop; what an answer says is read and
 * judged in probe-read.c (the two share probe-int.h, the only files
 * that include curl.h for checks). Notifications (notify.c) use the same
 * probes: a mail through smtp, a webhook as an http POST with a body.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "probe-int.h"
#include "xmalloc.h"

static void prober_drain(struct prober *);

/* A URL as it may be shown: any password in it replaced by "***". */
char *
probe_url_display(const char *url)
{
	const char *s, *at, *colon, *end;
	struct buf b;

	if (url == NULL)
		return xstrdup("");
	if ((s = strstr(url, "://")) == NULL)
		return xstrdup(url);
	s += 3;
	end = s + strcspn(s, "/?#");
	at = NULL;
	for (const char *c = s; c < end; c++)
		if (*c == '@')
			at = c;
	if (at == NULL)
		return xstrdup(url);
	colon = memchr(s, ':', (size_t)(at - s));
	buf_init(&b);
	/* user:password@ keeps the user; a lone userinfo may be a token. */
	buf_add(&b, url, (size_t)((colon != NULL ? colon + 1 : s) - url));
	buf_adds(&b, "***");
	buf_adds(&b, at);
	return buf_release(&b);
}

/* Whether `a OP b` holds. */
int
probe_cmp(enum cmp_op op, long a, long b)
{
	switch (op) {
	case CMP_EQ:
		return a == b;
	case CMP_NE:
		return a != b;
	case CMP_LT:
		return a < b;
	case CMP_LE:
		return a <= b;
	case CMP_GT:
		return a > b;
	case CMP_GE:
		return a >= b;
	}
	return 0;
}

/* The operator's text: ">=" and so on. */
const char *
probe_cmp_name(enum cmp_op op)
{
	static const char *const names[] = { "=", "!=", "<", "<=", ">", ">=" };

	return (size_t)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

/* A socket handle closed: free it. */
static void
probe_sock_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Stop watching a socket: off the list, its handle closed. */
static void
probe_sock_close(struct probe_sock *s)
{
	struct probe_sock **pp;

	for (pp = &s->p->socks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, probe_sock_closed_cb);
}

/* A socket is ready: hand it to curl, then collect what ended. */
static void
probe_sock_cb(uv_poll_t *h, int status, int events)
{
	struct probe_sock *s = h->data;
	struct prober *p = s->p;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(p->multi, s->fd, flags, &running);
	prober_drain(p);
}

/* curl's socket callback: watch, change or forget a socket. */
static int
probe_socket_cb(
    CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct prober *p = userp;
	struct probe_sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			probe_sock_close(s);
			curl_multi_assign(p->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->fd = fd;
		s->p = p;
		if (uv_poll_init_socket(p->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->next = p->socks;
		p->socks = s;
		curl_multi_assign(p->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	return uv_poll_start(&s->poll, events, probe_sock_cb) == 0 ? 0 : -1;
}

/* The timer curl asked for is due. */
static void
probe_timer_cb(uv_timer_t *h)
{
	struct prober *p = h->data;
	int running;

	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	prober_drain(p);
}

/* curl's timer callback: wake us in timeout_ms (-1: never). */
static int
probe_timer_set_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct prober *p = userp;

	(void)multi;
	if (timeout_ms < 0)
		return uv_timer_stop(p->timer) == 0 ? 0 : -1;
	/* 0 too goes through the loop: curl must not be re-entered here. */
	return uv_timer_start(
		   p->timer, probe_timer_cb, (uint64_t)timeout_ms, 0) == 0
	    ? 0
	    : -1;
}

/* A prober on the loop. */
struct prober *
prober_new(uv_loop_t *loop)
{
	struct prober *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	if ((p->multi = curl_multi_init()) == NULL) {
		free(p);
		return NULL;
	}
	p->timer = xcalloc(1, sizeof *p->timer);
	uv_timer_init(loop, p->timer);
	p->timer->data = p;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, probe_socket_cb);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, probe_timer_set_cb);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	return p;
}

/* Free what a probe holds (its easy handle is already out of the multi). */
static void
probe_release(struct probe *pr)
{
	if (pr->easy != NULL)
		curl_easy_cleanup(pr->easy);
	curl_slist_free_all(pr->resolve);
	curl_slist_free_all(pr->rcpt);
	curl_slist_free_all(pr->headers);
	buf_free(&pr->body);
	buf_free(&pr->pop3_seen);
	free(pr->expect_subject);
	if (pr->top_url != NULL)
		explicit_bzero(pr->top_url, strlen(pr->top_url));
	free(pr->top_url);
	if (pr->payload != NULL)
		explicit_bzero(pr->payload, pr->payload_len);
	free(pr->payload);
	if (pr->url != NULL)
		explicit_bzero(pr->url, strlen(pr->url));
	free(pr->url);
	free(pr->display);
	free(pr->method);
	free(pr->expect_status);
	free(pr->contains);
	free(pr->user);
	free(pr->subject);
	free(pr->rcpt_text);
	free(pr);
}

/* Take a probe off the prober's list and out of the multi. */
static void
probe_unlink(struct probe *pr)
{
	struct probe **pp;

	for (pp = &pr->p->probes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			break;
		}
	curl_multi_remove_handle(pr->p->multi, pr->easy);
}

/* The timer handle closed: the prober goes. */
static void
prober_timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* Really free a prober: every probe, the multi, the timer. */
static void
prober_destroy(struct prober *p)
{
	while (p->probes != NULL) {
		struct probe *pr = p->probes;

		probe_unlink(pr);
		probe_release(pr);
	}
	curl_multi_cleanup(p->multi);
	/* Sockets of cached connections curl did not hand back. */
	while (p->socks != NULL)
		probe_sock_close(p->socks);
	uv_close((uv_handle_t *)p->timer, prober_timer_closed_cb);
	free(p);
}

/* Free a prober; its probes end without their callbacks. */
void
prober_free(struct prober *p)
{
	if (p == NULL)
		return;
	if (p->busy) {
		p->dying = 1;
		return;
	}
	prober_destroy(p);
}

/* Body (http) or listing (pop3) bytes; kept up to a bound. */
static size_t
probe_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct probe *pr = arg;
	size_t len = size * n;

	pr->body_total += len;
	if (pr->body.len < pr->body_max)
		buf_add(&pr->body, data,
		    len < pr->body_max - pr->body.len
			? len
			: pr->body_max - pr->body.len);
	return len;
}

/* The smtp message, handed to curl in pieces. */
static size_t
probe_read_cb(char *dst, size_t size, size_t n, void *arg)
{
	struct probe *pr = arg;
	size_t len = size * n, left = pr->payload_len - pr->payload_off;

	if (len > left)
		len = left;
	memcpy(dst, pr->payload + pr->payload_off, len);
	pr->payload_off += len;
	return len;
}

/*
 * The host and port a URL connects to (the default port of its scheme
 * when it names none; an IPv6 address without its brackets). -1 if it
 * is not a URL with a host and a port.
 */
int
probe_url_target(const char *url, char **host, long *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *pt = NULL;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) ==
		CURLUE_OK) {
		if (h[0] == '[' && h[strlen(h) - 1] == ']')
			*host = xstrndup(h + 1, strlen(h) - 2);
		else
			*host = xstrdup(h);
		*port = strtol(pt, NULL, 10);
		rc = *port > 0 && *port <= 65535 ? 0 : -1;
		if (rc == -1) {
			free(*host);
			*host = NULL;
		}
	}
	curl_free(h);
	curl_free(pt);
	curl_url_cleanup(u);
	return rc;
}

/*
 * A pop3 URL without a message number (its path "/"): the URL the TOP
 * requests go to, each naming its message itself. The URL as it is when
 * curl cannot parse it (the LIST fails on it first).
 */
static char *
probe_mailbox_url(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *r;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, "/", 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		r = xstrdup(s);
		explicit_bzero(s, strlen(s));
		curl_free(s);
	} else
		r = xstrdup(url);
	curl_url_cleanup(u);
	return r;
}

/* curl's RESOLVE entry for a name the inventory maps, if it maps it. */
static void
probe_add_resolve(
    struct probe *pr, const struct probe_req *q, const char *host, long port)
{
	char *entry;
	size_t i;

	for (i = 0; i < q->nresolve; i++) {
		if (strcasecmp(q->resolve[i].name, host) != 0)
			continue;
		if (strchr(q->resolve[i].address, ':') != NULL)
			xasprintf(&entry, "%s:%ld:[%s]", host, port,
			    q->resolve[i].address);
		else
			xasprintf(&entry, "%s:%ld:%s", host, port,
			    q->resolve[i].address);
		pr->resolve = curl_slist_append(pr->resolve, entry);
		free(entry);
		return;
	}
}

/* An RFC 5322 date for the test message. */
static void
probe_mail_date(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The smtp test message: headers naming the run, then the body. */
static void
probe_smtp_payload(struct probe *pr, const struct probe_req *q)
{
	struct buf b;
	char date[64];
	size_t i;

	probe_mail_date(date, sizeof date);
	buf_init(&b);
	buf_printf(&b, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, q->from);
	for (i = 0; i < q->nto; i++)
		buf_printf(&b, "%s<%s>", i ? ", " : "", q->to[i]);
	buf_printf(&b,
	    "\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "X-Mailer: hostswap\r\n\r\n",
	    q->subject);
	/* Lines start with no dot-stuffing problem: curl stuffs dots. */
	buf_adds(&b, q->body != NULL ? q->body : "");
	buf_adds(&b, "\r\n");
	pr->payload_len = b.len;
	pr->payload = buf_release(&b);
}

/*
 * An http request with a body (a POST): the probe keeps its own copy,
 * which curl only points to, and sends it at once, without waiting for
 * "100 Continue".
 */
static void
probe_http_body(struct probe *pr, const struct probe_req *q)
{
	char *h;

	pr->payload_len = strlen(q->body);
	pr->payload = xstrdup(q->body);
	curl_easy_setopt(
	    pr->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)pr->payload_len);
	curl_easy_setopt(pr->easy, CURLOPT_POSTFIELDS, pr->payload);
	pr->headers = curl_slist_append(pr->headers, "Expect:");
	if (q->content_type != NULL) {
		xasprintf(&h, "Content-Type: %s", q->content_type);
		pr->headers = curl_slist_append(pr->headers, h);
		free(h);
	}
	curl_easy_setopt(pr->easy, CURLOPT_HTTPHEADER, pr->headers);
}

/* Set the easy handle up for the probe's kind. */
static int
probe_setup(struct probe *pr, const struct probe_req *q)
{
	CURL *e = pr->easy;
	char *host = NULL, *tcpurl = NULL;
	long port = 0;
	size_t i;

	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Each check sees the server afresh, on a connection of its own:
	 * a reused POP3 session shows its mailbox as it was at its login. */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, pr->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, pr);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "hostswap/" HOSTSWAP_VERSION);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (q->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms);
	if (q->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, q->ca_file);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, probe_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, pr);

	switch (q->kind) {
	case PROBE_TCP:
		if (strchr(q->host, ':') != NULL)
			xasprintf(&tcpurl, "http://[%s]:%d/", q->host, q->port);
		else
			xasprintf(&tcpurl, "http://%s:%d/", q->host, q->port);
		pr->url = tcpurl;
		xasprintf(&pr->display, "%s:%d", q->host, q->port);
		curl_easy_setopt(e, CURLOPT_URL, tcpurl);
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)(q->timeout_ms > 0 &&
				q->timeout_ms < PROBE_TCP_CONNECT_MS
			    ? q->timeout_ms
			    : PROBE_TCP_CONNECT_MS));
		probe_add_resolve(pr, q, q->host, q->port);
		break;
	case PROBE_HTTP:
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		if (q->body != NULL)
			probe_http_body(pr, q);
		if (q->method == NULL || strcmp(q->method, "GET") == 0 ||
		    (q->body != NULL && strcmp(q->method, "POST") == 0))
			;
		else if (strcmp(q->method, "HEAD") == 0)
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		else
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
		if (q->basic_auth != NULL) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(e, CURLOPT_USERPWD, q->basic_auth);
		}
		if (q->insecure) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (q->follow_redirects)
			curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		break;
	case PROBE_SMTP:
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, q->from);
		for (i = 0; i < q->nto; i++)
			pr->rcpt = curl_slist_append(pr->rcpt, q->to[i]);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, pr->rcpt);
		probe_smtp_payload(pr, q);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, probe_read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, pr);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(
		    e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)pr->payload_len);
		break;
	case PROBE_POP3:
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "pop3,pop3s");
		curl_easy_setopt(e, CURLOPT_USERNAME, q->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, q->password);
		break;
	default:
		return -1;
	}
	if (q->kind != PROBE_TCP) {
		pr->url = xstrdup(q->url);
		pr->display = probe_url_display(q->url);
		curl_easy_setopt(e, CURLOPT_URL, pr->url);
		if (probe_url_target(q->url, &host, &port) == 0) {
			probe_add_resolve(pr, q, host, port);
			free(host);
		}
	}
	if (pr->resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, pr->resolve);
	return 0;
}

/* Start a check; its callback runs once, from the loop, unless cancelled. */
struct probe *
probe_start(
    struct prober *p, const struct probe_req *q, probe_done_cb cb, void *arg)
{
	struct probe *pr = xcalloc(1, sizeof *pr);
	size_t i;

	pr->p = p;
	pr->kind = q->kind;
	pr->cb = cb;
	pr->arg = arg;
	pr->timeout_ms = q->timeout_ms;
	if (q->timeout_ms > 0)
		pr->deadline = uv_now(p->loop) + q->timeout_ms;
	pr->body_max = PROBE_BODY_MAX;
	buf_init(&pr->body);
	buf_init(&pr->pop3_seen);
	if (q->method != NULL)
		pr->method = xstrdup(q->method);
	else
		pr->method = xstrdup(
		    q->kind == PROBE_HTTP && q->body != NULL ? "POST" : "GET");
	if (q->nexpect_status > 0) {
		pr->expect_status = xreallocarray(
		    NULL, q->nexpect_status, sizeof *pr->expect_status);
		memcpy(pr->expect_status, q->expect_status,
		    q->nexpect_status * sizeof *pr->expect_status);
		pr->nexpect_status = q->nexpect_status;
	} else {
		pr->expect_status = xcalloc(1, sizeof *pr->expect_status);
		pr->expect_status[0] = 200;
		pr->nexpect_status = 1;
	}
	pr->contains = q->contains != NULL ? xstrdup(q->contains) : NULL;
	pr->user = q->user != NULL ? xstrdup(q->user) : NULL;
	pr->has_expect = q->has_expect;
	pr->expect_op = q->expect_op;
	pr->expect_n = q->expect_n;
	pr->expect_closed = q->expect_closed;
	pr->subject = q->subject != NULL ? xstrdup(q->subject) : NULL;
	if (q->kind == PROBE_POP3 && q->expect_subject != NULL) {
		pr->expect_subject = xstrdup(q->expect_subject);
		pr->top_url = probe_mailbox_url(q->url);
	}
	if (q->kind == PROBE_SMTP) {
		struct buf b;

		buf_init(&b);
		for (i = 0; i < q->nto; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", q->to[i]);
		pr->rcpt_text = buf_release(&b);
	}
	if ((pr->easy = curl_easy_init()) == NULL || probe_setup(pr, q) == -1 ||
	    curl_multi_add_handle(p->multi, pr->easy) != CURLM_OK) {
		probe_release(pr);
		return NULL;
	}
	pr->next = p->probes;
	p->probes = pr;
	return pr;
}

/* Forget a check: it ends now and its callback never runs. */
void
probe_cancel(struct probe *pr)
{
	if (pr == NULL)
		return;
	probe_unlink(pr);
	probe_release(pr);
}

/* A probe's transfer ended: judge it, tell its owner, free it. */
static void
probe_done(struct probe *pr, CURLcode rc)
{
	struct probe_result res;
	struct buf ev, err;

	buf_init(&ev);
	buf_init(&err);
	if (pr->kind == PROBE_POP3 && pr->expect_subject != NULL &&
	    rc == CURLE_OK && probe_pop3_next(pr))
		return; /* the next message's headers are on their way */
	probe_judge(pr, rc, &ev, &err);
	/* What curl could not do is also what the check saw. */
	if (ev.len == 0 && err.len > 0)
		buf_printf(&ev, "%.*s\n", (int)err.len, err.data);
	buf_addc(&ev, '\0');
	buf_addc(&err, '\0');
	res.ok = err.len <= 1;
	res.error = res.ok ? NULL : err.data;
	res.evidence = ev.data;
	probe_unlink(pr);
	pr->cb(pr->arg, &res);
	buf_free(&ev);
	buf_free(&err);
	probe_release(pr);
}

/* Collect every transfer curl says has ended. */
static void
prober_drain(struct prober *p)
{
	CURLMsg *m;
	int left;
	struct probe *pr;

	p->busy++;
	while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		pr = NULL;
		curl_easy_getinfo(
		    m->easy_handle, CURLINFO_PRIVATE, (char **)&pr);
		if (pr != NULL)
			probe_done(pr, m->data.result);
		if (p->dying)
			break;
	}
	p->busy--;
	if (p->dying && p->busy == 0)
		prober_destroy(p);
}
