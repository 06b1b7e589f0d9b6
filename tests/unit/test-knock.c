/*
 * Unit tests of knock.c on a real libuv loop and real loopback sockets
 * (127.0.16.1, this test's own address): a port that is closed, then
 * listens, calls back once; a port that listens from the first knock
 * never calls back (the host has not gone away); a watch stopped from
 * its own callback or while a knock is under way leaves nothing on the
 * loop; a host name is not watched.
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

#include "knock.h"

#define ADDR "127.0.16.1"

struct back {
	int calls;
	struct knock *k; /* stopped from the callback when set */
};

static void
back_cb(void *arg)
{
	struct back *b = arg;

	b->calls++;
	if (b->k != NULL) {
		knock_stop(b->k);
		b->k = NULL;
	}
}

static void
free_cb(uv_handle_t *h)
{
	free(h);
}

/* A knock arrived: accepted and closed, as sshd would drop it. */
static void
accept_cb(uv_stream_t *srv, int status)
{
	uv_tcp_t *c;

	if (status < 0)
		return;
	c = malloc(sizeof *c);
	uv_tcp_init(srv->loop, c);
	(void)uv_accept(srv, (uv_stream_t *)c);
	uv_close((uv_handle_t *)c, free_cb);
}

/* Listen on ADDR:port (0: any); returns the port. */
static int
listen_on(uv_loop_t *loop, uv_tcp_t *srv, int port)
{
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof got;

	uv_tcp_init(loop, srv);
	uv_ip4_addr(ADDR, port, &sa);
	assert_int_equal(uv_tcp_bind(srv, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)srv, 16, accept_cb), 0);
	uv_tcp_getsockname(srv, (struct sockaddr *)&got, &len);
	return ntohs(((struct sockaddr_in *)&got)->sin_port);
}

static void
stop_timer_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Run the loop for ms, or until uv_stop(). */
static void
run_for(uv_loop_t *loop, uint64_t ms)
{
	uv_timer_t t;

	uv_timer_init(loop, &t);
	uv_timer_start(&t, stop_timer_cb, ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void
drain(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

/* Closed, then listening: one call back. */
static void
closed_then_back(void **state)
{
	uv_loop_t loop;
	uv_tcp_t srv;
	struct back b = { 0, NULL };
	struct knock *k;
	int port;
	uint64_t t0;

	(void)state;
	uv_loop_init(&loop);
	/* A port nobody listens on: taken, then let go. */
	port = listen_on(&loop, &srv, 0);
	uv_close((uv_handle_t *)&srv, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	k = knock_watch(&loop, ADDR, port, back_cb, &b);
	assert_non_null(k);
	run_for(&loop, 350);
	assert_int_equal(b.calls, 0);
	/* The "host" is back. */
	listen_on(&loop, &srv, port);
	t0 = uv_now(&loop);
	while (b.calls == 0 && uv_now(&loop) - t0 < 3000)
		run_for(&loop, 20);
	assert_int_equal(b.calls, 1);
	/* Once: nothing more while it keeps listening. */
	run_for(&loop, 300);
	assert_int_equal(b.calls, 1);
	knock_stop(k);
	uv_close((uv_handle_t *)&srv, NULL);
	drain(&loop);
}

/* Listening from the first knock: the host never went away. */
static void
open_from_the_start(void **state)
{
	uv_loop_t loop;
	uv_tcp_t srv;
	struct back b = { 0, NULL };
	struct knock *k;
	int port;

	(void)state;
	uv_loop_init(&loop);
	port = listen_on(&loop, &srv, 0);
	k = knock_watch(&loop, ADDR, port, back_cb, &b);
	assert_non_null(k);
	run_for(&loop, 400);
	assert_int_equal(b.calls, 0);
	knock_stop(k);
	uv_close((uv_handle_t *)&srv, NULL);
	drain(&loop);
}

/* Stopped from its own callback, and stopped with a knock under way. */
static void
stop_anywhere(void **state)
{
	uv_loop_t loop;
	uv_tcp_t srv;
	struct back b = { 0, NULL };
	int port;

	(void)state;
	uv_loop_init(&loop);
	port = listen_on(&loop, &srv, 0);
	uv_close((uv_handle_t *)&srv, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	b.k = knock_watch(&loop, ADDR, port, back_cb, &b);
	assert_non_null(b.k);
	run_for(&loop, 150);
	listen_on(&loop, &srv, port);
	while (b.calls == 0)
		run_for(&loop, 20);
	assert_null(b.k); /* stopped in the callback */
	/* A watch stopped at once, its first knock just started. */
	knock_stop(knock_watch(&loop, ADDR, port, back_cb, &b));
	uv_close((uv_handle_t *)&srv, NULL);
	drain(&loop);
	assert_int_equal(b.calls, 1);
}

/* Only numeric addresses are watched. */
static void
names_are_not_watched(void **state)
{
	uv_loop_t loop;
	struct back b = { 0, NULL };

	(void)state;
	uv_loop_init(&loop);
	assert_null(knock_watch(&loop, "localhost", 22, back_cb, &b));
	assert_null(knock_watch(&loop, ADDR, 0, back_cb, &b));
	assert_null(knock_watch(&loop, NULL, 22, back_cb, &b));
	drain(&loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_then_back),
		cmocka_unit_test(open_from_the_start),
		cmocka_unit_test(stop_anywhere),
		cmocka_unit_test(names_are_not_watched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
