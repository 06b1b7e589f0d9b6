/*
 * output.c: keeps a task's output. Text is scrubbed a line at a time, so a
 * secret split across two reads is still found; a partial last line is
 * scrubbed when the task ends (output_flush).
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "secret.h"
#include "xmalloc.h"

/* Start empty; a sensitive output keeps nothing. */
void
output_init(struct output *o, int sensitive, int capture)
{
	memset(o, 0, sizeof *o);
	buf_init(&o->all);
	buf_init(&o->out);
	o->sensitive = sensitive;
	o->capture = capture && !sensitive;
}

/* Scrub and keep complete lines of the pending bytes. */
static void
output_keep(struct output *o, const struct secrets *s, size_t upto)
{
	char *clean;

	if (upto == 0)
		return;
	clean = secrets_scrub(s, o->pending, upto);
	buf_adds(&o->all, clean);
	free(clean);
	memmove(o->pending, o->pending + upto, o->npending - upto);
	o->npending -= upto;
}

/* Add what a task printed. */
void
output_add(struct output *o, const struct secrets *s, const char *data,
    size_t len, int is_stderr)
{
	size_t i, last = 0;

	(void)is_stderr;
	if (o->sensitive) {
		o->dropped += len;
		return;
	}
	if (o->capture && !is_stderr)
		buf_add(&o->out, data, len);
	o->pending = xreallocarray(o->pending, o->npending + len + 1, 1);
	memcpy(o->pending + o->npending, data, len);
	o->npending += len;
	for (i = 0; i < o->npending; i++)
		if (o->pending[i] == '\n')
			last = i + 1;
	output_keep(o, s, last);
}

/* The task ended: keep the last partial line. */
void
output_flush(struct output *o, const struct secrets *s)
{
	output_keep(o, s, o->npending);
}

/* The last OUTPUT_TAIL bytes (whole characters), or "". */
const char *
output_tail(const struct output *o)
{
	const char *p;

	if (o->all.data == NULL)
		return "";
	if (o->all.len <= OUTPUT_TAIL)
		return o->all.data;
	p = o->all.data + o->all.len - OUTPUT_TAIL;
	while (((unsigned char)*p & 0xc0) == 0x80)
		p++;
	return p;
}

/* The trimmed stdout, for capture (allocated). */
char *
output_captured(const struct output *o)
{
	const char *p = o->out.data ? o->out.data : "";
	size_t len = o->out.len;

	while (
	    len > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
		p++;
		len--;
	}
	while (len > 0 &&
	    (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n' ||
		p[len - 1] == '\r'))
		len--;
	return xstrndup(p, len);
}

/* Free everything kept; the raw stdout is wiped (it was not scrubbed). */
void
output_free(struct output *o)
{
	if (o->out.data != NULL)
		explicit_bzero(o->out.data, o->out.len);
	buf_free(&o->all);
	buf_free(&o->out);
	free(o->pending);
	memset(o, 0, sizeof *o);
}
