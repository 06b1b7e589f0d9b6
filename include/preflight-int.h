/*
 * preflight-int.h: what the preflight files share — the scan of a
 * script's command words (preflight-scan.c) and the TCP reach of a
 * check's host and port (preflight-reach.c), used by preflight.c. Not for
 * other modules.
 */
#ifndef HOSTSWAP_PREFLIGHT_INT_H
#define HOSTSWAP_PREFLIGHT_INT_H

#include <uv.h>

/* Words that stand for what only a run knows (a secret, a capture, the
 * run's ids): a word holding one is never looked for on a host. */
#define PREFLIGHT_UNKNOWN "__hostswap_unknown__"

/* Called once for each distinct command word of a script. */
typedef void (*preflight_scan_cb)(const char *, void *);

void preflight_scan(const char *, preflight_scan_cb, void *);

/* The reach ended: 0 (connected) or a libuv error; the address tried. */
typedef void (*preflight_reach_cb)(void *, int, const char *);

void preflight_reach(
    uv_loop_t *, const char *, int, unsigned, preflight_reach_cb, void *);

#endif
