/*
 * wrapper.c: builds the shell text of the remote wrapper and its helpers.
 *
 * The wrapper runs in the login shell sshd starts for the exec channel
 * (or in /bin/sh under sudo). It uses shell built-ins only, and one
 * subshell for the script, because each fork or exec costs more than a
 * small remote command (docs/benchmarks.md):
 *
 *   - mkdir the record directory; an existing one is never reused;
 *   - write the process group id (read from /proc, since under sudo the
 *     shell is not the group leader) to pgid;
 *   - read the script from standard input with `read`, so no secret is
 *     ever on a command line that `ps` shows;
 *   - run it with errexit in a subshell whose EXIT trap writes exit;
 *     the parent writes status after `wait`. Only a normal end writes
 *     both: a death by signal leaves status without exit (the parent saw
 *     128+N) or neither (the group was killed), which tells an exit apart
 *     from a signal where an EXIT trap alone would not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wrapper.h"
#include "xmalloc.h"

/* Quote s for a POSIX shell: 'it'\''s'. */
char *
sh_quote(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_adds(&b, "'\\''");
		else
			buf_addc(&b, *s);
	}
	buf_addc(&b, '\'');
	return buf_release(&b);
}

/* /var/tmp/hostswap/RUN_UID/HOST/PHASE-STEP-ATTEMPT (safe characters). */
char *
wrapper_record_dir(const char *uid, const char *host, int phase,
    const char *step, int attempt)
{
	char *d;

	xasprintf(&d, "%s/%s/%s/%d-%s-%d", WRAPPER_ROOT, uid, host, phase,
	    step, attempt);
	return d;
}

/* Wrap a shell text for become: sudo (password first on stdin, or -n). */
static char *
wrapper_become(char *text, const struct wrapper_become *b)
{
	char *q, *cmd;

	if (b == NULL || !b->sudo)
		return text;
	q = sh_quote(text);
	xasprintf(&cmd, "sudo %s sh -c %s", b->password ? "-S -p ''" : "-n",
	    q);
	free(q);
	free(text);
	return cmd;
}

/* Read the whole of standard input into $s with built-ins only. */
#define READ_SCRIPT \
	"s=;while IFS= read -r l||[ -n \"$l\" ];do s=\"$s$l\n\";done;"

/* Write the process group id of this shell to $d/pgid. */
#define WRITE_PGID \
	"g=$$;[ -r /proc/$$/stat ]&&read -r _ _ _ _ g _ </proc/$$/stat;" \
	"echo \"$g\" >\"$d/pgid\";"

/* Make the record directory, refusing to reuse one. */
#define MAKE_RECORD \
	"umask 077;mkdir -p \"${d%%/*}\"&&mkdir \"$d\"||{ echo \"hostswap: " \
	"cannot create the task record $d (it exists, or /var/tmp is not " \
	"writable)\" >&2;exit %d;};"

/*
 * The command for a task. In RUN mode the script's output streams back;
 * in DETACH mode the script runs in a new session with its output in the
 * record, and the command returns as soon as it started, so that the
 * script survives the connection (a network restart).
 */
char *
wrapper_command(enum wrapper_mode mode, const char *dir,
    const struct wrapper_become *b)
{
	struct buf t;
	char *qd, *inner, *qinner;

	buf_init(&t);
	if (mode == WRAPPER_PLAIN) {
		buf_adds(&t, READ_SCRIPT "(set -e;eval \"$s\")</dev/null");
		return wrapper_become(buf_release(&t), b);
	}
	qd = sh_quote(dir);
	buf_printf(&t, "d=%s;", qd);
	buf_printf(&t, MAKE_RECORD, WRAPPER_EXIT_RECORD);
	if (mode == WRAPPER_RUN) {
		buf_adds(&t, WRITE_PGID READ_SCRIPT
		    "(trap 'echo $? >\"$d/exit\"' 0;set -e;eval \"$s\")"
		    "</dev/null;r=$?;echo $r >\"$d/status\";exit $r");
	} else {
		inner = xstrdup("d=$1;" WRITE_PGID
		    "(trap 'echo $? >\"$d/exit\"' 0;set -e;. \"$d/script\")"
		    "</dev/null >\"$d/out\" 2>\"$d/err\";r=$?;"
		    "echo $r >\"$d/status\";rm -f \"$d/script\"");
		qinner = sh_quote(inner);
		buf_printf(&t, READ_SCRIPT "printf %%s \"$s\" >\"$d/script\";"
		    "setsid sh -c %s sh \"$d\" </dev/null >/dev/null 2>&1 & "
		    "echo started", qinner);
		free(inner);
		free(qinner);
	}
	free(qd);
	return wrapper_become(buf_release(&t), b);
}

/*
 * End a task's whole process group (grandchildren too): TERM, then KILL
 * after a short grace. Sent over a second channel, because OpenSSH
 * refuses signal requests for root sessions.
 */
char *
wrapper_kill_command(const char *dir, const struct wrapper_become *b)
{
	struct buf t;
	char *qd;

	qd = sh_quote(dir);
	buf_init(&t);
	buf_printf(&t, "d=%s;[ -r \"$d/pgid\" ]||exit 0;read -r g <\"$d/pgid\";"
	    "[ \"$g\" -gt 1 ]||exit 0;kill -TERM -\"$g\" 2>/dev/null||exit 0;"
	    "i=0;while kill -0 -\"$g\" 2>/dev/null&&[ $i -lt 20 ];do "
	    "sleep 0.1;i=$((i+1));done;kill -KILL -\"$g\" 2>/dev/null;exit 0",
	    qd);
	free(qd);
	return wrapper_become(buf_release(&t), b);
}

/*
 * Report a record: "status S exit E" (ended), "running", "dead" (no
 * status and no live process), or "none". After an end the detached
 * script's output follows on stdout and stderr.
 */
char *
wrapper_probe_command(const char *dir, const struct wrapper_become *b)
{
	struct buf t;
	char *qd;

	qd = sh_quote(dir);
	buf_init(&t);
	buf_printf(&t, "d=%s;if [ -r \"$d/status\" ];then read -r s <\"$d/status\";"
	    "e=;[ -r \"$d/exit\" ]&&read -r e <\"$d/exit\";"
	    "echo \"status $s exit $e\";[ -r \"$d/out\" ]&&cat \"$d/out\";"
	    "[ -r \"$d/err\" ]&&cat \"$d/err\" >&2;exit 0;fi;"
	    "if [ -r \"$d/pgid\" ];then read -r g <\"$d/pgid\";"
	    "if kill -0 -\"$g\" 2>/dev/null;then echo running;else echo dead;fi;"
	    "else echo none;fi", qd);
	free(qd);
	return wrapper_become(buf_release(&t), b);
}

/* Remove a run's records on a host (the run succeeded). */
char *
wrapper_cleanup_command(const char *uid, const struct wrapper_become *b)
{
	char *cmd, *q, *d;

	xasprintf(&d, "%s/%s", WRAPPER_ROOT, uid);
	q = sh_quote(d);
	xasprintf(&cmd, "rm -rf %s", q);
	free(q);
	free(d);
	return wrapper_become(cmd, b);
}

/*
 * The script of a `put`: write the content to a temporary file beside
 * the target, give it its mode and owner (or the old file's), keep the
 * old file as PATH.DATE (then PATH.DATE.1, ...; never overwriting a
 * backup) when asked, and move it into place. Nothing changes when the
 * file already has that content, so a re-run is harmless.
 */
char *
wrapper_put_script(const char *path, const char *content, size_t len,
    int has_mode, unsigned mode, const char *owner, int backup,
    const char *date)
{
	struct buf t;
	char *qp, *qc, *qo = NULL, *text;

	text = xstrndup(content, len);
	qp = sh_quote(path);
	qc = sh_quote(text);
	free(text);
	if (owner != NULL)
		qo = sh_quote(owner);
	buf_init(&t);
	buf_printf(&t, "p=%s\nt=\"$p.hostswap-new\"\n", qp);
	buf_printf(&t, "printf %%s %s >\"$t\"\n", qc);
	if (has_mode)
		buf_printf(&t, "chmod %04o \"$t\"\n", mode);
	else
		buf_adds(&t, "if [ -e \"$p\" ]; then chmod --reference=\"$p\" "
		    "\"$t\"; else chmod 0644 \"$t\"; fi\n");
	if (qo != NULL)
		buf_printf(&t, "chown %s \"$t\"\n", qo);
	else
		buf_adds(&t, "if [ -e \"$p\" ]; then chown --reference=\"$p\" "
		    "\"$t\"; fi\n");
	buf_adds(&t, "if [ -e \"$p\" ] && cmp -s \"$t\" \"$p\"; then\n"
	    "  chmod --reference=\"$t\" \"$p\"; chown --reference=\"$t\" \"$p\"\n"
	    "  rm -f \"$t\"; echo \"$p: unchanged\"; exit 0\nfi\n");
	if (backup)
		buf_printf(&t, "if [ -e \"$p\" ]; then\n  b=\"$p.%s\"; n=0\n"
		    "  while [ -e \"$b\" ]; do n=$((n+1)); b=\"$p.%s.$n\"; "
		    "done\n  cp -p \"$p\" \"$b\"; echo \"backup: $b\"\nfi\n",
		    date, date);
	buf_adds(&t, "mv -f \"$t\" \"$p\"\necho \"$p: written\"\n");
	free(qp);
	free(qc);
	free(qo);
	return buf_release(&t);
}
