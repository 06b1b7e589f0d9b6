/*
 * remote.c: the SSH session to one host, as an explicit state machine in
 * the shape of OpenSMTPD's smtp_client.c. libssh runs in non-blocking
 * mode on a socket this module opens itself (so that it can set
 * TCP_NODELAY, keepalives and TCP_USER_TIMEOUT: a dead peer is noticed
 * within 15 seconds), and a uv_poll_t on that socket calls remote_drive()
 * whenever it is ready; libssh's ssh_get_poll_flags() says whether it has
 * output waiting, which decides if we also wait for writability.
 *
 * Jobs are exec channels. Channel callbacks deliver output and the exit
 * status as packets are processed; remote_drive() advances every job
 * (open, exec, write stdin, EOF, wait for close) after each batch.
 *
 * Objects used by callbacks are freed late: remote_free() during a drive
 * only marks the session, and the drive frees it on its way out.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <uv.h>

#include "hostkey.h"
#include "log.h"
#include "plan.h"
#include "remote-int.h"
#include "xmalloc.h"

/* libssh's own log level for new sessions: none unless -vvv. */
static int remote_log_level = SSH_LOG_NOLOG;

/* TCP keepalive: probe after 4 s idle, every 3 s, give up after 3: a
 * silent peer is declared dead after 13 s at most (SPEC: within 15 s). */
#define REMOTE_KEEPIDLE  4
#define REMOTE_KEEPINTVL 3
#define REMOTE_KEEPCNT   3
/* Unacknowledged data for this long means the peer is gone. */
#define REMOTE_USER_TIMEOUT_MS 13000

static const char *const remote_state_names[RS_NSTATES] = { "new", "resolving",
	"bastion", "connecting", "handshake", "auth", "ready", "failed" };

static void remote_poll_cb(uv_poll_t *, int, int);
static void remote_release(struct remote *);

/* The one place the session changes state. */
static void
remote_set_state(struct remote *r, enum remote_state s)
{
	log_debug("remote %s: %s -> %s", r->name, remote_state_names[r->state],
	    remote_state_names[s]);
	r->state = s;
}

/* A new, unconnected session. */
struct remote *
remote_new(uv_loop_t *loop, const struct remote_cfg *cfg,
    const struct remote_events *ev, void *arg)
{
	struct remote *r = xcalloc(1, sizeof *r);

	r->loop = loop;
	r->state = RS_NEW;
	r->name = xstrdup(cfg->name);
	r->address = xstrdup(cfg->address);
	r->port = cfg->port;
	r->user = xstrdup(cfg->user);
	r->identity = cfg->identity ? xstrdup(cfg->identity) : NULL;
	r->max_channels = cfg->max_channels > 0 ? cfg->max_channels : 10;
	if (cfg->expected != NULL) {
		hostkey_copy(&r->expected, cfg->expected);
		r->has_expected = 1;
	}
	r->accept_new = cfg->accept_new;
	r->connect_timeout_ms =
	    cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 30000;
	r->ev = ev;
	r->arg = arg;
	r->fd = -1;
	r->tunnel_fd = -1;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->handles = 1;
	if (cfg->jump != NULL)
		remote_tunnel_new(r, cfg->jump);
	return r;
}

/*
 * The settings of a session to inventory host h: the one place they are
 * made. A host behind a bastion gets the bastion's settings in *jump
 * (cfg->jump points there). The caller adds what only it knows: the
 * host keys it expects (for the host and its bastion), whether a new key
 * may be trusted, its time limit.
 */
void
remote_cfg_from_host(
    struct remote_cfg *cfg, struct remote_cfg *jump, const struct host *h)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->name = h->name;
	cfg->address = h->address;
	cfg->port = h->port;
	cfg->user = h->user;
	cfg->identity = h->identity;
	cfg->max_channels = h->max_channels;
	if (h->bastion != NULL && jump != NULL) {
		remote_cfg_from_host(jump, NULL, h->bastion);
		cfg->jump = jump;
	}
}

/* The host's inventory name. */
const char *
remote_name(const struct remote *r)
{
	return r->name;
}

/* Whether jobs run now (they may be submitted at any time). */
int
remote_is_ready(const struct remote *r)
{
	return r->state == RS_READY;
}

/* Whether the address answered (the TCP connection was made). */
int
remote_reached(const struct remote *r)
{
	return r->reached;
}

/* The key the server presented, once the key exchange is done. */
const struct hostkey *
remote_seen_key(const struct remote *r)
{
	return r->seen.fingerprint ? &r->seen : NULL;
}

/* The server's SSH banner ("SSH-2.0-..."), once received, or NULL. */
const char *
remote_server_banner(const struct remote *r)
{
	return r->session != NULL ? ssh_get_serverbanner(r->session) : NULL;
}

/* The connection failed or broke: fail every job and tell the owner. */
void
remote_fail(struct remote *r, const char *fmt, ...)
{
	struct remote_job *j;
	char msg[1024];
	va_list ap;

	if (r->state == RS_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	free(r->error);
	r->error = xstrdup(msg);
	remote_set_state(r, RS_FAILED);
	uv_timer_stop(&r->timer);
	if (r->poll_init && !uv_is_closing((uv_handle_t *)&r->poll))
		uv_poll_stop(&r->poll);
	r->busy++;
	for (j = r->jobs; j != NULL; j = j->next)
		remote_job_finish(j, msg);
	if (r->ev->failed != NULL)
		r->ev->failed(r, msg, r->arg);
	r->busy--;
	remote_reap_jobs(r);
	if (r->freeing && r->busy == 0)
		remote_release(r);
}

/* Watch the socket for what libssh (or the TCP connect) waits for. */
static void
remote_update_poll(struct remote *r)
{
	int want = UV_READABLE;

	if (r->state == RS_FAILED || !r->poll_init)
		return;
	if (r->state == RS_CONNECTING)
		want = UV_WRITABLE;
	else if (r->session != NULL &&
	    (ssh_get_poll_flags(r->session) & SSH_WRITE_PENDING))
		want |= UV_WRITABLE;
	if (want != r->poll_events) {
		r->poll_events = want;
		uv_poll_start(&r->poll, want, remote_poll_cb);
	}
}

/* The socket is ready (or broken). */
static void
remote_poll_cb(uv_poll_t *h, int status, int events)
{
	struct remote *r = h->data;

	(void)events;
	/* libuv reports a failed connect (POLLERR) as EBADF: the drive
	 * reads the socket's own error. */
	if (status < 0 && r->state == RS_CONNECTING) {
		remote_drive(r);
		return;
	}
	if (status < 0 && r->state != RS_READY) {
		remote_fail(r, "connection to %s (%s:%d) failed: %s", r->name,
		    r->address, r->port, uv_strerror(status));
		return;
	}
	remote_drive(r);
}

/* Connecting took too long. */
static void
remote_timer_cb(uv_timer_t *t)
{
	struct remote *r = t->data;

	if (r->state != RS_READY)
		remote_fail(r,
		    "connection to %s (%s:%d) timed out after %u s "
		    "(%s)",
		    r->name, r->address, r->port, r->connect_timeout_ms / 1000,
		    remote_state_names[r->state]);
}

/* Socket options that make a dead peer show within 15 seconds. */
static void
remote_tune_socket(int fd)
{
	int one = 1, idle = REMOTE_KEEPIDLE, intvl = REMOTE_KEEPINTVL;
	int cnt = REMOTE_KEEPCNT;
	unsigned int ut = REMOTE_USER_TIMEOUT_MS;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
}

/* The address is known: open a non-blocking socket and connect. */
static void
remote_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct remote *r = req->data;
	int fd, rc;

	r->gai_pending = 0;
	if (r->freeing) {
		if (ai != NULL)
			uv_freeaddrinfo(ai);
		remote_release(r);
		return;
	}
	if (status < 0 || ai == NULL) {
		remote_fail(r, "cannot resolve %s for %s: %s", r->address,
		    r->name, uv_strerror(status));
		if (ai != NULL)
			uv_freeaddrinfo(ai);
		return;
	}
	fd = socket(
	    ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		remote_fail(r, "socket: %s", strerror(errno));
		uv_freeaddrinfo(ai);
		return;
	}
	remote_tune_socket(fd);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	uv_freeaddrinfo(ai);
	if (rc == -1 && errno != EINPROGRESS) {
		remote_fail(r, "connection to %s (%s:%d) failed: %s", r->name,
		    r->address, r->port, strerror(errno));
		close(fd);
		return;
	}
	remote_attach_fd(r, fd);
}

/*
 * The session's socket is connecting (TCP) or connected (the socketpair
 * of a tunnel through a bastion): drive the session when it is ready.
 */
void
remote_attach_fd(struct remote *r, int fd)
{
	r->fd = fd;
	uv_poll_init_socket(r->loop, &r->poll, fd);
	r->poll.data = r;
	r->poll_init = 1;
	r->handles++;
	remote_set_state(r, RS_CONNECTING);
	remote_update_poll(r);
}

/* Start connecting: resolve the address without blocking the loop. */
void
remote_connect(struct remote *r)
{
	struct addrinfo hints;
	char port[16];
	int rc;

	if (r->state != RS_NEW)
		return;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	uv_timer_start(&r->timer, remote_timer_cb, r->connect_timeout_ms, 0);
	if (r->bastion != NULL) {
		remote_set_state(r, RS_BASTION);
		remote_tunnel_connect(r);
		return;
	}
	snprintf(port, sizeof port, "%d", r->port);
	r->gai.data = r;
	remote_set_state(r, RS_RESOLVING);
	rc = uv_getaddrinfo(
	    r->loop, &r->gai, remote_gai_cb, r->address, port, &hints);
	if (rc < 0)
		remote_fail(
		    r, "cannot resolve %s: %s", r->address, uv_strerror(rc));
	else
		r->gai_pending = 1;
}

/* Create the libssh session on the connected socket. */
static int
remote_start_ssh(struct remote *r)
{
	int verbosity = remote_log_level;
	bool no = false;
	const char *algs;
	socket_t sfd = r->fd;

	if ((r->session = ssh_new()) == NULL)
		fatalx("ssh_new");
	ssh_options_set(r->session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(r->session, SSH_OPTIONS_HOST, r->address);
	ssh_options_set(r->session, SSH_OPTIONS_PORT, &r->port);
	ssh_options_set(r->session, SSH_OPTIONS_USER, r->user);
	ssh_options_set(r->session, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(r->session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	ssh_options_set(r->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	if (r->has_expected && (algs = hostkey_algorithms(&r->expected)))
		ssh_options_set(r->session, SSH_OPTIONS_HOSTKEYS, algs);
	ssh_options_set(r->session, SSH_OPTIONS_FD, &sfd);
	ssh_set_blocking(r->session, 0);
	r->fd = -1; /* libssh owns the socket now */
	return 0;
}

/*
 * libssh asks for a passphrase: the key is protected. hostswap never
 * prompts (it runs unattended); such a key is used through the agent.
 */
static int
remote_passphrase_cb(const char *prompt, char *buf, size_t len, int echo,
    int verify, void *userdata)
{
	(void)prompt;
	(void)buf;
	(void)len;
	(void)echo;
	(void)verify;
	*(int *)userdata = 1;
	return -1;
}

/*
 * Load the keys to offer: the identity, or the user's default ones. An
 * identity protected by a passphrase is left to the agent (r->locked).
 */
static void
remote_load_keys(struct remote *r)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa",
		"id_rsa", NULL };
	const char *home = getenv("HOME");
	char path[4096];
	size_t i;
	ssh_key k;

	if (r->identity != NULL) {
		if (r->identity[0] == '~' && home != NULL)
			snprintf(
			    path, sizeof path, "%s%s", home, r->identity + 1);
		else
			snprintf(path, sizeof path, "%s", r->identity);
		if (ssh_pki_import_privkey_file(path, NULL,
			remote_passphrase_cb, &r->locked, &k) == SSH_OK)
			r->keys[r->nkeys++] = k;
		return;
	}
	for (i = 0; defaults[i] != NULL && home != NULL; i++) {
		snprintf(path, sizeof path, "%s/.ssh/%s", home, defaults[i]);
		if (access(path, R_OK) == 0 &&
		    ssh_pki_import_privkey_file(path, NULL,
			remote_passphrase_cb, &(int){ 0 }, &k) == SSH_OK)
			r->keys[r->nkeys++] = k;
	}
}

/*
 * The key exchange is done: check the key before anything is sent. A
 * mismatch names the host, its address and both fingerprints.
 */
static int
remote_verify(struct remote *r)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen;
	char *b64 = NULL, *fp;

	if (ssh_get_server_publickey(r->session, &key) != SSH_OK) {
		remote_fail(r, "%s (%s:%d): no host key received", r->name,
		    r->address, r->port);
		return -1;
	}
	hostkey_clear(&r->seen);
	if (ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK &&
	    ssh_get_publickey_hash(
		key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == SSH_OK &&
	    (fp = ssh_get_fingerprint_hash(
		 SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL) {
		r->seen.type = xstrdup(ssh_key_type_to_char(ssh_key_type(key)));
		r->seen.base64 = xstrdup(b64);
		r->seen.fingerprint = xstrdup(fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	if (r->seen.fingerprint == NULL) {
		remote_fail(r, "%s (%s:%d): cannot read the host key", r->name,
		    r->address, r->port);
		return -1;
	}
	if (hostkey_revoked(&r->seen)) {
		remote_fail(r,
		    "host key of %s (%s:%d) is revoked in known_hosts: %s "
		    "(%s); nothing was sent",
		    r->name, r->address, r->port, r->seen.fingerprint,
		    r->seen.type);
		return -1;
	}
	if (!r->has_expected) {
		if (!r->accept_new) {
			remote_fail(r,
			    "host key of %s (%s:%d) is unknown: "
			    "seen %s (%s); pin it in the inventory, add it to "
			    "known_hosts, or pass --accept-new-host-keys",
			    r->name, r->address, r->port, r->seen.fingerprint,
			    r->seen.type);
			return -1;
		}
		if (r->ev->learned_key != NULL)
			r->ev->learned_key(r, &r->seen, r->arg);
		return 0;
	}
	if (!hostkey_equal(&r->expected, &r->seen)) {
		remote_fail(r,
		    "host key mismatch for %s (%s:%d): expected %s, "
		    "seen %s (%s); nothing was sent",
		    r->name, r->address, r->port, r->expected.fingerprint,
		    r->seen.fingerprint, r->seen.type);
		return -1;
	}
	/* A fingerprint pin: the owner keeps the full key it stands for. */
	if (hostkey_completes(&r->expected, &r->seen) &&
	    r->ev->learned_key != NULL)
		r->ev->learned_key(r, &r->seen, r->arg);
	return 0;
}

/* Try the keys in turn until one is accepted. */
static void
remote_auth(struct remote *r)
{
	int rc;

	/* Without an identity: the agent first (SPEC §2), then the
	 * user's default key files. */
	if (r->try_agent) {
		rc = ssh_userauth_agent(r->session, NULL);
		if (rc == SSH_AUTH_AGAIN)
			return;
		r->try_agent = 0;
		if (rc == SSH_AUTH_SUCCESS)
			goto done;
	}
	for (;;) {
		if (r->key >= r->nkeys && r->locked) {
			remote_fail(r,
			    "login to %s (%s:%d) as %s failed: the identity %s "
			    "is protected by a passphrase and no ssh-agent "
			    "holds it: ssh-add %s",
			    r->name, r->address, r->port, r->user, r->identity,
			    r->identity);
			return;
		}
		if (r->key >= r->nkeys) {
			remote_fail(r,
			    "login to %s (%s:%d) as %s failed: no key was "
			    "accepted%s",
			    r->name, r->address, r->port, r->user,
			    r->identity != NULL
				? ""
				: " (tried the agent and ~/.ssh/id_*)");
			return;
		}
		rc = ssh_userauth_publickey(r->session, NULL, r->keys[r->key]);
		if (rc == SSH_AUTH_AGAIN)
			return;
		if (rc == SSH_AUTH_SUCCESS)
			break;
		if (rc == SSH_AUTH_ERROR) {
			remote_fail(r, "login to %s (%s:%d) failed: %s",
			    r->name, r->address, r->port,
			    ssh_get_error(r->session));
			return;
		}
		r->key++;
	}
done:
	if ((r->event = ssh_event_new()) == NULL ||
	    ssh_event_add_session(r->event, r->session) != SSH_OK)
		fatalx("ssh_event");
	uv_timer_stop(&r->timer);
	remote_set_state(r, RS_READY);
	if (r->ev->ready != NULL)
		r->ev->ready(r, r->arg);
}

/*
 * Do everything that can be done now: progress the connection, process
 * incoming packets (channel callbacks run here), advance each job, and
 * wait for the socket again.
 */
void
remote_drive(struct remote *r)
{
	struct remote_job *j;
	socklen_t len;
	int rc, err;

	if (r->state == RS_FAILED)
		return;
	r->busy++;
	switch (r->state) {
	case RS_CONNECTING:
		err = 0;
		len = sizeof err;
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			remote_fail(r, "connection to %s (%s:%d) failed: %s",
			    r->name, r->address, r->port, strerror(err));
			break;
		}
		r->reached = 1;
		remote_start_ssh(r);
		remote_set_state(r, RS_HANDSHAKE);
		/* FALLTHROUGH */
	case RS_HANDSHAKE:
		rc = ssh_connect(r->session);
		if (rc == SSH_AGAIN)
			break;
		if (rc != SSH_OK) {
			remote_fail(r,
			    "SSH connection to %s (%s:%d) failed: %s", r->name,
			    r->address, r->port, ssh_get_error(r->session));
			break;
		}
		if (remote_verify(r) == -1)
			break;
		remote_load_keys(r);
		/* The agent holds what a protected identity needs. */
		r->try_agent = (r->identity == NULL || r->locked) &&
		    getenv("SSH_AUTH_SOCK") != NULL;
		remote_set_state(r, RS_AUTH);
		/* FALLTHROUGH */
	case RS_AUTH:
		remote_auth(r);
		if (r->state != RS_READY)
			break;
		/* FALLTHROUGH */
	case RS_READY:
		rc = ssh_event_dopoll(r->event, 0);
		if ((rc == SSH_ERROR && !ssh_is_connected(r->session)) ||
		    (ssh_get_status(r->session) &
			(SSH_CLOSED | SSH_CLOSED_ERROR))) {
			remote_fail(r, "connection to %s lost (%s:%d)", r->name,
			    r->address, r->port);
			break;
		}
		if (r->tunnel_of != NULL)
			remote_tunnel_step(r); /* a bastion's channel */
		if (r->held)
			break; /* the owner commits the key first */
		for (j = r->jobs; j != NULL && r->state == RS_READY;
		     j = j->next)
			remote_job_step(r, j);
		/* Finished jobs freed channels: queued ones may start. */
		for (j = r->jobs; j != NULL && r->state == RS_READY;
		     j = j->next)
			if (j->state == J_QUEUED)
				remote_job_step(r, j);
		break;
	default:
		break;
	}
	r->busy--;
	remote_reap_jobs(r);
	if (r->freeing && r->busy == 0) {
		remote_release(r);
		return;
	}
	remote_update_poll(r);
}

/* A uv handle of the session closed; free the session after the last. */
static void
remote_handle_closed_cb(uv_handle_t *h)
{
	struct remote *r = h->data;
	size_t i;

	if (--r->handles > 0)
		return;
	for (i = 0; i < r->nkeys; i++)
		ssh_key_free(r->keys[i]);
	hostkey_clear(&r->expected);
	hostkey_clear(&r->seen);
	free(r->name);
	free(r->address);
	free(r->user);
	free(r->identity);
	free(r->error);
	free(r);
}

/* Tear the session down now (no callback is on the stack). */
static void
remote_release(struct remote *r)
{
	struct remote_job *j;

	if (r->gai_pending) {
		/* Freed when the resolver answers. */
		uv_cancel((uv_req_t *)&r->gai);
		return;
	}
	for (j = r->jobs; j != NULL; j = j->next) {
		j->abandoned = 1;
		if (j->state != J_DONE)
			remote_job_finish(j, "closed");
	}
	remote_reap_jobs(r);
	if (r->poll_init)
		uv_close((uv_handle_t *)&r->poll, remote_handle_closed_cb);
	uv_close((uv_handle_t *)&r->timer, remote_handle_closed_cb);
	if (r->event != NULL) {
		ssh_event_remove_session(r->event, r->session);
		ssh_event_free(r->event);
		r->event = NULL;
	}
	if (r->session != NULL) {
		if (ssh_is_connected(r->session))
			ssh_disconnect(r->session);
		ssh_free(r->session);
		r->session = NULL;
	}
	if (r->fd != -1) {
		close(r->fd);
		r->fd = -1;
	}
	remote_tunnel_free(r, remote_handle_closed_cb);
}

/*
 * Keep every job of the session waiting (queued, its command unsent)
 * until remote_unhold(): the owner makes a learnt key durable first.
 */
void
remote_hold(struct remote *r)
{
	r->held = 1;
}

/* Let the jobs of a held session start. */
void
remote_unhold(struct remote *r)
{
	if (r == NULL || !r->held)
		return;
	r->held = 0;
	if (r->state == RS_READY && r->busy == 0 && !r->freeing)
		remote_drive(r);
}

/* Close the session; pending jobs end without their callbacks. */
void
remote_free(struct remote *r)
{
	if (r == NULL || r->freeing)
		return;
	r->freeing = 1;
	if (r->busy == 0)
		remote_release(r);
}

/* libssh's own log line, as a hostswap debug message (secrets scrubbed). */
static void
remote_libssh_log_cb(
    int priority, const char *function, const char *buffer, void *userdata)
{
	(void)priority;
	(void)userdata;
	log_debug("libssh: %s: %s", function, buffer);
}

/*
 * Route libssh's own log (the protocol, packet by packet) into hostswap's
 * debug messages: -vvv. Its lines go through the same scrubbing as every
 * message, so no secret shows.
 */
void
remote_debug_log(int on)
{
	remote_log_level = on ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
	ssh_set_log_callback(on ? remote_libssh_log_cb : NULL);
	ssh_set_log_level(remote_log_level);
}
