/*
 * buf.c: growable byte buffers for building strings and output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

/* Make an empty buffer. */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Make room for n more bytes and the terminating NUL. */
static void
buf_reserve(struct buf *b, size_t n)
{
	size_t want;

	if (b->len + n + 1 <= b->cap)
		return;
	want = b->cap ? b->cap : 64;
	while (want < b->len + n + 1)
		want *= 2;
	b->data = xreallocarray(b->data, want, 1);
	b->cap = want;
}

/* Append n bytes. */
void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append a string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append one character. */
void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/*
 * Append a host's text as data to show: control characters (an escape
 * sequence, a line break) as ^X, never obeyed by a terminal or read as a
 * new line of a log.
 */
void
buf_add_visible(struct buf *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f) {
			buf_addc(b, '^');
			buf_addc(b, c == 0x7f ? '?' : (char)(c + '@'));
		} else
			buf_addc(b, (char)c);
	}
}

/* Append formatted text. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = 0;
		xfatal("buf_printf: bad format");
	}
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Hand the string over to the caller (never NULL) and empty the buffer. */
char *
buf_release(struct buf *b)
{
	char *s;

	if (b->data == NULL)
		s = xstrdup("");
	else
		s = b->data;
	buf_init(b);
	return s;
}

/* Free the buffer's memory. */
void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Read a whole file into an allocated NUL-terminated string, or NULL. */
char *
buf_read_file(const char *path)
{
	char chunk[8192];
	struct buf b;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(fp)) {
		fclose(fp);
		buf_free(&b);
		return NULL;
	}
	fclose(fp);
	return buf_release(&b);
}
