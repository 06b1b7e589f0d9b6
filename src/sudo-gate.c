/*
 * sudo-gate.c: starts a wrapper on a session and, under become: sudo with
 * a password, stands between sudo and the script.
 *
 * sudo asks with a prompt unique to the job ("hostswap-sudo-NONCE%:", on
 * stderr, with LC_ALL=C so its words are the same on every host). The
 * gate writes the password only after it saw that prompt: a sudo that
 * does not ask (NOPASSWD, a cached credential) never receives it, so the
 * password can never be read as the first line of the script and run as
 * root. The shell under sudo then prints "hostswap-ready-NONCE" on
 * stdout; only then does the gate send the script. A second prompt means
 * the password was refused: the job is abandoned (sudo reads EOF) and
 * fails with sudo's words, and the script was never sent.
 *
 * What a login shell prints on stdout before the ready line (a noisy
 * .bashrc) is passed on as the task's output; what sudo prints on stderr
 * (its lecture) is kept, bounded, for the error. Memory is bounded
 * whatever the host sends.
 */
#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "sudo-gate.h"
#include "xmalloc.h"

/* sudo's stderr kept for the error: its last bytes. */
#define GATE_ERR_MAX 8192

/* A stdout line before the ready line longer than this is passed on. */
#define GATE_LINE_MAX 4096

struct sudo_gate {
	const struct remote_job_cb *cb;
	void *arg;
	struct remote_job *job;
	char *pw; /* the password line, until sudo asks */
	size_t pwlen;
	char *script; /* the script, until the shell is ready */
	size_t len;
	char prompt[64]; /* sudo's prompt for this job */
	char ready[64];  /* the ready line */
	struct buf line; /* stdout's partial line before the ready line */
	struct buf err;  /* sudo's stderr, its last GATE_ERR_MAX bytes */
	size_t scanned;  /* err bytes searched for the prompt */
	int prompts;     /* how often sudo asked */
	int open;        /* the ready line was seen: the script went */
	int failed;
};

/* A job's nonce: 32 hex digits. */
static void
sudo_gate_nonce(char *out, size_t size)
{
	unsigned char b[16];
	size_t i;

	if (getrandom(b, sizeof b, 0) != sizeof b)
		fatal("getrandom");
	for (i = 0; i < sizeof b && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Wipe what a gate holds of the password and the script. */
static void
sudo_gate_wipe(struct sudo_gate *g)
{
	if (g->pw != NULL) {
		explicit_bzero(g->pw, g->pwlen);
		free(g->pw);
		g->pw = NULL;
	}
	if (g->script != NULL) {
		explicit_bzero(g->script, g->len);
		free(g->script);
		g->script = NULL;
	}
}

/* Wipe and free a gate. */
static void
sudo_gate_free(struct sudo_gate *g)
{
	sudo_gate_wipe(g);
	buf_free(&g->line);
	buf_free(&g->err);
	free(g);
}

/*
 * The line of sudo's stderr that says why it stopped: "Sorry, try
 * again." when it was said, else its last line (prompts left out).
 */
static void
sudo_gate_reason(struct sudo_gate *g, char *msg, size_t size)
{
	char *s, *p, *line, *best = NULL;
	size_t plen = strlen(g->prompt);

	s = xstrdup(g->err.data != NULL ? g->err.data : "");
	while ((p = strstr(s, g->prompt)) != NULL) {
		*p = '\n';
		memmove(p + 1, p + plen, strlen(p + plen) + 1);
	}
	for (line = strtok(s, "\r\n"); line != NULL;
	     line = strtok(NULL, "\r\n")) {
		while (*line == ' ')
			line++;
		if (*line == '\0')
			continue;
		if (best == NULL || strncmp(best, "Sorry, try again", 16) != 0)
			best = line;
	}
	snprintf(msg, size, "sudo refused: %.400s",
	    best != NULL ? best : "sudo did not start the command");
	free(s);
}

/* The gate fails the job: abandon it and tell the owner once. */
static void
sudo_gate_fail(struct sudo_gate *g)
{
	struct remote_result res;
	char msg[512];

	g->failed = 1;
	sudo_gate_wipe(g);
	sudo_gate_reason(g, msg, sizeof msg);
	remote_job_abandon(g->job);
	memset(&res, 0, sizeof res);
	res.exit_status = -1;
	res.error = msg;
	if (g->cb->done != NULL)
		g->cb->done(g->arg, &res);
}

/* sudo's stderr: answer its first prompt; a second one is a refusal. */
static void
sudo_gate_stderr(struct sudo_gate *g, const char *data, size_t len)
{
	size_t plen = strlen(g->prompt), from;
	const char *p;

	buf_add(&g->err, data, len);
	for (;;) {
		from = g->scanned;
		p = g->err.len >= plen ? memmem(g->err.data + from,
					     g->err.len - from, g->prompt, plen)
				       : NULL;
		if (p == NULL)
			break;
		g->scanned = (size_t)(p - g->err.data) + plen;
		/* sudo prints its prompt at the start of a line; anything
		 * else (a shell tracing its command line) is not sudo asking. */
		if (p > g->err.data && p[-1] != '\n' && p[-1] != '\r')
			continue;
		if (++g->prompts > 1) {
			sudo_gate_fail(g);
			return;
		}
		remote_job_feed(g->job, g->pw, g->pwlen, 1);
		explicit_bzero(g->pw, g->pwlen);
		free(g->pw);
		g->pw = NULL;
	}
	/* A prompt may still be arriving: search its length back again. */
	if (g->err.len > plen && g->scanned < g->err.len - plen)
		g->scanned = g->err.len - plen;
	if (g->err.len > GATE_ERR_MAX) {
		size_t cut = g->err.len - GATE_ERR_MAX / 2;

		memmove(g->err.data, g->err.data + cut, g->err.len - cut);
		g->err.len -= cut;
		g->err.data[g->err.len] = '\0';
		g->scanned = g->scanned > cut ? g->scanned - cut : 0;
	}
}

/* stdout before the ready line: whole lines are the task's output. */
static void
sudo_gate_stdout(struct sudo_gate *g, const char *data, size_t len)
{
	const char *nl;
	size_t n;

	buf_add(&g->line, data, len);
	while (!g->open && !g->failed &&
	    (nl = memchr(g->line.data, '\n', g->line.len)) != NULL) {
		n = (size_t)(nl - g->line.data) + 1;
		if (n - 1 == strlen(g->ready) &&
		    memcmp(g->line.data, g->ready, n - 1) == 0) {
			g->open = 1;
			remote_job_feed(g->job, g->script, g->len, 0);
			sudo_gate_wipe(g);
		} else if (g->cb->output != NULL)
			g->cb->output(g->arg, g->line.data, n, 0);
		memmove(g->line.data, g->line.data + n, g->line.len - n);
		g->line.len -= n;
		g->line.data[g->line.len] = '\0';
	}
	if (g->failed)
		return;
	if ((g->open || g->line.len > GATE_LINE_MAX) && g->line.len > 0) {
		if (g->cb->output != NULL)
			g->cb->output(g->arg, g->line.data, g->line.len, 0);
		g->line.len = 0;
		g->line.data[0] = '\0';
	}
}

/* Output through the gate. */
static void
sudo_gate_output_cb(void *arg, const char *data, size_t len, int is_stderr)
{
	struct sudo_gate *g = arg;

	if (g->failed)
		return;
	if (g->open) {
		if (g->cb->output != NULL)
			g->cb->output(g->arg, data, len, is_stderr);
		return;
	}
	if (is_stderr)
		sudo_gate_stderr(g, data, len);
	else
		sudo_gate_stdout(g, data, len);
}

/* The job ended through the gate (unless the gate already failed it). */
static void
sudo_gate_done_cb(void *arg, const struct remote_result *res)
{
	struct sudo_gate *g = arg;
	struct remote_result r2;
	char msg[512];

	if (g->failed)
		return;
	sudo_gate_wipe(g);
	if (!g->open && res->error == NULL) {
		r2 = *res;
		sudo_gate_reason(g, msg, sizeof msg);
		r2.error = msg;
		if (g->cb->done != NULL)
			g->cb->done(g->arg, &r2);
	} else if (g->cb->done != NULL)
		g->cb->done(g->arg, res);
}

/* The job is freed: so is its gate, after telling the gate's owner. */
static void
sudo_gate_release_cb(void *arg)
{
	struct sudo_gate *g = arg;

	if (g->cb->release != NULL)
		g->cb->release(g->arg);
	sudo_gate_free(g);
}

static const struct remote_job_cb sudo_gate_cb = { sudo_gate_output_cb,
	sudo_gate_done_cb, sudo_gate_release_cb };

/*
 * Start a wrapper on a session: mode, record and verified as
 * wrapper_command() takes them, the script on standard input. Under sudo
 * with a password (pw, the password line, pwlen bytes) the gate answers
 * sudo's prompt and sends the script once the shell is ready. Returns the
 * job, or NULL if it already ended (its done callback has run).
 */
struct remote_job *
sudo_gate_start(struct remote *rem, const struct sudo_gate_job *sj,
    const struct remote_job_cb *cb, void *arg)
{
	int sudo = sj->sudo, flags = sj->flags;
	const char *pw = sj->pw, *script = sj->script;
	size_t pwlen = sj->pwlen;
	static const struct remote_job_cb none = { NULL, NULL, NULL };
	struct wrapper_become b;
	struct remote_job *j;
	struct sudo_gate *g;
	char *cmd, *text;
	size_t tlen;

	if (cb == NULL)
		cb = &none;
	memset(&b, 0, sizeof b);
	b.sudo = sudo;
	b.user = sj->user;
	b.password = sudo && pw != NULL;
	sudo_gate_nonce(b.nonce, sizeof b.nonce);
	if (b.password &&
	    (pwlen == 0 || pw[pwlen - 1] != '\n' ||
		memchr(pw, '\n', pwlen - 1) != NULL ||
		memchr(pw, '\r', pwlen) != NULL ||
		memchr(pw, '\0', pwlen) != NULL)) {
		/* sudo reads one line: the rest would be read as script. */
		struct remote_result res = { -1, NULL,
			"the sudo password holds a line break or a NUL byte: "
			"sudo would read only its first line" };

		if (cb->done != NULL)
			cb->done(arg, &res);
		if (cb->release != NULL)
			cb->release(arg);
		return NULL;
	}
	cmd = wrapper_command(sj->mode, sj->record, &b, sj->verified);
	text = wrapper_script(script, b.nonce, &tlen);
	if (!b.password) {
		j = remote_exec(rem, cmd, text, tlen, flags, cb, arg);
		explicit_bzero(text, tlen);
		free(text);
		free(cmd);
		return j;
	}
	g = xcalloc(1, sizeof *g);
	g->cb = cb;
	g->arg = arg;
	g->len = tlen;
	g->script = text;
	g->pw = xmalloc(pwlen);
	memcpy(g->pw, pw, pwlen);
	g->pwlen = pwlen;
	/* The command line says NONCE%%: and sudo prints NONCE%: so the
	 * command line itself, traced by a shell, never reads as the prompt. */
	snprintf(
	    g->prompt, sizeof g->prompt, "%s%s%%:", WRAPPER_PROMPT, b.nonce);
	snprintf(g->ready, sizeof g->ready, "%s%s", WRAPPER_READY, b.nonce);
	buf_init(&g->line);
	buf_init(&g->err);
	/* The gate owns itself from here: freed with the job (release),
	 * perhaps before remote_exec() returns. Nothing goes on stdin
	 * until sudo asks or the shell is ready. */
	j = remote_exec(
	    rem, cmd, NULL, 0, flags | REMOTE_HOLD_STDIN, &sudo_gate_cb, g);
	if (j != NULL)
		g->job = j;
	free(cmd);
	return j;
}
