/*
 * remote-int.h: what the two halves of the remote module share — the
 * session (remote.c: connecting, the host key, login, driving the socket)
 * and its jobs (remote-job.c: exec channels). Not for other modules.
 */
#ifndef HOSTSWAP_REMOTE_INT_H
#define HOSTSWAP_REMOTE_INT_H

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <uv.h>

#include "buf.h"
#include "hostkey.h"
#include "remote.h"

enum remote_state {
	RS_NEW,
	RS_RESOLVING,
	RS_BASTION, /* waiting for the bastion's session and its channel */
	RS_CONNECTING,
	RS_HANDSHAKE,
	RS_AUTH,
	RS_READY,
	RS_FAILED,
	RS_NSTATES
};

enum job_state {
	J_QUEUED,
	J_OPENING,
	J_EXEC,
	J_WRITING,
	J_RUNNING,
	J_DONE,
};

struct remote_job {
	struct remote *remote;
	struct remote_job *next;
	enum job_state state;
	int flags;
	int abandoned;
	char *command;
	char *in;
	size_t inlen;
	size_t inoff;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	int exit_status;
	char *signal;
	int closed; /* the server closed the channel */
	const struct remote_job_cb *jcb;
	void *arg;
};

struct remote {
	uv_loop_t *loop;
	enum remote_state state;
	char *name;
	char *address;
	int port;
	char *user;
	char *identity;
	int max_channels;
	struct hostkey expected;
	int has_expected;
	int accept_new;
	unsigned connect_timeout_ms;
	struct hostkey seen;
	int reached; /* the TCP connection was made */

	const struct remote_events *ev;
	void *arg;

	int fd;
	uv_getaddrinfo_t gai;
	uv_poll_t poll;
	int poll_init;
	int poll_events;
	uv_timer_t timer;
	int handles; /* open uv handles */
	int gai_pending;

	ssh_session session;
	ssh_event event;
	ssh_key keys[4];
	size_t nkeys;
	size_t key;    /* the one being tried */
	int try_agent; /* the agent comes first */
	int locked;    /* the identity is protected by a passphrase */

	/*
	 * Through a bastion (remote-tunnel.c): the bastion's own session,
	 * and on that session the direct-tcpip channel this session's bytes
	 * travel in. The other end of a socketpair is libssh's socket; the
	 * loop pumps bytes between our end and the channel.
	 */
	struct remote *bastion;
	struct remote *tunnel_of; /* on a bastion: the session it carries */
	ssh_channel tunnel;
	struct ssh_channel_callbacks_struct tunnel_cb;
	int tunnel_fd; /* our end of the socketpair, or -1 */
	uv_poll_t tunnel_poll;
	int tunnel_poll_init;
	int tunnel_poll_events;
	struct buf to_ssh;     /* from the channel, for libssh */
	struct buf to_channel; /* from libssh, for the channel */
	int tunnel_eof_in;     /* libssh's end closed */
	int tunnel_eof_out;    /* the channel brought EOF or closed */

	struct remote_job *jobs; /* in submission order */
	int open_channels;
	int busy; /* inside remote_drive() */
	int held; /* remote_hold(): no job starts */
	int freeing;
	char *error;
};

void remote_drive(struct remote *);
void remote_fail(struct remote *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void remote_attach_fd(struct remote *, int);
void remote_tunnel_new(struct remote *, const struct remote_cfg *);
void remote_tunnel_connect(struct remote *);
void remote_tunnel_step(struct remote *);
void remote_tunnel_free(struct remote *, uv_close_cb);
void remote_job_step(struct remote *, struct remote_job *);
void remote_job_finish(struct remote_job *, const char *);
void remote_reap_jobs(struct remote *);

#endif
