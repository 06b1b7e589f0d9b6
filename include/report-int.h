/*
 * report-int.h: what the files of the report share — report.c writes the
 * sections, report-doc.c the blocks they are made of (heading, paragraph,
 * table, code block, an attempt's output) in either format, with every
 * text escaped for it. Nothing outside the report includes it.
 */
#ifndef HOSTSWAP_REPORT_INT_H
#define HOSTSWAP_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

struct buf;

/* A document being written. */
struct report_doc {
	const struct report *rp;
	enum report_format fmt;
	struct buf *b;
	const char *svg_path; /* Markdown: link the timeline from here */
};

void report_span(char *, size_t, uint64_t, uint64_t);
void report_doc_text(struct report_doc *, const char *);
void report_doc_h(struct report_doc *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void report_doc_p(struct report_doc *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void report_doc_table(struct report_doc *, const char *const *);
void report_doc_row(struct report_doc *, size_t, const char *const *);
void report_doc_table_end(struct report_doc *);
void report_doc_facts(struct report_doc *, size_t, const char *const *);
void report_doc_code(struct report_doc *, const char *, size_t);
void report_doc_output(struct report_doc *, const struct report_attempt *, int);

#endif
