/*
 * remote-tunnel.c: reaching a host through its bastion (proxy_jump). The
 * bastion gets an SSH session of its own, made by this module's own code
 * like any host's: its host key is checked against the key the run
 * expects for the bastion, and nothing is asked of it before that. Once
 * it is logged in, a direct-tcpip channel on it opens to the host's
 * address and port, and the host's session runs over that channel.
 *
 * libssh wants a socket for a session: the host's session gets one end
 * of a socketpair, and the loop pumps bytes between the other end and
 * the channel (a uv_poll_t on our end; the channel's callbacks during the
 * bastion's drive). The host's own key exchange and host key check then
 * happen end to end, as over TCP; the bastion sees only ciphertext.
 *
 * libssh 0.10's own ProxyJump runs "ssh -W" through a ProxyCommand,
 * which would check keys against OpenSSH's known_hosts instead of the
 * run's: hostswap never uses it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <uv.h>

#include "log.h"
#include "remote-int.h"

/* Bytes read from libssh's end and not yet in the channel, at most. */
#define TUNNEL_MAX_PENDING (256 * 1024)

static void remote_tunnel_poll_cb(uv_poll_t *, int, int);

/* Drop the first n bytes of a buffer. */
static void
remote_tunnel_consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* Watch our end for what the pump waits for. */
static void
remote_tunnel_update_poll(struct remote *r)
{
	int want = 0;

	if (!r->tunnel_poll_init || r->state == RS_FAILED)
		return;
	if (!r->tunnel_eof_in && r->to_channel.len < TUNNEL_MAX_PENDING)
		want |= UV_READABLE;
	if (r->to_ssh.len > 0)
		want |= UV_WRITABLE;
	if (want == r->tunnel_poll_events)
		return;
	r->tunnel_poll_events = want;
	if (want == 0)
		uv_poll_stop(&r->tunnel_poll);
	else
		uv_poll_start(&r->tunnel_poll, want, remote_tunnel_poll_cb);
}

/* Write what the channel brought to libssh's end; -1 if that end broke. */
static int
remote_tunnel_flush_ssh(struct remote *r)
{
	ssize_t n;

	while (r->to_ssh.len > 0) {
		n = write(r->tunnel_fd, r->to_ssh.data, r->to_ssh.len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1)
			return -1;
		remote_tunnel_consume(&r->to_ssh, (size_t)n);
	}
	/* The host closed and all it sent is delivered: tell libssh. */
	if (r->to_ssh.len == 0 && r->tunnel_eof_out)
		shutdown(r->tunnel_fd, SHUT_WR);
	return 0;
}

/* Write what libssh sent into the channel, as far as its window goes. */
static int
remote_tunnel_flush_channel(struct remote *r)
{
	int n;

	while (r->to_channel.len > 0 && r->tunnel != NULL) {
		n = ssh_channel_write(
		    r->tunnel, r->to_channel.data, (uint32_t)r->to_channel.len);
		if (n == SSH_ERROR)
			return -1;
		if (n <= 0)
			break; /* the window is full: after the next drive */
		remote_tunnel_consume(&r->to_channel, (size_t)n);
	}
	if (r->to_channel.len == 0 && r->tunnel_eof_in && r->tunnel != NULL &&
	    ssh_channel_is_open(r->tunnel) && !ssh_channel_is_eof(r->tunnel))
		ssh_channel_send_eof(r->tunnel);
	return 0;
}

/* Channel callback (during the bastion's drive): bytes from the host. */
static int
remote_tunnel_data_cb(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct remote *r = arg;

	(void)s;
	(void)ch;
	if (is_stderr)
		return (int)len;
	buf_add(&r->to_ssh, data, len);
	/* The host may speak first, before the socketpair is made. */
	if (r->tunnel_fd != -1 && remote_tunnel_flush_ssh(r) == -1)
		r->tunnel_eof_in = 1; /* the session is going: drop the rest */
	remote_tunnel_update_poll(r);
	return (int)len;
}

/* Channel callback: the host (or the bastion) ended the connection. */
static void
remote_tunnel_eof_cb(ssh_session s, ssh_channel ch, void *arg)
{
	struct remote *r = arg;

	(void)s;
	(void)ch;
	r->tunnel_eof_out = 1;
	if (r->tunnel_fd != -1)
		remote_tunnel_flush_ssh(r);
}

/* Our end is ready: read what libssh sent, write what the channel brought. */
static void
remote_tunnel_poll_cb(uv_poll_t *h, int status, int events)
{
	struct remote *r = h->data;
	char chunk[32768];
	ssize_t n;

	if (status < 0)
		events = UV_READABLE | UV_WRITABLE; /* find the error below */
	if ((events & UV_WRITABLE) && remote_tunnel_flush_ssh(r) == -1)
		r->tunnel_eof_in = 1;
	while ((events & UV_READABLE) && !r->tunnel_eof_in &&
	    r->to_channel.len < TUNNEL_MAX_PENDING) {
		n = read(r->tunnel_fd, chunk, sizeof chunk);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			r->tunnel_eof_in = 1;
			break;
		}
		buf_add(&r->to_channel, chunk, (size_t)n);
	}
	if (r->bastion != NULL && r->bastion->state == RS_READY) {
		if (remote_tunnel_flush_channel(r) == -1) {
			remote_fail(r, "connection to %s lost (through %s): %s",
			    r->name, r->bastion->name,
			    ssh_get_error(r->bastion->session));
			return;
		}
		/* Send what libssh queued and wait for the window. */
		remote_drive(r->bastion);
	}
	remote_tunnel_update_poll(r);
}

/* Bastion event: logged in; open the channel to the host. */
static void
remote_tunnel_ready(struct remote *b, void *arg)
{
	struct remote *r = arg;

	(void)b;
	if ((r->tunnel = ssh_channel_new(b->session)) == NULL) {
		remote_fail(r, "%s: cannot create a channel on its bastion %s",
		    r->name, b->name);
		return;
	}
	memset(&r->tunnel_cb, 0, sizeof r->tunnel_cb);
	r->tunnel_cb.userdata = r;
	r->tunnel_cb.channel_data_function = remote_tunnel_data_cb;
	r->tunnel_cb.channel_eof_function = remote_tunnel_eof_cb;
	r->tunnel_cb.channel_close_function = remote_tunnel_eof_cb;
	ssh_callbacks_init(&r->tunnel_cb);
	ssh_set_channel_callbacks(r->tunnel, &r->tunnel_cb);
	b->tunnel_of = r;
	/* The bastion's drive goes on with remote_tunnel_step(). */
}

/* Bastion event: it failed; so does the host reached through it. */
static void
remote_tunnel_failed(struct remote *b, const char *error, void *arg)
{
	struct remote *r = arg;

	remote_fail(r, "cannot reach %s through its bastion %s: %s", r->name,
	    b->name, error);
}

static const struct remote_events remote_tunnel_events = { remote_tunnel_ready,
	remote_tunnel_failed, NULL };

/* Events of a bastion whose host session is gone: none. */
static const struct remote_events remote_tunnel_orphan_events = { NULL, NULL,
	NULL };

/* A session reached through the bastion jump: make the bastion's. */
void
remote_tunnel_new(struct remote *r, const struct remote_cfg *jump)
{
	struct remote_cfg cfg = *jump;

	cfg.max_channels = 1;
	cfg.jump = NULL;
	if (cfg.connect_timeout_ms == 0)
		cfg.connect_timeout_ms = r->connect_timeout_ms;
	r->bastion = remote_new(r->loop, &cfg, &remote_tunnel_events, r);
	r->tunnel_fd = -1;
	buf_init(&r->to_ssh);
	buf_init(&r->to_channel);
}

/* Start with the bastion; the host's session follows its channel. */
void
remote_tunnel_connect(struct remote *r)
{
	remote_connect(r->bastion);
}

/*
 * On the bastion's drive: open the channel to the host, then hand the
 * host's session its socket; afterwards move the bytes the channel's
 * window now lets through.
 */
void
remote_tunnel_step(struct remote *b)
{
	struct remote *r = b->tunnel_of;
	int rc, sv[2];

	if (r == NULL || r->state == RS_FAILED)
		return;
	if (r->tunnel_fd == -1) {
		rc = ssh_channel_open_forward(
		    r->tunnel, r->address, r->port, "127.0.0.1", 0);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			remote_fail(r,
			    "connection to %s (%s:%d) through its bastion %s "
			    "failed: %s",
			    r->name, r->address, r->port, b->name,
			    ssh_get_error(b->session));
			return;
		}
		if (socketpair(AF_UNIX,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			sv) == -1) {
			remote_fail(r, "socketpair: %s", strerror(errno));
			return;
		}
		r->tunnel_fd = sv[1];
		uv_poll_init(r->loop, &r->tunnel_poll, sv[1]);
		r->tunnel_poll.data = r;
		r->tunnel_poll_init = 1;
		r->handles++;
		remote_attach_fd(r, sv[0]);
		if (remote_tunnel_flush_ssh(r) == -1)
			r->tunnel_eof_in = 1;
		remote_tunnel_update_poll(r);
		return;
	}
	if (remote_tunnel_flush_channel(r) == -1)
		remote_fail(r, "connection to %s lost (through %s): %s",
		    r->name, b->name, ssh_get_error(b->session));
}

/* The host's session is going: close the pump and the bastion's session. */
void
remote_tunnel_free(struct remote *r, uv_close_cb closed_cb)
{
	if (r->bastion == NULL)
		return;
	if (r->tunnel != NULL) {
		/* The channel is the bastion session's: ssh_free() of that
		 * session frees it; its callbacks must not reach us again. */
		ssh_remove_channel_callbacks(r->tunnel, &r->tunnel_cb);
		r->tunnel = NULL;
	}
	r->bastion->tunnel_of = NULL;
	r->bastion->ev = &remote_tunnel_orphan_events;
	remote_free(r->bastion);
	r->bastion = NULL;
	if (r->tunnel_poll_init) {
		r->tunnel_poll_init = 0;
		uv_close((uv_handle_t *)&r->tunnel_poll, closed_cb);
	}
	if (r->tunnel_fd != -1) {
		close(r->tunnel_fd);
		r->tunnel_fd = -1;
	}
	buf_free(&r->to_ssh);
	buf_free(&r->to_channel);
}
