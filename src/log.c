/*
 * log.c: operator-facing messages. Every message goes to stderr prefixed
 * with "hostswap: ", or as {"ts","level","msg"} when JSON is asked for.
 * errno is preserved across every call.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "scrub.h"
#include "xmalloc.h"

static enum log_format log_format = LOG_TEXT;
static int log_verbose;
static int log_journal; /* stderr is systemd's journal */

/* Values never printed: every secret this process resolved (SPEC v3 §2,
 * "scrubbed from everything hostswap prints"). */
static struct {
	char **values;
	size_t n;
} log_hidden;
static int log_in_scrub;

/*
 * Never print value: from now on it shows as "***" in every message and
 * console line. Called for each secret as it is resolved.
 */
void
log_conceal(const char *value)
{
	size_t i;

	if (value == NULL || value[0] == '\0')
		return;
	for (i = 0; i < log_hidden.n; i++)
		if (strcmp(log_hidden.values[i], value) == 0)
			return;
	log_hidden.values = xreallocarray(
	    log_hidden.values, log_hidden.n + 1, sizeof *log_hidden.values);
	log_hidden.values[log_hidden.n++] = xstrdup(value);
}

/* A copy of text with every concealed value replaced by "***". */
char *
log_scrub(const char *text)
{
	return scrub(log_hidden.values, log_hidden.n, text, strlen(text));
}

/*
 * Under systemd, stderr may be a stream to the journal: JOURNAL_STREAM
 * then names its device and inode. Lines there carry their syslog
 * priority as a "<N>" prefix (sd-daemon(3)); a line without one is info.
 */
void
log_detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
	xfatal_format(log_format == LOG_JSON, log_journal);
}

/* The journal's priority prefix of a level ("" off the journal). */
static const char *
log_priority(const char *level)
{
	if (!log_journal)
		return "";
	if (strcmp(level, "fatal") == 0)
		return "<2>";
	if (strcmp(level, "warning") == 0)
		return "<4>";
	if (strcmp(level, "debug") == 0)
		return "<7>";
	return "<6>";
}

/* Choose the output format; verbosity only ever rises (-v comes first). */
void
log_init(enum log_format format, int verbose)
{
	log_format = format;
	xfatal_format(format == LOG_JSON, log_journal);
	if (verbose > log_verbose)
		log_verbose = verbose;
}

/* Change verbosity (debug messages shown when > 0). */
void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* Which format messages are printed in. */
enum log_format
log_get_format(void)
{
	return log_format;
}

/* Print one message at a level, with an optional strerror suffix. */
static void __attribute__((format(printf, 3, 0)))
log_vmsg(const char *level, int with_errno, const char *fmt, va_list ap)
{
	char raw[4096], *msg, ts[64];
	int saved = errno;
	json_t *o;
	char *s;

	vsnprintf(raw, sizeof raw, fmt, ap);
	if (with_errno) {
		size_t n = strlen(raw);
		snprintf(raw + n, sizeof raw - n, ": %s", strerror(saved));
	}
	/* Out of memory while scrubbing comes back here: print that one
	 * message as it is (it holds no secret). */
	if (log_in_scrub)
		msg = raw;
	else {
		log_in_scrub = 1;
		msg = log_scrub(raw);
		log_in_scrub = 0;
	}
	if (log_format == LOG_JSON) {
		clock_rfc3339(ts, sizeof ts, clock_now_ms());
		o = json_pack(
		    "{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
		if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
			fprintf(stderr, "%s%s\n", log_priority(level), s);
			free(s);
		} else
			fprintf(stderr, "%shostswap: %s\n", log_priority(level),
			    msg);
		json_decref(o);
	} else
		fprintf(stderr, "%shostswap: %s\n", log_priority(level), msg);
	fflush(stderr);
	if (msg != raw)
		free(msg);
	errno = saved;
}

/* A warning with strerror(errno) appended. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg("warning", 1, fmt, ap);
	va_end(ap);
}

/* A warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg("warning", 0, fmt, ap);
	va_end(ap);
}

/* An informational message. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg("info", 0, fmt, ap);
	va_end(ap);
}

/* A debugging message, shown only when verbose. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose <= 0)
		return;
	va_start(ap, fmt);
	log_vmsg("debug", 0, fmt, ap);
	va_end(ap);
}

/* A broken invariant with errno: report and exit 70. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg("fatal", errno != 0, fmt, ap);
	va_end(ap);
	exit(70);
}

/* A broken invariant: report and exit 70. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg("fatal", 0, fmt, ap);
	va_end(ap);
	exit(70);
}
