/*
 * Unit tests of probe.c on a real libuv loop and real loopback sockets:
 * a port that listens and one that does not, a cancelled probe, the
 * prober freed with a probe under way, an http POST with a body (as a
 * webhook sends it), and URLs shown without passwords.
 * Each test ends by running the loop dry: no handle may be left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "probe.h"

struct seen {
	int calls;
	int ok;
	char error[512];
	char evidence[512];
};

static void
seen_cb(void *arg, const struct probe_result *res)
{
	struct seen *s = arg;

	s->calls++;
	s->ok = res->ok;
	snprintf(s->error, sizeof s->error, "%s", res->error ? res->error : "");
	snprintf(s->evidence, sizeof s->evidence, "%s", res->evidence);
}

/* A connection arrived: left unaccepted, so nothing ever answers it. */
static void
ignore_cb(uv_stream_t *srv, int status)
{
	(void)srv;
	(void)status;
}

/* A listening socket on 127.0.0.1 and its port. */
static int
listen_any_port(uv_loop_t *loop, uv_tcp_t *srv)
{
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof got;

	uv_tcp_init(loop, srv);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(srv, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)srv, 8, ignore_cb), 0);
	uv_tcp_getsockname(srv, (struct sockaddr *)&got, &len);
	return ntohs(((struct sockaddr_in *)&got)->sin_port);
}

static void
tcp_req(struct probe_req *q, int port, int expect_closed)
{
	memset(q, 0, sizeof *q);
	q->kind = PROBE_TCP;
	q->host = "127.0.0.1";
	q->port = port;
	q->expect_closed = expect_closed;
	q->timeout_ms = 5000;
}

static void
tcp_open_and_closed(void **state)
{
	uv_loop_t loop;
	uv_tcp_t srv;
	struct prober *p;
	struct probe_req q;
	struct seen open = { 0 }, closed = { 0 }, wrong = { 0 };
	int port;

	(void)state;
	uv_loop_init(&loop);
	port = listen_any_port(&loop, &srv);
	p = prober_new(&loop);
	assert_non_null(p);
	tcp_req(&q, port, 0);
	assert_non_null(probe_start(p, &q, seen_cb, &open));
	/* Port 1 on loopback: nobody listens there. */
	tcp_req(&q, 1, 1);
	assert_non_null(probe_start(p, &q, seen_cb, &closed));
	tcp_req(&q, 1, 0);
	assert_non_null(probe_start(p, &q, seen_cb, &wrong));
	while (open.calls == 0 || closed.calls == 0 || wrong.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(open.calls, 1);
	assert_true(open.ok);
	assert_non_null(strstr(open.evidence, "open"));
	assert_true(closed.ok);
	assert_non_null(strstr(closed.evidence, "connection refused"));
	assert_false(wrong.ok);
	assert_non_null(strstr(wrong.error, "127.0.0.1:1"));
	assert_non_null(strstr(wrong.error, "expected open"));
	prober_free(p);
	uv_close((uv_handle_t *)&srv, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
cancel_and_free_under_way(void **state)
{
	uv_loop_t loop;
	uv_tcp_t srv;
	struct prober *p;
	struct probe_req q;
	struct probe *pr;
	struct seen a = { 0 }, b = { 0 };
	int port;

	(void)state;
	uv_loop_init(&loop);
	port = listen_any_port(&loop, &srv);
	p = prober_new(&loop);
	memset(&q, 0, sizeof q);
	q.kind = PROBE_HTTP;
	q.timeout_ms = 5000;
	{
		char url[64];

		/* The listener never answers: the request stays under way. */
		snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
		q.url = url;
		pr = probe_start(p, &q, seen_cb, &a);
		assert_non_null(pr);
		assert_non_null(probe_start(p, &q, seen_cb, &b));
	}
	uv_run(&loop, UV_RUN_NOWAIT);
	probe_cancel(pr);
	prober_free(p);
	uv_close((uv_handle_t *)&srv, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A one-request HTTP server: keeps the request whole, answers 201. */
struct post_srv {
	uv_tcp_t srv;
	uv_tcp_t conn;
	int accepted;
	char req[16384];
	size_t len;
	int answered;
	uv_write_t w;
};

static void
post_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct post_srv *s = h->data;

	(void)hint;
	b->base = s->req + s->len;
	b->len = sizeof s->req - 1 - s->len;
}

/* Whether the headers and Content-Length bytes of body have arrived. */
static int
post_whole(struct post_srv *s)
{
	const char *end, *cl;

	s->req[s->len] = '\0';
	if ((end = strstr(s->req, "\r\n\r\n")) == NULL)
		return 0;
	if ((cl = strstr(s->req, "\r\nContent-Length: ")) == NULL)
		return 1;
	return s->len - (size_t)(end + 4 - s->req) >=
	    strtoul(cl + 18, NULL, 10);
}

static void
post_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	static char answer[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n"
			       "Connection: close\r\n\r\n";
	struct post_srv *s = st->data;
	uv_buf_t out;

	(void)b;
	if (n < 0) {
		uv_read_stop(st);
		return;
	}
	s->len += (size_t)n;
	if (s->answered || !post_whole(s))
		return;
	s->answered = 1;
	out = uv_buf_init(answer, sizeof answer - 1);
	uv_write(&s->w, st, &out, 1, NULL);
}

static void
post_conn_cb(uv_stream_t *srv, int status)
{
	struct post_srv *s = srv->data;

	assert_int_equal(status, 0);
	assert_false(s->accepted);
	uv_tcp_init(srv->loop, &s->conn);
	s->conn.data = s;
	s->accepted = 1;
	assert_int_equal(uv_accept(srv, (uv_stream_t *)&s->conn), 0);
	uv_read_start((uv_stream_t *)&s->conn, post_alloc_cb, post_read_cb);
}

static void
http_post_body(void **state)
{
	static const int created[] = { 201 };
	uv_loop_t loop;
	struct post_srv s;
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof got;
	struct prober *p;
	struct probe_req q;
	struct seen seen = { 0 };
	char url[64], body[4096], want[4096];
	const char *sent;

	(void)state;
	memset(&s, 0, sizeof s);
	uv_loop_init(&loop);
	uv_tcp_init(&loop, &s.srv);
	s.srv.data = &s;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(&s.srv, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s.srv, 8, post_conn_cb), 0);
	uv_tcp_getsockname(&s.srv, (struct sockaddr *)&got, &len);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/x",
	    ntohs(((struct sockaddr_in *)&got)->sin_port));
	/* Bigger than curl's old threshold for "Expect: 100-continue". */
	snprintf(want, sizeof want,
	    "{\"event\": \"failed\", \"pad\": \"%03000d\"}", 7);
	memcpy(body, want, sizeof body);
	p = prober_new(&loop);
	memset(&q, 0, sizeof q);
	q.kind = PROBE_HTTP;
	q.timeout_ms = 5000;
	q.url = url;
	q.method = "POST";
	q.body = body;
	q.content_type = "application/json";
	q.expect_status = created;
	q.nexpect_status = 1;
	assert_non_null(probe_start(p, &q, seen_cb, &seen));
	/* The probe sends its own copy. */
	memset(body, 'x', strlen(body));
	while (seen.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	assert_true(seen.ok);
	assert_non_null(strstr(seen.evidence, "POST http://127.0.0.1:"));
	assert_non_null(strstr(seen.evidence, "-> 201"));
	assert_non_null(strstr(s.req, "POST /hook/x HTTP/1.1\r\n"));
	assert_non_null(
	    strstr(s.req, "\r\nContent-Type: application/json\r\n"));
	assert_null(strstr(s.req, "\r\nExpect:"));
	assert_non_null(sent = strstr(s.req, "\r\n\r\n"));
	assert_string_equal(sent + 4, want);
	prober_free(p);
	if (s.accepted)
		uv_close((uv_handle_t *)&s.conn, NULL);
	uv_close((uv_handle_t *)&s.srv, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
url_without_password(void **state)
{
	char *s;

	(void)state;
	s = probe_url_display("https://user:pw@host.example/x?y=1");
	assert_string_equal(s, "https://user:***@host.example/x?y=1");
	free(s);
	s = probe_url_display("pop3://token@host:110/");
	assert_string_equal(s, "pop3://***@host:110/");
	free(s);
	s = probe_url_display("https://host.example/a@b");
	assert_string_equal(s, "https://host.example/a@b");
	free(s);
	s = probe_url_display("smtp://h:25");
	assert_string_equal(s, "smtp://h:25");
	free(s);
}

static void
comparisons(void **state)
{
	(void)state;
	assert_true(probe_cmp(CMP_GE, 1, 1));
	assert_false(probe_cmp(CMP_GE, 0, 1));
	assert_true(probe_cmp(CMP_EQ, 0, 0));
	assert_true(probe_cmp(CMP_LT, 4, 5));
	assert_false(probe_cmp(CMP_GT, 5, 5));
	assert_true(probe_cmp(CMP_NE, 4, 5));
	assert_string_equal(probe_cmp_name(CMP_LE), "<=");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_open_and_closed),
		cmocka_unit_test(cancel_and_free_under_way),
		cmocka_unit_test(http_post_body),
		cmocka_unit_test(url_without_password),
		cmocka_unit_test(comparisons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
