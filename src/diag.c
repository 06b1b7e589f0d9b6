/*
 * diag.c: collects errors with their positions, sorts them by file and
 * position (files in the order they were first named) and prints them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xmalloc.h"

/* Make an empty list. */
void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof *d);
}

/* Record one error at file:line:col; an identical one is kept once. */
void
diag_add(struct diag *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	struct diag_entry *e;
	va_list ap;
	char *msg;
	size_t i;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);

	for (i = 0; i < d->n; i++) {
		e = &d->v[i];
		if (e->line == line && e->col == col &&
		    strcmp(e->file, file) == 0 && strcmp(e->msg, msg) == 0) {
			free(msg);
			return;
		}
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	e = &d->v[d->n];
	e->file = xstrdup(file);
	e->line = line; /* 0: about the whole file */
	e->col = line == 0 ? 0 : (col < 1 ? 1 : col);
	e->msg = msg;
	e->order = d->n;
	d->n++;
}

/* Rank of a file: the insertion order of its first error. */
static size_t
diag_file_rank(const struct diag *d, const char *file)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].file, file) == 0)
			return d->v[i].order;
	return 0;
}

/* Sort by file (first named first), line, column, then insertion. */
void
diag_sort(struct diag *d)
{
	struct diag_entry tmp;
	size_t i, j, ri, rj;
	int swap;

	/* Insertion sort: lists are short and the sort must be stable. */
	for (i = 1; i < d->n; i++) {
		for (j = i; j > 0; j--) {
			struct diag_entry *a = &d->v[j - 1], *b = &d->v[j];

			ri = diag_file_rank(d, a->file);
			rj = diag_file_rank(d, b->file);
			swap = 0;
			if (rj < ri)
				swap = 1;
			else if (ri == rj && strcmp(a->file, b->file) == 0) {
				if (b->line < a->line ||
				    (b->line == a->line && b->col < a->col))
					swap = 1;
			}
			if (!swap)
				break;
			tmp = *a;
			*a = *b;
			*b = tmp;
		}
	}
}

/* Print every error as FILE:LINE:COL: message, sorted. */
void
diag_print(struct diag *d, FILE *fp)
{
	size_t i;

	diag_sort(d);
	for (i = 0; i < d->n; i++) {
		if (d->v[i].line == 0)
			fprintf(fp, "hostswap: %s: %s\n", d->v[i].file,
			    d->v[i].msg);
		else
			fprintf(fp, "%s:%u:%u: %s\n", d->v[i].file,
			    d->v[i].line, d->v[i].col, d->v[i].msg);
	}
	fflush(fp);
}

/* Free every entry. */
void
diag_free(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	diag_init(d);
}
