/*
 * wrapper.c: builds the shell text of the remote wrapper and its helpers.
 *
 * The wrapper runs in the login shell sshd starts for the exec channel
 * (or in /bin/sh under sudo). It uses shell built-ins only and runs the
 * script in its own shell, because each fork or exec costs more than a
 * small remote command (docs/benchmarks.md):
 *
 *   - the record directory normally exists already (one `mkdir -p` per
 *     host at the start of a run makes every first attempt's); only a
 *     missing one costs a mkdir;
 *   - the record is one file, `record`, created with noclobber (so an
 *     attempt never reuses one) holding "pgid N"; lines are appended as
 *     the task ends, because creating a second file at exit costs a
 *     measurable share of a small command (docs/benchmarks.md);
 *   - the script is read from standard input with `read`, so no secret is
 *     ever on a command line that `ps` shows;
 *   - it runs with errexit under traps: HUP, INT, TERM and PIPE first
 *     append "signal SIG", then the EXIT trap appends "status S". A death
 *     by signal thus leaves "signal" (caught) or no "status" (KILL),
 *     where an EXIT trap alone would record a plain exit status. A script
 *     that sets its own EXIT or signal traps replaces these; its record
 *     then has no status and a resume treats it as interrupted, never as
 *     succeeded.
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
wrapper_record_dir(
    const char *uid, const char *host, int phase, const char *step, int attempt)
{
	char *d;

	xasprintf(&d, "%s/%s/%s/%d-%s-%d", WRAPPER_ROOT, uid, host, phase, step,
	    attempt);
	return d;
}

/*
 * Wrap a shell text for become: sudo. With a password, sudo reads it from
 * stdin and the shell it starts prints WRAPPER_READY first: only then does
 * hostswap send the script, so a refused password never lets sudo read the
 * script as further password attempts. Without one, sudo -n never asks.
 */
static char *
wrapper_become(char *text, const struct wrapper_become *b)
{
	char *q, *cmd, *gated;

	if (b == NULL || !b->sudo)
		return text;
	if (b->password) {
		xasprintf(&gated, "echo %s;%s", WRAPPER_READY, text);
		free(text);
		text = gated;
	}
	q = sh_quote(text);
	xasprintf(&cmd, "sudo %s sh -c %s", b->password ? "-S -p ''" : "-n", q);
	free(q);
	free(text);
	return cmd;
}

/*
 * Read the script from standard input into $s with built-ins only, up to
 * the end line wrapper_script() adds. A script cut short (the controller
 * died while sending it) is never run: without its end line the wrapper
 * exits WRAPPER_EXIT_INCOMPLETE and, in RUN mode, records that status.
 */
#define READ_SCRIPT \
	"s=;e=;while IFS= read -r l;do [ \"$l\" = '" WRAPPER_END "' ]&&" \
	"{ e=1;break;};s=\"$s$l\n\";done;[ -n \"$e\" ]||{ echo \"hostswap: " \
	"the script arrived incomplete; not run\" >&2;exit 253;};"

/*
 * Create the record ($d) and write the process group id to pgid. sshd
 * makes the exec channel's shell a session (so group) leader: its pid is
 * the group id. Under sudo, or detached, the id is read from /proc.
 */
#define READ_PGID "[ -r /proc/$$/stat ]&&read -r _ _ _ _ g _ </proc/$$/stat;"
#define OPEN_RECORD \
	"[ -d \"$d\" ]||(umask 077;mkdir -p \"$d\")||exit %d;g=$$;%s" \
	"set -C;{ echo \"pgid $g\" >\"$d/record\";} 2>/dev/null||{ echo " \
	"\"hostswap: " \
	"cannot create the task record $d (it exists, or /var/tmp is not " \
	"writable)\" >&2;exit %d;};set +C;"

/* Record how the script ends: a caught signal first, then the status. */
#define TRAPS \
	"trap 'echo \"status $?\" >>\"$d/record\"' 0;" \
	"trap 'echo \"signal HUP\" >>\"$d/record\";exit 129' 1;" \
	"trap 'echo \"signal INT\" >>\"$d/record\";exit 130' 2;" \
	"trap 'echo \"signal PIPE\" >>\"$d/record\";exit 141' 13;" \
	"trap 'echo \"signal TERM\" >>\"$d/record\";exit 143' 15;"

/*
 * The command for a task. In RUN mode the script's output streams back;
 * in DETACH mode the script runs in a new session with its output in the
 * record, and the command returns as soon as it started, so that the
 * script survives the connection (a network restart).
 */
char *
wrapper_command(
    enum wrapper_mode mode, const char *dir, const struct wrapper_become *b)
{
	struct buf t;
	char *qd, *inner, *qinner;

	buf_init(&t);
	if (mode == WRAPPER_PLAIN) {
		buf_adds(&t, READ_SCRIPT "set -e;eval \"$s\"");
		return wrapper_become(buf_release(&t), b);
	}
	qd = sh_quote(dir);
	if (mode == WRAPPER_RUN) {
		buf_printf(&t, "d=%s;", qd);
		buf_printf(&t, OPEN_RECORD, WRAPPER_EXIT_RECORD,
		    b != NULL && b->sudo ? READ_PGID : "", WRAPPER_EXIT_RECORD);
		buf_adds(&t, READ_SCRIPT TRAPS "set -e;eval \"$s\"");
	} else {
		/* The detached shell opens the record itself. */
		buf_printf(&t,
		    "d=%s;[ -d \"$d\" ]||(umask 077;mkdir -p \"$d\")||"
		    "exit %d;[ ! -e \"$d/record\" ]||{ echo \"hostswap: the "
		    "task "
		    "record $d exists\" >&2;exit %d;};",
		    qd, WRAPPER_EXIT_RECORD, WRAPPER_EXIT_RECORD);
		xasprintf(&inner,
		    "d=$1;exec </dev/null >\"$d/out\" 2>\"$d/err\";" OPEN_RECORD
			TRAPS "set -e;. \"$d/script\"",
		    WRAPPER_EXIT_RECORD, READ_PGID, WRAPPER_EXIT_RECORD);
		qinner = sh_quote(inner);
		buf_printf(&t,
		    READ_SCRIPT
		    "(umask 077;printf %%s \"$s\" >\"$d/script\");"
		    "setsid sh -c %s sh \"$d\" </dev/null >/dev/null 2>&1 & "
		    "echo started",
		    qinner);
		free(inner);
		free(qinner);
	}
	free(qd);
	return wrapper_become(buf_release(&t), b);
}

/* The text sent on a wrapper's standard input: the script, its end line. */
char *
wrapper_script(const char *script, size_t *len)
{
	size_t n = strlen(script);
	char *s;

	*len = (size_t)xasprintf(&s, "%s%s%s\n", script,
	    n > 0 && script[n - 1] != '\n' ? "\n" : "", WRAPPER_END);
	return s;
}

/* One `mkdir -p` for the record directories of many tasks. */
char *
wrapper_prepare_script(char *const *dirs, size_t n)
{
	struct buf t;
	size_t i;
	char *q;

	buf_init(&t);
	buf_adds(&t, "umask 077;mkdir -p");
	for (i = 0; i < n; i++) {
		q = sh_quote(dirs[i]);
		buf_printf(&t, " %s", q);
		free(q);
	}
	return buf_release(&t);
}

/*
 * End a task's whole process group (grandchildren too): TERM, then KILL
 * after a short grace. Sent over a second channel, because OpenSSH
 * refuses signal requests for root sessions.
 */
char *
wrapper_kill_script(const char *dir)
{
	struct buf t;
	char *qd;

	qd = sh_quote(dir);
	buf_init(&t);
	buf_printf(&t,
	    "d=%s;[ -r \"$d/record\" ]||exit 0;"
	    "read -r _ g <\"$d/record\";"
	    "[ \"$g\" -gt 1 ]||exit 0;kill -TERM -\"$g\" 2>/dev/null||exit 0;"
	    "i=0;while kill -0 -\"$g\" 2>/dev/null&&[ $i -lt 20 ];do "
	    "sleep 0.1;i=$((i+1));done;kill -KILL -\"$g\" 2>/dev/null;exit 0",
	    qd);
	free(qd);
	return buf_release(&t);
}

/*
 * Report a record: "status S signal [SIG]" (ended), "running", "dead" (no
 * status and no live process), or "none". After an end the detached
 * script's output follows on stdout and stderr.
 */
char *
wrapper_probe_script(const char *dir)
{
	struct buf t;
	char *qd;

	qd = sh_quote(dir);
	buf_init(&t);
	buf_printf(&t,
	    "d=%s;[ -r \"$d/record\" ]||{ echo none;exit 0;};"
	    "g=;st=;sig=;while read -r k v;do case $k in pgid)g=$v;;"
	    "status)st=$v;;signal)sig=$v;;esac;done <\"$d/record\";"
	    "if [ -n \"$st\" ];then echo \"status $st signal $sig\";"
	    "[ -r \"$d/out\" ]&&cat \"$d/out\";"
	    "[ -r \"$d/err\" ]&&cat \"$d/err\" >&2;exit 0;fi;"
	    "if kill -0 -\"$g\" 2>/dev/null;then echo running;else echo "
	    "dead;fi",
	    qd);
	free(qd);
	return buf_release(&t);
}

/* Remove a run's records on a host (the run succeeded). */
char *
wrapper_cleanup_script(const char *uid)
{
	char *cmd, *q, *d;

	xasprintf(&d, "%s/%s", WRAPPER_ROOT, uid);
	q = sh_quote(d);
	xasprintf(&cmd, "rm -rf %s", q);
	free(q);
	free(d);
	return cmd;
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
	/* The new content stays private until it has its mode. */
	buf_printf(&t, "umask 077\np=%s\nt=\"$p.hostswap-new\"\n", qp);
	buf_printf(&t, "printf %%s %s >\"$t\"\n", qc);
	if (has_mode)
		buf_printf(&t, "chmod %04o \"$t\"\n", mode);
	else
		buf_adds(&t,
		    "if [ -e \"$p\" ]; then chmod --reference=\"$p\" "
		    "\"$t\"; else chmod 0644 \"$t\"; fi\n");
	if (qo != NULL)
		buf_printf(&t, "chown %s \"$t\"\n", qo);
	else
		buf_adds(&t,
		    "if [ -e \"$p\" ]; then chown --reference=\"$p\" "
		    "\"$t\"; fi\n");
	buf_adds(&t,
	    "if [ -e \"$p\" ] && cmp -s \"$t\" \"$p\"; then\n"
	    "  chmod --reference=\"$t\" \"$p\"; chown --reference=\"$t\" "
	    "\"$p\"\n"
	    "  rm -f \"$t\"; echo \"$p: unchanged\"; exit 0\nfi\n");
	if (backup)
		buf_printf(&t,
		    "if [ -e \"$p\" ]; then\n  b=\"$p.%s\"; n=0\n"
		    "  while [ -e \"$b\" ]; do n=$((n+1)); b=\"$p.%s.$n\"; "
		    "done\n  cp -p \"$p\" \"$b\"; echo \"backup: $b\"\nfi\n",
		    date, date);
	buf_adds(&t, "mv -f \"$t\" \"$p\"\necho \"$p: written\"\n");
	free(qp);
	free(qc);
	free(qo);
	return buf_release(&t);
}
