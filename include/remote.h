/*
 * remote.h: one SSH session to one host, driven by the libuv loop. The
 * session connects (TCP, key exchange, host key check, login) without
 * blocking, then runs jobs: each job is one exec channel with a command,
 * bytes for its standard input, its output, and its exit status. At most
 * max_channels channels are open at once; further jobs wait their turn.
 *
 * A host behind a bastion (proxy_jump) is reached through a session of
 * its own to the bastion, whose host key is checked as any host's; the
 * host's SSH session then runs over a direct-tcpip channel of it.
 */
#ifndef HOSTSWAP_REMOTE_H
#define HOSTSWAP_REMOTE_H

#include <stddef.h>

#include <uv.h>

struct host;
struct hostkey;
struct remote;
struct remote_job;

struct remote_cfg {
	const char *name; /* for messages */
	const char *address;
	int port;
	const char *user;
	const char *identity; /* NULL: default keys */
	int max_channels;
	const struct hostkey *expected; /* NULL: unknown */
	int accept_new;                 /* trust an unknown key */
	unsigned connect_timeout_ms;
	const struct remote_cfg *jump; /* the bastion, or NULL: direct */
};

struct remote_events {
	void (*ready)(struct remote *, void *);
	/* The connection failed or was lost; error says why. */
	void (*failed)(struct remote *, const char *, void *);
	/*
	 * The full key seen where the expected one was unknown (accepted
	 * with --accept-new-host-keys) or only a fingerprint that it
	 * matches. The owner may remote_hold() the session here: no job
	 * starts until remote_unhold() (the key is committed first).
	 */
	void (*learned_key)(struct remote *, const struct hostkey *, void *);
};

struct remote_result {
	int exit_status;    /* -1 if the command gave none */
	const char *signal; /* "TERM" if killed by a signal */
	const char *error;  /* channel or connection failure */
};

struct remote_job_cb {
	void (*output)(void *, const char *, size_t, int);
	void (*done)(void *, const struct remote_result *);
	/* Optional: called once when the job is freed, abandoned or not. */
	void (*release)(void *);
};

/* A job that may use the channel kept free for control commands. */
#define REMOTE_PRIORITY 0x01
/* Keep standard input open after the bytes given: remote_job_feed() adds
 * the rest (sudo's password when it asks, the script once the shell under
 * sudo is ready). */
#define REMOTE_HOLD_STDIN 0x02

void remote_cfg_from_host(
    struct remote_cfg *, struct remote_cfg *, const struct host *);
struct remote *remote_new(uv_loop_t *, const struct remote_cfg *,
    const struct remote_events *, void *);
void remote_connect(struct remote *);
int remote_is_ready(const struct remote *);
int remote_reached(const struct remote *);
const char *remote_name(const struct remote *);
const struct hostkey *remote_seen_key(const struct remote *);
const char *remote_server_banner(const struct remote *);
void remote_hold(struct remote *);
void remote_unhold(struct remote *);
void remote_free(struct remote *);
void remote_debug_log(int);

struct remote_job *remote_exec(struct remote *, const char *, const char *,
    size_t, int, const struct remote_job_cb *, void *);
void remote_job_abandon(struct remote_job *);
void remote_job_feed(struct remote_job *, const char *, size_t, int);

#endif
