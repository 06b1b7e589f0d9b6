/*
 * local.c: runs a script on the controller as the daemon's user. The
 * script goes to `sh` on a pipe and is run by the same built-ins-only
 * reader as on hosts, in its own process group (so that a timeout ends
 * its children too). Each job owns its handles and frees itself after the
 * last close callback.
 *
 * At most LOCAL_MAX_RUNNING scripts run at once: each holds three pipes,
 * and a phase of hundreds of local steps would otherwise run the daemon
 * out of file descriptors (Linux's usual soft limit is 1024). The rest
 * wait in order, as a host's jobs wait for a free channel; a job is
 * counted until its last handle has closed, its pipes with it.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "local.h"
#include "remote.h"
#include "xmalloc.h"

struct local_job {
	struct local_job *next; /* waiting for a free slot */
	uv_loop_t *loop;
	int queued;
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_write_t wreq;
	uv_buf_t wbuf;
	char *script;
	int handles;
	int exited;
	int closed_out, closed_err;
	int64_t status;
	int signal;
	int abandoned;
	int done;
	const struct remote_job_cb *cb;
	void *arg;
};

/* The jobs waiting for a slot, oldest first, and the slots taken. */
static struct local_job *local_head, *local_tail;
static int local_running;

static void local_spawn(struct local_job *);

/* The same reader and errexit subshell as the remote wrapper. */
static const char local_wrapper[] =
    "s=;while IFS= read -r l||[ -n \"$l\" ];do s=\"$s$l\n\";done;"
    "(set -e;eval \"$s\")</dev/null";

/* Free a job that holds no handle (any more). */
static void
local_free(struct local_job *j)
{
	if (j->script != NULL)
		explicit_bzero(j->script, strlen(j->script));
	free(j->script);
	free(j);
}

/* A handle closed; the last one frees the job. */
static void
local_closed_cb(uv_handle_t *h)
{
	struct local_job *j = h->data;

	if (--j->handles > 0)
		return;
	local_free(j);
	/* Its pipes are closed: the oldest waiting job takes the slot. */
	local_running--;
	if (local_head != NULL) {
		j = local_head;
		if ((local_head = j->next) == NULL)
			local_tail = NULL;
		j->queued = 0;
		local_spawn(j);
	}
}

/* Report the end once the process exited and its output is drained. */
static void
local_maybe_done(struct local_job *j)
{
	struct remote_result res;
	static const char *const names[] = {
		[SIGTERM] = "TERM",
		[SIGKILL] = "KILL",
		[SIGINT] = "INT",
		[SIGHUP] = "HUP",
		[SIGPIPE] = "PIPE",
	};

	if (!j->exited || !j->closed_out || !j->closed_err || j->done)
		return;
	j->done = 1;
	if (!j->abandoned && j->cb->done != NULL) {
		memset(&res, 0, sizeof res);
		res.exit_status = j->signal ? -1 : (int)j->status;
		if (j->signal)
			res.signal = (size_t)j->signal <
				    sizeof names / sizeof names[0] &&
				names[j->signal]
			    ? names[j->signal]
			    : "?";
		j->cb->done(j->arg, &res);
	}
	uv_close((uv_handle_t *)&j->proc, local_closed_cb);
}

/* The process exited. */
static void
local_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct local_job *j = p->data;

	j->exited = 1;
	j->status = status;
	j->signal = sig;
	local_maybe_done(j);
}

/* Buffers for reading output. */
static void
local_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(size);
	b->len = size;
}

/* Output arrived (or ended). */
static void
local_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct local_job *j = s->data;
	int is_err = s == (uv_stream_t *)&j->err;

	if (n > 0 && !j->abandoned && j->cb->output != NULL)
		j->cb->output(j->arg, b->base, (size_t)n, is_err);
	free(b->base);
	if (n < 0) {
		uv_close((uv_handle_t *)s, local_closed_cb);
		if (is_err)
			j->closed_err = 1;
		else
			j->closed_out = 1;
		local_maybe_done(j);
	}
}

/* The script was written: close stdin so the reader sees its end. */
static void
local_write_cb(uv_write_t *w, int status)
{
	struct local_job *j = w->data;

	(void)status;
	uv_close((uv_handle_t *)&j->in, local_closed_cb);
}

/* Start a job's script in a slot of its own (counted from here until
 * its last handle closes, a failed start included). */
static void
local_spawn(struct local_job *j)
{
	uv_process_options_t opts;
	uv_stdio_container_t stdio[3];
	static char arg0[] = "sh", arg1[] = "-c";
	char *args[] = { arg0, arg1, (char *)local_wrapper, NULL };
	struct remote_result res;
	int rc;

	local_running++;
	uv_pipe_init(j->loop, &j->in, 0);
	uv_pipe_init(j->loop, &j->out, 0);
	uv_pipe_init(j->loop, &j->err, 0);
	j->in.data = j->out.data = j->err.data = j->proc.data = j;
	j->handles = 4;
	memset(&opts, 0, sizeof opts);
	stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	stdio[0].data.stream = (uv_stream_t *)&j->in;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&j->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&j->err;
	opts.file = "/bin/sh";
	opts.args = args;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	opts.exit_cb = local_exit_cb;
	opts.flags = UV_PROCESS_DETACHED; /* its own process group */
	if ((rc = uv_spawn(j->loop, &j->proc, &opts)) < 0) {
		memset(&res, 0, sizeof res);
		res.exit_status = -1;
		res.error = uv_strerror(rc);
		j->done = 1;
		uv_close((uv_handle_t *)&j->in, local_closed_cb);
		uv_close((uv_handle_t *)&j->out, local_closed_cb);
		uv_close((uv_handle_t *)&j->err, local_closed_cb);
		uv_close((uv_handle_t *)&j->proc, local_closed_cb);
		j->cb->done(j->arg, &res);
		return;
	}
	uv_read_start((uv_stream_t *)&j->out, local_alloc_cb, local_read_cb);
	uv_read_start((uv_stream_t *)&j->err, local_alloc_cb, local_read_cb);
	j->wbuf = uv_buf_init(j->script, (unsigned)strlen(j->script));
	j->wreq.data = j;
	uv_write(&j->wreq, (uv_stream_t *)&j->in, &j->wbuf, 1, local_write_cb);
}

/*
 * Run script on the controller: now if a slot is free, else once one is.
 * NULL if it could not start; its done callback has run then. A job that
 * waits has started as far as its caller knows (its done callback comes
 * later, a failed start's too).
 */
struct local_job *
local_run(uv_loop_t *loop, const char *script, size_t len,
    const struct remote_job_cb *cb, void *arg)
{
	struct local_job *j = xcalloc(1, sizeof *j);

	j->loop = loop;
	j->cb = cb;
	j->arg = arg;
	j->script = xstrndup(script, len);
	if (local_running >= LOCAL_MAX_RUNNING) {
		j->queued = 1;
		if (local_tail != NULL)
			local_tail->next = j;
		else
			local_head = j;
		local_tail = j;
		return j;
	}
	local_spawn(j);
	return j->done ? NULL : j;
}

/* Stop caring: kill its whole process group; no more callbacks. */
void
local_job_abandon(struct local_job *j)
{
	struct local_job **p, *prev = NULL;

	if (j == NULL || j->done)
		return;
	if (j->queued) { /* never started: it holds nothing but itself */
		for (p = &local_head; *p != j; p = &(*p)->next)
			prev = *p;
		*p = j->next;
		if (local_tail == j)
			local_tail = prev;
		local_free(j);
		return;
	}
	j->abandoned = 1;
	if (!j->exited && j->proc.pid > 0)
		kill(-j->proc.pid, SIGKILL);
}
