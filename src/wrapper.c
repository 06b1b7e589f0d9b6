/*
 * wrapper.c: builds the shell text of the remote wrapper and its helpers.
 *
 * The wrapper runs in the login shell sshd starts for the exec channel
 * (or in /bin/sh under sudo). It uses shell built-ins only and runs the
 * script in its own shell, because each fork or exec costs more than a
 * small remote command (docs/benchmarks.md):
 *
 *   - records live below a base only the effective user can write
 *     (/var/lib/hostswap for root, ~/.local/state/hostswap otherwise):
 *     the base, the run's and the host's directories are made once per
 *     run (wrapper_prepare_script), and every wrapper checks them again
 *     (real directories, the user's, writable by nobody else: one stat)
 *     before it makes its attempt's directory with a plain mkdir, which
 *     fails if anything is there already;
 *   - the record is one file, `record`, created with noclobber holding
 *     "pgid N"; lines are appended as the task ends, because creating a
 *     second file at exit costs a measurable share of a small command
 *     (docs/benchmarks.md);
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

/* RUN_UID/HOST/PHASE-STEP-ATTEMPT, below the record base (safe characters). */
char *
wrapper_record_dir(
    const char *uid, const char *host, int phase, const char *step, int attempt)
{
	char *d;

	xasprintf(&d, "%s/%s/%d-%s-%d", uid, host, phase, step, attempt);
	return d;
}

/*
 * The record base, in $hs_b, for the effective user read from /proc with
 * built-ins ($hs_u): root's records live where only root writes
 * (/var/lib/hostswap), a login user's in their own home. Never under a
 * world-writable directory such as /var/tmp, where another user could
 * create the base first and own every record below it.
 */
#define RECORD_BASE \
	"hs_u=;[ -r /proc/self/status ]&&while read -r hs_k _ hs_e _;do " \
	"[ \"$hs_k\" = Uid: ]&&{ hs_u=$hs_e;break;};done </proc/self/status;" \
	"[ -n \"$hs_u\" ]||hs_u=$(id -u);if [ \"$hs_u\" = 0 ];then " \
	"hs_b=" WRAPPER_BASE_ROOT ";else hs_b=$HOME/" WRAPPER_BASE_USER ";fi;"

/* A login user's base lives in their home: make its parents there. */
#define RECORD_BASE_PARENT "[ -d \"${hs_b%/*}\" ]||mkdir -p \"${hs_b%/*}\";"

/*
 * hs_bad PATH REASON: a record directory cannot be trusted; nothing of
 * the script runs. hs_chk DIR...: each is a real directory (not a link),
 * owned by the effective user and writable by nobody else, read with one
 * stat for all (under LC_ALL=C: stat names a file's type in the session's
 * language, "ディレクトリ" on a Japanese host). hs_mk DIR...: create the missing ones, mode 0700, with a
 * plain mkdir (never through a link: mkdir fails on any existing name),
 * each only in a parent that passed the checks.
 */
#define RECORD_BAD \
	"hs_bad(){ echo \"hostswap: " WRAPPER_UNSAFE "$1: $2\" >&2;" \
	"exit " WRAPPER_EXIT_RECORD_S ";};"
#define RECORD_CHK \
	"hs_chk(){ hs_c=$(LC_ALL=C stat -c '%u %a %F' -- \"$@\" 2>&1)||" \
	"hs_bad \"$1\" \"cannot read it ($hs_c)\";set -f;hs_o=$IFS;IFS='\n';" \
	"for hs_l in $hs_c;do case $hs_l in \"$hs_u \"*\" directory\");;" \
	"*\" directory\")hs_bad \"$1\" \"owned by uid ${hs_l%% *}, not by " \
	"uid $hs_u\";;*)hs_bad \"$1\" \"not a real directory " \
	"(${hs_l#* * })\";;esac;hs_m=${hs_l#* };hs_m=${hs_m%% *};" \
	"case $hs_m in *[2367]?|*[2367])hs_bad \"$1\" \"writable by " \
	"others (mode $hs_m)\";;esac;shift;done;IFS=$hs_o;set +f;};"
#define RECORD_MK \
	"hs_mk(){ for hs_x;do [ -e \"$hs_x\" ]||[ -L \"$hs_x\" ]||{ " \
	"[ \"$hs_x\" = \"$hs_b\" ]||hs_chk \"${hs_x%/*}\";" \
	"mkdir -m 700 \"$hs_x\" 2>/dev/null||[ -d \"$hs_x\" ]||" \
	"hs_bad \"$hs_x\" \"cannot create it\";};done;};"
/*
 * hs_anc: the directories above the base (those that exist, links
 * followed), up to /, are each owned by root or by the effective user,
 * and writable by nobody else unless root's and sticky (/tmp): else
 * someone could move the base away or put their own in its place.
 */
#define RECORD_ANC \
	"hs_anc(){ hs_p=${hs_b%/*};set --;while [ -n \"$hs_p\" ];do " \
	"[ -e \"$hs_p\" ]&&set -- \"$@\" \"$hs_p\";hs_p=${hs_p%/*};done;" \
	"set -- \"$@\" /;hs_c=$(LC_ALL=C stat -L -c '%u %a %F' -- \"$@\" " \
	"2>&1)||" \
	"hs_bad \"$1\" \"cannot read it ($hs_c)\";set -f;hs_o=$IFS;IFS='\n';" \
	"for hs_l in $hs_c;do hs_w=${hs_l%% *};hs_m=${hs_l#* };hs_m=${hs_m%% " \
	"*};" \
	"case $hs_l in *\" directory\");;*)hs_bad \"$1\" \"not a " \
	"directory\";;esac;[ \"$hs_w\" = 0 ]||[ \"$hs_w\" = \"$hs_u\" ]||" \
	"hs_bad \"$1\" \"owned by uid $hs_w, neither root nor uid $hs_u\";" \
	"case $hs_w:$hs_m in " \
	"0:1[0-7][0-7][0-7]);;*:*[2367]?|*:*[2367])hs_bad \"$1\" " \
	"\"writable by others (mode $hs_m)\";;esac;shift;done;IFS=$hs_o;" \
	"set +f;};"
#define RECORD_CHECKS RECORD_BAD RECORD_CHK RECORD_MK RECORD_ANC

/*
 * The base and the run's and host's directories above a record ($r,
 * relative), made if missing and checked; then the attempt's own
 * directory ($d), which must not exist yet: an attempt never reuses a
 * record, and a directory someone made in advance is refused.
 */
#define RECORD_PARENTS_FULL \
	RECORD_BASE_PARENT RECORD_CHECKS \
	    "hs_anc;hs_mk \"$hs_b\" \"$hs_b/${r%%/*}\" \"$hs_b/${r%/*}\";" \
	    "hs_chk \"$hs_b\" \"$hs_b/${r%%/*}\" \"$hs_b/${r%/*}\";"
#define RECORD_ATTEMPT_DIR \
	"d=$hs_b/$r;mkdir -m 700 \"$d\" 2>/dev/null||hs_bad \"$d\" \"it " \
	"exists already or cannot be made (an attempt never reuses a " \
	"record)\";"
#define RECORD_OPEN_DIR RECORD_BASE RECORD_PARENTS_FULL RECORD_ATTEMPT_DIR

/*
 * The same where this run already checked the three directories on this
 * host (wrapper_prepare_script() said so): each must still be a real
 * directory of the effective user, which built-ins tell without an exec
 * per task. Their modes were checked then, and only their owner (the
 * user hostswap runs as) or root can have changed a mode since. A host
 * directory not there yet gets the whole check.
 */
#define RECORD_PARENTS_QUICK \
	RECORD_BAD \
	"for hs_x in \"$hs_b\" \"$hs_b/${r%%/*}\" \"$hs_b/${r%/*}\";do " \
	"[ -L \"$hs_x\" ]&&hs_bad \"$hs_x\" \"not a real directory " \
	"(symbolic link)\";[ -d \"$hs_x\" ]||hs_bad \"$hs_x\" \"not a " \
	"directory\";[ -O \"$hs_x\" ]||hs_bad \"$hs_x\" \"owned by another " \
	"user, not by uid $hs_u\";done;"
#define RECORD_OPEN_DIR_VERIFIED \
	RECORD_BASE "if [ -d \"$hs_b/${r%/*}\" ];then " RECORD_PARENTS_QUICK \
		    "else " RECORD_PARENTS_FULL "fi;" RECORD_ATTEMPT_DIR

/*
 * An existing record, for the probe and the kill: its directories must
 * pass the same checks before anything in it is believed; no record
 * (the attempt never started) runs NOREC.
 */
#define RECORD_FIND(norec) \
	RECORD_BASE RECORD_CHECKS \
	    "hs_anc;d=$hs_b/$r;[ -d \"$d\" ]||[ -L \"$d\" ]||{ " norec \
	    ";};hs_chk \"$hs_b\" \"$hs_b/${r%%/*}\" \"$hs_b/${r%/*}\" " \
	    "\"$d\";[ -f \"$d/record\" ]&&[ ! -L \"$d/record\" ]||{ " norec \
	    ";};"

/*
 * Wrap a shell text for become: sudo. sudo runs with LC_ALL=C, so its
 * refusals read the same on every host (the shell it starts gets the
 * caller's LC_ALL back). With a password, sudo asks with a prompt unique
 * to this job on stderr (WRAPPER_PROMPT NONCE%:, written NONCE%%: on the
 * command line, so that a shell tracing the command line never prints
 * the prompt itself): hostswap writes the
 * password only after it saw that prompt, so a sudo that does not ask
 * (NOPASSWD, a cached credential) never receives it and it can never be
 * read as the script. Either way the shell under sudo first prints
 * WRAPPER_READY NONCE: only then does hostswap send the script. Without a
 * password, sudo -n never asks. With become_user the shell runs as that
 * user (sudo -u NAME) with HOME set to its home (-H), so its records live
 * below that home, checked like any login user's.
 */
static char *
wrapper_become(char *text, const struct wrapper_become *b)
{
	struct buf t;
	char *q, *qu;

	if (b == NULL || !b->sudo)
		return text;
	buf_init(&t);
	buf_adds(&t,
	    "if [ -n \"$2\" ];then LC_ALL=$1;export LC_ALL;else unset LC_ALL;"
	    "fi;");
	if (b->password)
		buf_printf(&t, "echo %s%s;", WRAPPER_READY, b->nonce);
	buf_adds(&t, text);
	free(text);
	q = sh_quote(t.data);
	buf_free(&t);
	buf_init(&t);
	if (b->password)
		buf_printf(&t, "LC_ALL=C sudo -S -p '%s%s%%%%:' ",
		    WRAPPER_PROMPT, b->nonce);
	else
		buf_adds(&t, "LC_ALL=C sudo -n ");
	if (b->user != NULL) {
		qu = sh_quote(b->user);
		buf_printf(&t, "-u %s -H ", qu);
		free(qu);
	}
	buf_printf(&t, "sh -c %s hostswap \"${LC_ALL-}\" \"${LC_ALL+1}\"", q);
	free(q);
	return buf_release(&t);
}

/*
 * Read the script from standard input into $s with built-ins only, up to
 * the end line wrapper_script() adds. A script cut short (the controller
 * died while sending it) is never run: without its end line the wrapper
 * exits WRAPPER_EXIT_INCOMPLETE and, in RUN mode, records that status.
 */
#define READ_SCRIPT \
	"s=;e=;while IFS= read -r l;do [ \"$l\" = \"$E\" ]&&" \
	"{ e=1;break;};s=\"$s$l\n\";done;[ -n \"$e\" ]||{ echo \"hostswap: " \
	"the script arrived incomplete; not run\" >&2;exit 253;};"

/*
 * Create the record file in the attempt's new directory ($d) holding the
 * process group id, the boot id and the group leader's start time (in
 * clock ticks since boot, field 22 of /proc/PID/stat): a group id alone
 * could be another process's after a reboot, or once the group has ended
 * and its id was taken again. sshd makes the exec channel's shell a
 * session (so group) leader: its pid is the group id. Under sudo, or
 * detached, the id is read from /proc. The file is created in a new
 * directory no one else can write.
 */
#define READ_PGID "[ -r /proc/$$/stat ]&&read -r _ _ _ _ g _ </proc/$$/stat;"
#define OPEN_RECORD(pgid) \
	"g=$$;" pgid "hs_bt=;hs_st=;[ -r /proc/sys/kernel/random/boot_id ]&&" \
	"read -r hs_bt </proc/sys/kernel/random/boot_id;[ -r /proc/$g/stat " \
	"]&&" \
	"read -r hs_l </proc/$g/stat&&{ hs_l=${hs_l##*) };set -- $hs_l;" \
	"hs_st=${20};};set -C;{ printf 'pgid %s\\nboot %s\\nstart %s\\n' " \
	"\"$g\" \"$hs_bt\" \"$hs_st\" >\"$d/record\";} 2>/dev/null||" \
	"hs_bad \"$d\" \"cannot create its record file\";set +C;"

/*
 * hs_alive PGID BOOT START: the recorded process group still runs. The
 * boot must be the same; while the leader lives its start time must be
 * the recorded one (else its id was taken again); once the leader is
 * gone, Linux keeps its id from every new process while the group has a
 * member, so a member means the task's own processes.
 */
#define RECORD_ALIVE \
	"hs_alive(){ case $1 in ''|*[!0-9]*)return 1;;esac;[ \"$1\" -gt 1 ]||" \
	"return 1;if [ -n \"$2\" ];then hs_b2=;read -r hs_b2 " \
	"</proc/sys/kernel/random/boot_id;[ \"$hs_b2\" = \"$2\" ]||return 1;" \
	"fi;hs_g=$1;hs_w=$3;if [ -n \"$hs_w\" ]&&[ -r /proc/$hs_g/stat ]&&" \
	"read -r hs_l </proc/$hs_g/stat;then hs_l=${hs_l##*) };set -- $hs_l;" \
	"[ \"${20}\" = \"$hs_w\" ]||return 1;fi;kill -0 -\"$hs_g\" " \
	"2>/dev/null;};" \
	"g=;st=;sig=;bt=;sst=;while read -r k v;do case $k in pgid)g=$v;;" \
	"status)st=$v;;signal)sig=$v;;boot)bt=$v;;start)sst=$v;;esac;done " \
	"<\"$d/record\";"

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
 * script survives the connection (a network restart). The detached
 * shell gets the script through a pipe: no file of a record is ever
 * sourced or executed, and no script (with its secrets) is left on disk.
 */
char *
wrapper_command(enum wrapper_mode mode, const char *rec,
    const struct wrapper_become *b, int verified)
{
	struct buf t;
	char *qr, *inner, *qinner;
	int sudo = b != NULL && b->sudo;

	buf_init(&t);
	/* The end line is the job's own: no line of a script (a captured
	 * value, say) can end it early. */
	buf_printf(&t, "E='%s%s%s';", WRAPPER_END, b != NULL ? "-" : "",
	    b != NULL ? b->nonce : "");
	if (mode == WRAPPER_PLAIN) {
		buf_adds(&t, READ_SCRIPT "set -e;eval \"$s\"");
		return wrapper_become(buf_release(&t), b);
	}
	qr = sh_quote(rec);
	buf_printf(&t, "r=%s;", qr);
	buf_adds(&t, verified ? RECORD_OPEN_DIR_VERIFIED : RECORD_OPEN_DIR);
	if (mode == WRAPPER_RUN) {
		buf_adds(&t, sudo ? OPEN_RECORD(READ_PGID) : OPEN_RECORD(""));
		buf_adds(&t, READ_SCRIPT TRAPS "set -e;eval \"$s\"");
	} else {
		/* The detached shell opens the record itself. */
		inner = xstrdup(
		    "d=$1;E=$2;hs_bad(){ exit " WRAPPER_EXIT_RECORD_S
		    ";};" READ_SCRIPT "exec </dev/null;set -C;exec >\"$d/out\" "
		    "2>\"$d/err\";" OPEN_RECORD(READ_PGID) TRAPS
		    "set -e;eval \"$s\"");
		qinner = sh_quote(inner);
		buf_printf(&t,
		    READ_SCRIPT
		    "printf '%%s%%s\\n' \"$s\" \"$E\"|"
		    "setsid sh -c %s sh \"$d\" \"$E\" >/dev/null 2>&1 & "
		    "echo started",
		    qinner);
		free(inner);
		free(qinner);
	}
	free(qr);
	return wrapper_become(buf_release(&t), b);
}

/*
 * The text sent on a wrapper's standard input: the script, then its end
 * line, which carries the job's nonce (the one its wrapper_become has;
 * NULL: the plain end line).
 */
char *
wrapper_script(const char *script, const char *nonce, size_t *len)
{
	size_t n = strlen(script);
	char *s;

	*len = (size_t)xasprintf(&s, "%s%s%s%s%s\n", script,
	    n > 0 && script[n - 1] != '\n' ? "\n" : "", WRAPPER_END,
	    nonce != NULL ? "-" : "", nonce != NULL ? nonce : "");
	return s;
}

/*
 * The record base and the run's directory for each host name a session
 * serves, made and checked with one command at the start of a run, so
 * that each task's wrapper finds them and needs no mkdir of its own for
 * them (an exec per task costs more than a small command). It says
 * WRAPPER_PREPARED when every one passed; the tasks started after that
 * check them again with built-ins only (RECORD_OPEN_DIR_VERIFIED).
 */
char *
wrapper_prepare_script(const char *uid, const char *const *hosts, size_t n)
{
	struct buf t;
	size_t i;
	char *q;

	buf_init(&t);
	q = sh_quote(uid);
	buf_printf(&t, "u=%s;", q);
	free(q);
	buf_adds(&t,
	    RECORD_BASE RECORD_BASE_PARENT RECORD_CHECKS
	    "hs_anc;hs_mk \"$hs_b\" \"$hs_b/$u\";hs_chk \"$hs_b\" "
	    "\"$hs_b/$u\";");
	for (i = 0; i < n; i++) {
		q = sh_quote(hosts[i]);
		buf_printf(
		    &t, "hs_mk \"$hs_b/$u/\"%s;hs_chk \"$hs_b/$u/\"%s;", q, q);
		free(q);
	}
	buf_adds(&t, "echo " WRAPPER_PREPARED);
	return buf_release(&t);
}

/* "NAME='VALUE';" (VALUE quoted for the shell) followed by text. */
static char *
wrapper_with_var(const char *name, const char *value, const char *text)
{
	char *q, *s;

	q = sh_quote(value);
	xasprintf(&s, "%s=%s;%s", name, q, text);
	free(q);
	return s;
}

/*
 * End a task's whole process group (grandchildren too): TERM, then KILL
 * after a short grace. Sent over a second channel, because OpenSSH
 * refuses signal requests for root sessions. The group id is believed
 * only from a record that passed the checks, and only as a number. It
 * runs under errexit (the PLAIN wrapper): the KILL of a group that TERM
 * already ended fails, and must not fail the kill.
 */
char *
wrapper_kill_script(const char *rec)
{
	return wrapper_with_var("r", rec,
	    RECORD_FIND("exit 0") RECORD_ALIVE
	    "hs_alive \"$g\" \"$bt\" \"$sst\"||exit 0;"
	    "kill -TERM -\"$g\" 2>/dev/null||exit 0;"
	    "i=0;while kill -0 -\"$g\" 2>/dev/null&&[ $i "
	    "-lt 20 ];do "
	    "sleep 0.1;i=$((i+1));done;kill -KILL "
	    "-\"$g\" 2>/dev/null||:;exit 0");
}

/*
 * Report a record: "status S signal [SIG]" (ended), "running", "dead" (no
 * status and no live process), or "none". After an end the detached
 * script's output follows on stdout and stderr. A record whose
 * directories fail the checks is not believed (exit 254).
 */
char *
wrapper_probe_script(const char *rec)
{
	return wrapper_with_var("r", rec,
	    RECORD_FIND("echo none;exit 0") RECORD_ALIVE
	    "if [ -n \"$st\" ];then echo \"status $st "
	    "signal $sig\";"
	    "[ -f \"$d/out\" ]&&[ ! -L \"$d/out\" "
	    "]&&cat \"$d/out\";"
	    "[ -f \"$d/err\" ]&&[ ! -L \"$d/err\" "
	    "]&&cat \"$d/err\" >&2;"
	    "exit 0;fi;"
	    "if hs_alive \"$g\" \"$bt\" \"$sst\";then echo "
	    "running;else echo dead;fi");
}

/*
 * Preflight's look at the record base, changing nothing: one line,
 * "records ok BASE" (it exists and passes the checks), "records new BASE"
 * (it will be made in a directory that passes them), or "records unsafe
 * PATH: REASON".
 */
char *
wrapper_base_check_script(void)
{
	return xstrdup(
	    "(hs_bad(){ echo \"records unsafe $1: $2\";exit 0;};" RECORD_BASE
		RECORD_CHK RECORD_ANC
	    "hs_anc;if [ -e \"$hs_b\" ]||[ -L \"$hs_b\" ];then "
	    "hs_chk \"$hs_b\";echo \"records ok $hs_b\";"
	    "elif [ -d \"${hs_b%/*}\" ];then hs_chk \"${hs_b%/*}\";"
	    "echo \"records new $hs_b\";else "
	    "echo \"records new $hs_b\";fi)\n");
}

/* Remove a run's records on a host (the run succeeded). */
char *
wrapper_cleanup_script(const char *uid)
{
	return wrapper_with_var("u", uid,
	    RECORD_BASE
	    "[ -d \"$hs_b\" ]&&[ ! -L \"$hs_b\" ]&&[ -O \"$hs_b\" ]||exit 0;"
	    "rm -rf -- \"$hs_b/$u\"");
}

/*
 * The script of a `put`. The target's directory may be writable by
 * others (a mailing list's, say), so no call of it may follow a link
 * someone put there:
 *   - the new content goes to a temporary file with a random name,
 *     made from a name that does not exist yet in one open that
 *     creates it (noclobber opens a new name with O_EXCL; it would open an
 *     existing FIFO or device, which is why the name is a fresh random
 *     one no one can know in advance) and kept open as fd 3;
 *   - its mode and owner are set through /proc/self/fd/3, which names
 *     the open file itself, not a path anyone can swap;
 *   - it is renamed over PATH (mv -T: rename(2), which replaces a link at
 *     PATH instead of following it, and never moves into a directory);
 *   - the old file is kept as PATH.DATE (then PATH.DATE.1, ...) with a
 *     hard link (ln -T fails on any existing name, a link included), so a
 *     backup is never overwritten and never written through.
 * Without a mode or owner the old file's are kept when it is a regular
 * file with one name: read with one stat that follows no link, and
 * applied as numbers, so a link or a hard link someone made there cannot
 * lend the new file another file's owner or mode. Nothing changes when
 * the file already has that content, mode and owner, so a re-run is
 * harmless.
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
	explicit_bzero(text, len);
	free(text);
	if (owner != NULL)
		qo = sh_quote(owner);
	buf_init(&t);
	buf_printf(&t, "umask 077\np=%s\n", qp);
	/*
	 * The temporary file's name comes from `mktemp -u` (a name only, by
	 * design): it is created with noclobber (set -C: O_EXCL), so a file
	 * or link someone put there first makes the put fail, never write
	 * through it.
	 */
	buf_adds(&t,
	    "case $p in */*) t=${p%/*};; *) t=.;; esac; [ -n \"$t\" ] || t=/\n"
	    "t=\"$t/.hostswap-put.$(mktemp -u XXXXXXXXXXXX)\"\n"
	    "f=/proc/self/fd/3\n"
	    "om=; ou=; og=\n"
	    "old=$(LC_ALL=C stat -c '%F|%h|%a|%u|%g' -- \"$p\" 2>/dev/null) || "
	    "old=\n"
	    "case $old in 'regular file|1|'* | 'regular empty file|1|'*)\n"
	    "  old=${old#*|1|}; om=${old%%|*}; old=${old#*|}\n"
	    "  ou=${old%%|*}; og=${old#*|} ;;\nesac\n"
	    "set -C\nexec 3>\"$t\"\nset +C\n"
	    "fail() { exec 3>&-; rm -f \"$t\"; echo \"put: $1\" >&2; "
	    "exit 1; }\n");
	buf_printf(&t, "printf %%s %s >&3 || fail \"cannot write $t\"\n", qc);
	if (has_mode)
		buf_printf(&t, "chmod %04o \"$f\" || fail \"chmod\"\n", mode);
	else
		buf_adds(&t, "chmod \"${om:-0644}\" \"$f\" || fail chmod\n");
	if (qo != NULL)
		buf_printf(&t, "chown %s \"$f\" || fail chown\n", qo);
	else
		buf_adds(&t,
		    "if [ -n \"$ou\" ]; then chown \"$ou:$og\" \"$f\"; fi || "
		    "fail chown\n");
	buf_adds(&t,
	    "if [ -n \"$om\" ] && cmp -s \"$f\" \"$p\" && [ \"$(stat -L -c "
	    "'%a %u %g' \"$f\")\" = \"$om $ou $og\" ]; then\n"
	    "  exec 3>&-; rm -f \"$t\"; echo \"$p: unchanged\"; exit 0\nfi\n");
	if (backup)
		buf_printf(&t,
		    "if [ -e \"$p\" ] || [ -L \"$p\" ]; then\n"
		    "  b=\"$p.%s\"; n=0\n"
		    "  until ln -PT -- \"$p\" \"$b\" 2>/dev/null; do\n"
		    "    [ -e \"$b\" ] || [ -L \"$b\" ] || "
		    "fail \"cannot keep $p as $b\"\n"
		    "    n=$((n+1)); b=\"$p.%s.$n\"\n"
		    "  done\n  echo \"backup: $b\"\nfi\n",
		    date, date);
	buf_adds(&t,
	    "exec 3>&-\nmv -fT -- \"$t\" \"$p\" || fail \"cannot "
	    "rename $t to $p\"\necho \"$p: written\"\n");
	free(qp);
	free(qc);
	free(qo);
	return buf_release(&t);
}
