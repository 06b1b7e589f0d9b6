/*
 * diag.h: diagnostics collected like a compiler's. Loading a plan keeps
 * going after an error so that every problem is reported at once, each as
 * FILE:LINE:COL: message (1-based).
 */
#ifndef HOSTSWAP_DIAG_H
#define HOSTSWAP_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag_entry {
	char *file;
	unsigned line;
	unsigned col;
	char *msg;
	size_t order; /* insertion order, for a stable sort */
};

struct diag {
	struct diag_entry *v;
	size_t n;
	size_t cap;
	int missing_file; /* a named file does not exist */
};

void diag_init(struct diag *);
void diag_add(struct diag *, const char *, unsigned, unsigned, const char *,
    ...) __attribute__((format(printf, 5, 6)));
void diag_sort(struct diag *);
void diag_print(struct diag *, FILE *);
void diag_free(struct diag *);

#endif
