/*
 * preflight.h: the checks made before the night (SPEC §5): `hostswap
 * preflight`, and `run` before it creates its run. For every host the
 * plan uses, without changing anything: the address answers, the host key
 * is the expected one (and, for the swap hosts, the key each name expects
 * after the swap is known), login works, sudo works, the commands the
 * scripts call exist, free space, clock skew, the OS, OpenSSH and init
 * system, the sshd keywords and services the steps name, the swap pair's
 * user and group ids; on the controller: every secret resolves and every
 * check's host and port answer. Hosts are checked in parallel on the
 * caller's loop, one SSH session each.
 */
#ifndef HOSTSWAP_PREFLIGHT_H
#define HOSTSWAP_PREFLIGHT_H

#include <stdio.h>

#include <uv.h>

#include "log.h"

struct hostkey;
struct plan;
struct preflight;

enum preflight_level {
	PREFLIGHT_PASS,
	PREFLIGHT_WARN,
	PREFLIGHT_FAIL,
	PREFLIGHT_NLEVELS
};

struct preflight_opts {
	const char *known_hosts; /* where keys come from when not pinned */
	int accept_new;          /* --accept-new-host-keys */
	int from_phase;          /* -1: from the first */
	int to_phase;            /* -1: to the last */
	int swapped; /* --assume-swapped: the names answer as the other
			machine already */
	/* Optional: a machine pinned by its fingerprint presented the
	 * matching key; `run` keeps it (arg, machine's host name, key). */
	void (*key_seen)(void *, const char *, const struct hostkey *);
	void *key_arg;
};

struct preflight *preflight_new(
    uv_loop_t *, const struct plan *, const struct preflight_opts *);
void preflight_start(struct preflight *);
int preflight_count(const struct preflight *, enum preflight_level);
void preflight_print(
    const struct preflight *, FILE *, const char *, enum log_format);
void preflight_free(struct preflight *);

#endif
