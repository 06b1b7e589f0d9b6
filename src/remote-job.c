/*
 * remote-job.c: the jobs of a remote session. A job is one exec channel:
 * open it, exec the command, write its standard input (all at once, or
 * held until remote_job_feed()), send EOF, then wait for the server to
 * close it. Channel callbacks deliver output and the exit status as
 * remote_drive() processes packets; remote_job_step() advances a job as
 * far as it goes after each batch. A job abandoned inside a drive is
 * finished by the drive on its way out, never under libssh's feet.
 */
#include <stdlib.h>
#include <string.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "remote-int.h"
#include "xmalloc.h"

/* Finish a job: tell its owner (unless abandoned) and forget the channel. */
void
remote_job_finish(struct remote_job *j, const char *error)
{
	struct remote_result res;

	if (j->state == J_DONE)
		return;
	if (j->channel != NULL) {
		/* libssh keeps a channel closed by us until the server's close
		 * arrives: its callbacks must not reach this job afterwards. */
		ssh_remove_channel_callbacks(j->channel, &j->cb);
		if (ssh_channel_is_open(j->channel))
			ssh_channel_close(j->channel);
		ssh_channel_free(j->channel);
		j->channel = NULL;
		j->remote->open_channels--;
	}
	j->state = J_DONE;
	if (j->abandoned || j->jcb == NULL || j->jcb->done == NULL)
		return;
	res.exit_status = error ? -1 : j->exit_status;
	res.signal = error ? NULL : j->signal;
	res.error = error;
	j->jcb->done(j->arg, &res);
}

/* Free jobs that are done, keeping the rest in order. */
void
remote_reap_jobs(struct remote *r)
{
	struct remote_job **jp = &r->jobs, *j;

	while ((j = *jp) != NULL) {
		if (j->state != J_DONE) {
			jp = &j->next;
			continue;
		}
		*jp = j->next;
		if (j->jcb != NULL && j->jcb->release != NULL)
			j->jcb->release(j->arg);
		free(j->command);
		if (j->in != NULL)
			explicit_bzero(j->in, j->inlen);
		free(j->in);
		free(j->signal);
		free(j);
	}
}

/* Channel callback: output arrived. */
static int
remote_data_cb(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct remote_job *j = arg;

	(void)s;
	(void)ch;
	if (!j->abandoned && j->jcb->output != NULL)
		j->jcb->output(j->arg, data, len, is_stderr);
	return (int)len;
}

/* Channel callback: the command exited. */
static void
remote_exit_status_cb(ssh_session s, ssh_channel ch, int status, void *arg)
{
	struct remote_job *j = arg;

	(void)s;
	(void)ch;
	j->exit_status = status;
}

/* Channel callback: the command was killed by a signal. */
static void
remote_exit_signal_cb(ssh_session s, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct remote_job *j = arg;

	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	free(j->signal);
	j->signal = xstrdup(sig ? sig : "?");
}

/* Channel callback: the server closed the channel. */
static void
remote_close_cb(ssh_session s, ssh_channel ch, void *arg)
{
	struct remote_job *j = arg;

	(void)s;
	(void)ch;
	j->closed = 1;
}

/* Advance one job as far as it goes without waiting. */
void
remote_job_step(struct remote *r, struct remote_job *j)
{
	int rc;

	if (j->abandoned && j->state != J_QUEUED && j->state != J_DONE) {
		remote_job_finish(j, "abandoned");
		return;
	}
	switch (j->state) {
	case J_QUEUED:
		if (r->open_channels >= r->max_channels ||
		    (!(j->flags & REMOTE_PRIORITY) && r->max_channels > 1 &&
			r->open_channels >= r->max_channels - 1))
			return;
		if (j->abandoned) {
			remote_job_finish(j, "abandoned");
			return;
		}
		if ((j->channel = ssh_channel_new(r->session)) == NULL) {
			remote_job_finish(j, "cannot create a channel");
			return;
		}
		r->open_channels++;
		memset(&j->cb, 0, sizeof j->cb);
		j->cb.userdata = j;
		j->cb.channel_data_function = remote_data_cb;
		j->cb.channel_exit_status_function = remote_exit_status_cb;
		j->cb.channel_exit_signal_function = remote_exit_signal_cb;
		j->cb.channel_close_function = remote_close_cb;
		ssh_callbacks_init(&j->cb);
		ssh_set_channel_callbacks(j->channel, &j->cb);
		j->state = J_OPENING;
		/* FALLTHROUGH */
	case J_OPENING:
		rc = ssh_channel_open_session(j->channel);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			remote_job_finish(j, ssh_get_error(r->session));
			return;
		}
		j->state = J_EXEC;
		/* FALLTHROUGH */
	case J_EXEC:
		rc = ssh_channel_request_exec(j->channel, j->command);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			remote_job_finish(j, ssh_get_error(r->session));
			return;
		}
		j->state = J_WRITING;
		/* FALLTHROUGH */
	case J_WRITING:
		while (j->inoff < j->inlen) {
			rc = ssh_channel_write(j->channel, j->in + j->inoff,
			    (uint32_t)(j->inlen - j->inoff));
			if (rc == SSH_ERROR) {
				remote_job_finish(j, ssh_get_error(r->session));
				return;
			}
			if (rc <= 0)
				return; /* the window is full: later */
			j->inoff += (size_t)rc;
		}
		/* remote_job_feed() brings the rest — unless the command
		 * already exited (sudo refused before reading it): then the
		 * EOF lets the server close the channel. */
		if ((j->flags & REMOTE_HOLD_STDIN) && j->exit_status == -1 &&
		    j->signal == NULL)
			return;
		if (ssh_channel_send_eof(j->channel) == SSH_ERROR) {
			remote_job_finish(j, ssh_get_error(r->session));
			return;
		}
		j->state = J_RUNNING;
		/* FALLTHROUGH */
	case J_RUNNING:
		if (j->closed || ssh_channel_is_closed(j->channel))
			remote_job_finish(j, NULL);
		return;
	case J_DONE:
		return;
	}
}

/*
 * Submit a job: run command with in as its standard input (copied; wiped
 * when freed). Jobs start in order as channels are free. Returns the job,
 * or NULL if it has already ended (its done callback has run).
 */
struct remote_job *
remote_exec(struct remote *r, const char *command, const char *in, size_t inlen,
    int flags, const struct remote_job_cb *cb, void *arg)
{
	struct remote_job *j = xcalloc(1, sizeof *j), **jp;

	j->remote = r;
	j->state = J_QUEUED;
	j->flags = flags;
	j->command = xstrdup(command);
	if (inlen > 0) {
		j->in = xmalloc(inlen);
		memcpy(j->in, in, inlen);
		j->inlen = inlen;
	}
	j->exit_status = -1;
	j->jcb = cb;
	j->arg = arg;
	for (jp = &r->jobs; *jp != NULL; jp = &(*jp)->next)
		;
	*jp = j;
	if (r->state == RS_FAILED) {
		remote_job_finish(j, r->error);
		remote_reap_jobs(r);
		return NULL;
	}
	if (r->state == RS_READY && r->busy == 0) {
		remote_drive(r);
		/* The drive may have ended and freed the job already (a
		 * session that broke): its done callback has run. */
		for (jp = &r->jobs; *jp != NULL && *jp != j; jp = &(*jp)->next)
			;
		if (*jp == NULL)
			return NULL;
	}
	return j;
}

/*
 * Give a held job more of its standard input; unless more, it then ends
 * (EOF). The bytes are copied, and wiped when the job is freed.
 */
void
remote_job_feed(struct remote_job *j, const char *data, size_t len, int more)
{
	struct remote *r;
	char *in;

	if (j == NULL || j->state == J_DONE || !(j->flags & REMOTE_HOLD_STDIN))
		return;
	in = xmalloc(j->inlen + len + 1);
	if (j->inlen > 0)
		memcpy(in, j->in, j->inlen);
	memcpy(in + j->inlen, data, len);
	if (j->in != NULL) {
		explicit_bzero(j->in, j->inlen);
		free(j->in);
	}
	j->in = in;
	j->inlen += len;
	if (!more)
		j->flags &= ~REMOTE_HOLD_STDIN;
	r = j->remote;
	if (r->state == RS_READY && r->busy == 0)
		remote_drive(r);
}

/* Stop caring about a job: no more callbacks; its channel is closed. */
void
remote_job_abandon(struct remote_job *j)
{
	struct remote *r;

	if (j == NULL)
		return;
	j->abandoned = 1;
	r = j->remote;
	if (j->state == J_QUEUED) {
		j->state = J_DONE;
		if (r->busy == 0)
			remote_reap_jobs(r);
		return;
	}
	/* Inside a drive, libssh may be dispatching on this very channel:
	 * the drive finishes it on its way out (remote_job_step). */
	if (r->busy > 0)
		return;
	if (j->state != J_DONE)
		remote_job_finish(j, "abandoned");
	if (r->busy == 0) {
		remote_reap_jobs(r);
		if (r->state == RS_READY)
			remote_drive(r);
	}
}
