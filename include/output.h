/*
 * output.h: what a task printed: the whole of it (for `hostswap log`) and a
 * bounded tail (for status), both with secrets scrubbed; nothing at all
 * for a sensitive step.
 */
#ifndef HOSTSWAP_OUTPUT_H
#define HOSTSWAP_OUTPUT_H

#include <stddef.h>

#include "buf.h"

struct secrets;

/* How much of the end of the output the status shows. */
#define OUTPUT_TAIL 2048

struct output {
	struct buf all; /* scrubbed, stdout and stderr merged */
	struct buf out; /* raw stdout, for capture */
	int sensitive;
	int capture;    /* keep raw stdout */
	size_t dropped; /* bytes not kept (sensitive) */
	char *pending;  /* an incomplete line, for scrubbing */
	size_t npending;
};

void output_init(struct output *, int, int);
void output_add(
    struct output *, const struct secrets *, const char *, size_t, int);
void output_flush(struct output *, const struct secrets *);
const char *output_tail(const struct output *);
char *output_captured(const struct output *);
void output_free(struct output *);

#endif
