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

/*
 * Keep scrubbed text: all of it up to OUTPUT_HEAD, then a window of the
 * last bytes. The window is cut back to OUTPUT_KEEP once it reaches twice
 * that, so each byte is moved at most once on average.
 */
static void
output_append(struct output *o, const char *p, size_t n)
{
	size_t cut;

	buf_add(&o->all, p, n);
	if (o->all.len <= OUTPUT_HEAD + 2 * OUTPUT_KEEP)
		return;
	cut = o->all.len - OUTPUT_HEAD - OUTPUT_KEEP;
	memmove(o->all.data + OUTPUT_HEAD, o->all.data + OUTPUT_HEAD + cut,
	    OUTPUT_KEEP);
	o->all.len -= cut;
	o->all.data[o->all.len] = '\0';
	o->dropped_mid += cut;
}

/* The longest secret value, less one: what a piece of a long line keeps
 * back so that a secret across two pieces is still found. */
static size_t
output_overlap(const struct secrets *s)
{
	size_t k, n, max = 0;

	for (k = 0; s != NULL && k < s->n; k++)
		if (s->values[k] != NULL && (n = strlen(s->values[k])) > max)
			max = n;
	return max > 0 ? max - 1 : 0;
}

/* Scrub and keep complete lines of the pending bytes. */
static void
output_keep(struct output *o, const struct secrets *s, size_t upto)
{
	char *clean;

	if (upto == 0)
		return;
	clean = secrets_scrub(s, o->pending, upto);
	output_append(o, clean, strlen(clean));
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
	if (o->capture && !is_stderr && !o->capture_too_big) {
		if (o->out.len + len > OUTPUT_CAPTURE) {
			o->capture_too_big = 1;
			if (o->out.data != NULL)
				explicit_bzero(o->out.data, o->out.len);
			buf_free(&o->out);
		} else
			buf_add(&o->out, data, len);
	}
	o->pending = xreallocarray(o->pending, o->npending + len + 1, 1);
	memcpy(o->pending + o->npending, data, len);
	o->npending += len;
	for (i = 0; i < o->npending; i++)
		if (o->pending[i] == '\n')
			last = i + 1;
	/* A line without end is scrubbed in pieces, keeping back enough
	 * for a secret that spans two of them. */
	if (last == 0 && o->npending > OUTPUT_LINE &&
	    o->npending > output_overlap(s))
		last = o->npending - output_overlap(s);
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

/* Whether stdout outgrew OUTPUT_CAPTURE (nothing of it was kept). */
int
output_capture_too_big(const struct output *o)
{
	return o->capture_too_big;
}

/* Everything kept, into b: the head, a line saying what was dropped, the
 * tail. */
void
output_text(const struct output *o, struct buf *b)
{
	size_t skip;

	if (o->all.data == NULL)
		return;
	if (o->dropped_mid == 0) {
		buf_add(b, o->all.data, o->all.len);
		return;
	}
	/* The window holds OUTPUT_KEEP to twice that: keep exactly its end. */
	skip = o->all.len - OUTPUT_HEAD - OUTPUT_KEEP;
	buf_add(b, o->all.data, OUTPUT_HEAD);
	buf_printf(b,
	    "\n[hostswap: %zu bytes of output dropped here; the first %d and "
	    "the last %d bytes are kept]\n",
	    o->dropped_mid + skip, OUTPUT_HEAD, OUTPUT_KEEP);
	buf_add(b, o->all.data + OUTPUT_HEAD + skip, OUTPUT_KEEP);
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
