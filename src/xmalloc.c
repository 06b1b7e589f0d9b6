/*
 * xmalloc.c: allocation wrappers that end the process on exhaustion.
 * The end is said here, without allocating and without the log (which
 * allocates, and is built on these): as the log would print it, a JSON
 * line when the log is JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "xmalloc.h"

static int xfatal_json;    /* the log's lines are JSON */
static int xfatal_journal; /* ... and go to systemd's journal */

/* How the log prints, for xfatal()'s line (log.c says it). */
void
xfatal_format(int json, int journal)
{
	xfatal_json = json;
	xfatal_journal = journal;
}

/*
 * The process cannot go on (memory is exhausted, or an invariant below
 * the log broke): say what, with strerror(errno) if errno is set, and
 * exit 70. fmt's arguments are numbers only: the line needs no escaping.
 */
void
xfatal(const char *fmt, ...)
{
	char what[256], line[512], ts[CLOCK_RFC3339_LEN];
	int saved = errno, n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (saved != 0) {
		n = (int)strlen(what);
		snprintf(
		    what + n, sizeof what - (size_t)n, ": %s", strerror(saved));
	}
	if (xfatal_json) {
		clock_rfc3339(ts, sizeof ts, clock_now_ms());
		n = snprintf(line, sizeof line,
		    "%s{\"ts\":\"%s\",\"level\":\"fatal\",\"msg\":\"%s\"}\n",
		    xfatal_journal ? "<2>" : "", ts, what);
	} else
		n = snprintf(line, sizeof line, "%shostswap: %s\n",
		    xfatal_journal ? "<2>" : "", what);
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
		    (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	exit(70);
}

/* Allocate size bytes or die. */
void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		xfatal("xmalloc: %zu bytes", size);
	return p;
}

/* Allocate a zeroed array or die. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		xfatal("xcalloc: %zu * %zu bytes", nmemb, size);
	return p;
}

/* Resize an array of nmemb elements of size bytes, checking overflow. */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (SIZE_MAX / nmemb < size) {
		errno = ENOMEM;
		xfatal("xreallocarray: %zu * %zu bytes", nmemb, size);
	}
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		xfatal("xreallocarray: %zu * %zu bytes", nmemb, size);
	return p;
}

/* Duplicate a string or die. */
char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		xfatal("xstrdup");
	return p;
}

/* Duplicate at most n bytes of a string or die. */
char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		xfatal("xstrndup");
	return p;
}

/* Print into a newly allocated string or die; returns its length. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		xfatal("xasprintf");
	return n;
}
