/*
 * report-doc.c: the report's text made safe, and the blocks both formats
 * are written with (heading, paragraph, table, code block).
 *
 * Whatever a host printed, named or erred with is text. Everything is
 * first made valid UTF-8 that XML 1.0 and HTML accept (bad bytes and
 * control characters become U+FFFD); HTML then escapes & < > " ',
 * Markdown backslash-escapes the characters that could start markup (table
 * pipes included), and output goes into fenced code blocks whose fence is
 * longer than any run of backticks in it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "report.h"
#include "report-int.h"

/* Characters Markdown escapes wherever they are (CommonMark allows a
 * backslash before any ASCII punctuation). */
#define REPORT_MD_SPECIAL "\\`*_[]<>|~&#"

enum report_esc {
	REPORT_RAW, /* code blocks: as is, once valid */
	REPORT_XML, /* HTML and SVG text and attributes */
	REPORT_MD,  /* Markdown inline text: one line, markup escaped */
};

/* The code point at s and its length in *n; -1 (length 1) if not UTF-8. */
static long
report_utf8_next(const unsigned char *s, size_t len, size_t *n)
{
	size_t i, need;
	long c;

	*n = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 1;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		c = s[0] & 0x07;
	} else
		return -1;
	if (len <= need)
		return -1;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((need == 2 && c < 0x800) ||
	    (need == 3 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*n = need + 1;
	return c;
}

/* Whether a code point may stand in both XML 1.0 and HTML text. */
static int
report_char_ok(long c)
{
	if (c == '\t' || c == '\n')
		return 1;
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return 0;
	if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
		return 0;
	return 1;
}

/*
 * Append len bytes of text escaped for esc. CR LF and a lone CR end a
 * line; bytes that are not UTF-8 and characters neither XML nor HTML
 * allow become U+FFFD. Markdown text is one line (line breaks and tabs
 * become spaces, leading blanks go) with markup characters escaped, and
 * what would start a list or a rule at the start of a line ("- ", "1. ").
 */
static void
report_text(struct buf *b, const char *s, size_t len, enum report_esc esc)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	int start = 1, digits = 1;
	long c;

	while (i < len) {
		c = report_utf8_next(p + i, len - i, &n);
		if (c == '\r') {
			c = '\n';
			if (i + 1 < len && p[i + 1] == '\n')
				n = 2;
		}
		if (c == -1 || !report_char_ok(c)) {
			buf_adds(b, "\xef\xbf\xbd");
			i += n;
			start = digits = 0;
			continue;
		}
		switch (esc) {
		case REPORT_RAW:
			if (c == '\n')
				buf_addc(b, '\n');
			else
				buf_add(b, p + i, n);
			break;
		case REPORT_XML:
			if (c == '&')
				buf_adds(b, "&amp;");
			else if (c == '<')
				buf_adds(b, "&lt;");
			else if (c == '>')
				buf_adds(b, "&gt;");
			else if (c == '"')
				buf_adds(b, "&quot;");
			else if (c == '\'')
				buf_adds(b, "&#39;");
			else if (c == '\n')
				buf_addc(b, '\n');
			else
				buf_add(b, p + i, n);
			break;
		case REPORT_MD:
			if (c == '\n' || c == '\t' || c == ' ') {
				if (!start)
					buf_addc(b, ' ');
				digits = 0;
				break;
			}
			if ((c < 0x80 && strchr(REPORT_MD_SPECIAL, (int)c)) ||
			    (start && strchr("-+", (int)c)) ||
			    (digits && !start && strchr(".)", (int)c) &&
				(i + 1 == len || strchr(" \t\r\n", p[i + 1]))))
				buf_addc(b, '\\');
			if (c == '\n')
				break;
			buf_add(b, p + i, n);
			if (c < '0' || c > '9')
				digits = 0;
			start = 0;
			break;
		}
		i += n;
	}
}

/* Append text escaped for XML (HTML and SVG, text and attributes). */
void
report_xml(struct buf *b, const char *s, size_t len)
{
	report_text(b, s, len, REPORT_XML);
}

/* Append a string as Markdown inline text: one line, markup escaped. */
void
report_md(struct buf *b, const char *s)
{
	report_text(b, s, strlen(s), REPORT_MD);
}

/*
 * Append text as a fenced Markdown code block. A fence is closed only by
 * a line of at least as many backticks, so it is one longer than the
 * longest run of backticks in the text: nothing printed can close it.
 */
void
report_md_code(struct buf *b, const char *s, size_t len)
{
	size_t i, run = 0, max = 0, fence;

	for (i = 0; i < len; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	fence = max < 3 ? 3 : max + 1;
	for (i = 0; i < fence; i++)
		buf_addc(b, '`');
	buf_addc(b, '\n');
	report_text(b, s, len, REPORT_RAW);
	if (b->len > 0 && b->data[b->len - 1] != '\n')
		buf_addc(b, '\n');
	for (i = 0; i < fence; i++)
		buf_addc(b, '`');
	buf_adds(b, "\n\n");
}

/* A time as the report shows it: 2026-12-05 09:00:00 UTC; "" for 0. */
void
report_time(char *out, size_t len, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0) {
		snprintf(out, len, "%s", "");
		return;
	}
	gmtime_r(&sec, &tm);
	snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d UTC",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* A duration for people: 0.35 s, 12.4 s, 4m 05s, 1h 02m 03s. */
void
report_duration(char *out, size_t len, uint64_t ms)
{
	unsigned long long s = ms / 1000;

	if (ms < 1000)
		snprintf(out, len, "%.2f s", (double)ms / 1000);
	else if (ms < 60000)
		snprintf(out, len, "%.1f s", (double)ms / 1000);
	else if (s < 3600)
		snprintf(out, len, "%llum %02llus", s / 60, s % 60);
	else
		snprintf(out, len, "%lluh %02llum %02llus", s / 3600,
		    s / 60 % 60, s % 60);
}

/* A duration between two times, or "" when either is missing. */
void
report_span(char *out, size_t len, uint64_t from, uint64_t to)
{
	if (from == 0 || to == 0 || to < from)
		snprintf(out, len, "%s", "");
	else
		report_duration(out, len, to - from);
}

/* Text escaped for the document's format. */
void
report_doc_text(struct report_doc *d, const char *s)
{
	if (d->fmt == REPORT_HTML)
		report_xml(d->b, s, strlen(s));
	else
		report_md(d->b, s);
}

/* A formatted string (allocated). */
static char *__attribute__((format(printf, 1, 0)))
report_doc_vformat(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("out of memory");
	return s;
}

/* A heading of a level (1 is the title). */
void
report_doc_h(struct report_doc *d, int level, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int i;

	va_start(ap, fmt);
	s = report_doc_vformat(fmt, ap);
	va_end(ap);
	if (d->fmt == REPORT_HTML) {
		buf_printf(d->b, "<h%d>", level);
		report_doc_text(d, s);
		buf_printf(d->b, "</h%d>\n", level);
	} else {
		for (i = 0; i < level; i++)
			buf_addc(d->b, '#');
		buf_addc(d->b, ' ');
		report_doc_text(d, s);
		buf_adds(d->b, "\n\n");
	}
	free(s);
}

/* A paragraph; label (or NULL) is set in bold before the text. */
void
report_doc_p(struct report_doc *d, const char *label, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = report_doc_vformat(fmt, ap);
	va_end(ap);
	if (d->fmt == REPORT_HTML) {
		buf_adds(d->b, "<p>");
		if (label != NULL) {
			buf_adds(d->b, "<strong>");
			report_doc_text(d, label);
			buf_adds(d->b, "</strong> ");
		}
		report_doc_text(d, s);
		buf_adds(d->b, "</p>\n");
	} else {
		if (label != NULL) {
			buf_adds(d->b, "**");
			report_doc_text(d, label);
			buf_adds(d->b, "** ");
		}
		report_doc_text(d, s);
		buf_adds(d->b, "\n\n");
	}
	free(s);
}

/* Start a table with its column headings (a NULL-terminated list). */
void
report_doc_table(struct report_doc *d, const char *const *heads)
{
	size_t i;

	if (d->fmt == REPORT_HTML) {
		buf_adds(d->b, "<table>\n<thead><tr>");
		for (i = 0; heads[i] != NULL; i++) {
			buf_adds(d->b, "<th>");
			report_doc_text(d, heads[i]);
			buf_adds(d->b, "</th>");
		}
		buf_adds(d->b, "</tr></thead>\n<tbody>\n");
		return;
	}
	buf_addc(d->b, '|');
	for (i = 0; heads[i] != NULL; i++) {
		buf_addc(d->b, ' ');
		report_doc_text(d, heads[i]);
		buf_adds(d->b, " |");
	}
	buf_adds(d->b, "\n|");
	for (i = 0; heads[i] != NULL; i++)
		buf_adds(d->b, " --- |");
	buf_addc(d->b, '\n');
}

/* A row of n cells; a NULL cell is empty. */
void
report_doc_row(struct report_doc *d, size_t n, const char *const *cells)
{
	size_t i;

	if (d->fmt == REPORT_HTML) {
		buf_adds(d->b, "<tr>");
		for (i = 0; i < n; i++) {
			buf_adds(d->b, "<td>");
			if (cells[i] != NULL)
				report_doc_text(d, cells[i]);
			buf_adds(d->b, "</td>");
		}
		buf_adds(d->b, "</tr>\n");
		return;
	}
	buf_addc(d->b, '|');
	for (i = 0; i < n; i++) {
		buf_addc(d->b, ' ');
		if (cells[i] != NULL)
			report_doc_text(d, cells[i]);
		buf_adds(d->b, " |");
	}
	buf_addc(d->b, '\n');
}

/* End a table. */
void
report_doc_table_end(struct report_doc *d)
{
	buf_adds(d->b, d->fmt == REPORT_HTML ? "</tbody>\n</table>\n" : "\n");
}

/* A table of facts: a bold name, a value. */
void
report_doc_facts(struct report_doc *d, size_t n, const char *const *kv)
{
	size_t i;

	if (d->fmt == REPORT_HTML) {
		buf_adds(d->b, "<table class=\"facts\">\n<tbody>\n");
		for (i = 0; i < n; i++) {
			if (kv[2 * i + 1] == NULL)
				continue;
			buf_adds(d->b, "<tr><th>");
			report_doc_text(d, kv[2 * i]);
			buf_adds(d->b, "</th><td>");
			report_doc_text(d, kv[2 * i + 1]);
			buf_adds(d->b, "</td></tr>\n");
		}
		buf_adds(d->b, "</tbody>\n</table>\n");
		return;
	}
	buf_adds(d->b, "| | |\n| --- | --- |\n");
	for (i = 0; i < n; i++) {
		if (kv[2 * i + 1] == NULL)
			continue;
		buf_adds(d->b, "| **");
		report_doc_text(d, kv[2 * i]);
		buf_adds(d->b, "** | ");
		report_doc_text(d, kv[2 * i + 1]);
		buf_adds(d->b, " |\n");
	}
	buf_addc(d->b, '\n');
}

/* A block of output, verbatim. */
void
report_doc_code(struct report_doc *d, const char *s, size_t len)
{
	if (d->fmt == REPORT_HTML) {
		buf_adds(d->b, "<pre><code>");
		report_xml(d->b, s, len);
		buf_adds(d->b, "</code></pre>\n");
	} else
		report_md_code(d->b, s, len);
}

/*
 * Where the last n lines of s begin. *cut says whether anything before
 * them is left out; partial (the text is only the end of the output)
 * drops its first line, which may have been cut in two.
 */
static size_t
report_tail_start(const char *s, size_t len, int n, int partial, int *cut)
{
	size_t i = len;
	int lines = 0;

	*cut = partial;
	if (i > 0 && s[i - 1] == '\n')
		i--;
	for (; i > 0; i--) {
		if (s[i - 1] == '\n' && ++lines == n) {
			*cut = 1;
			return i;
		}
	}
	if (partial) {
		for (i = 0; i < len && s[i] != '\n'; i++)
			;
		return i < len ? i + 1 : 0;
	}
	return 0;
}

/* An attempt's output (its last lines), or what stands for none. */
void
report_doc_output(
    struct report_doc *d, const struct report_attempt *a, int lines)
{
	size_t from;
	int cut;

	if (a->sensitive) {
		report_doc_p(d, NULL, "(sensitive: no output kept)");
		return;
	}
	if (a->output_total == 0) {
		report_doc_p(d, NULL, "(no output)");
		return;
	}
	from = report_tail_start(a->output, a->output_len, lines,
	    a->output_len < a->output_total, &cut);
	if (cut)
		report_doc_p(d, NULL,
		    "The end of its output (%zu bytes in all; hostswap log "
		    "prints it whole):",
		    a->output_total);
	else
		report_doc_p(d, NULL, "Its output:");
	report_doc_code(d, a->output + from, a->output_len - from);
}
