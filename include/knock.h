/*
 * knock.h: notice a host's SSH port coming back, within a tenth of a
 * second, without logging in (knock.c).
 */
#ifndef HOSTSWAP_KNOCK_H
#define HOSTSWAP_KNOCK_H

#include <uv.h>

struct knock;

/* Called once: the port, seen closed, accepts connections again. */
typedef void knock_back_cb(void *arg);

struct knock *knock_watch(
    uv_loop_t *, const char *address, int port, knock_back_cb *, void *arg);
void knock_stop(struct knock *);

#endif
