/*
 * output.h: what a task printed: its head and tail, bounded (for `hostswap
 * log`), and a short tail (for status), both with secrets scrubbed; nothing
 * at all for a sensitive step.
 */
#ifndef HOSTSWAP_OUTPUT_H
#define HOSTSWAP_OUTPUT_H

#include <stddef.h>

#include "buf.h"

struct secrets;

/* How much of the end of the output the status shows. */
#define OUTPUT_TAIL 2048

/*
 * The bounds (SPEC v3 §6: a host printing without end cannot exhaust the
 * controller). An attempt keeps its first OUTPUT_HEAD bytes and its last
 * OUTPUT_KEEP (what lies between is counted, not kept: the state file
 * does not grow without end either); a line longer than OUTPUT_LINE is
 * scrubbed in pieces; a capture larger than OUTPUT_CAPTURE fails its task.
 */
#define OUTPUT_HEAD    (1024 * 1024)
#define OUTPUT_KEEP    (64 * 1024)
#define OUTPUT_LINE    (64 * 1024)
#define OUTPUT_CAPTURE (64 * 1024)

struct output {
	struct buf all; /* scrubbed, stdout and stderr merged: the head, then
			 * the tail once dropped > 0 */
	struct buf out; /* raw stdout, for capture */
	int sensitive;
	int capture;         /* keep raw stdout */
	int capture_too_big; /* stdout outgrew OUTPUT_CAPTURE: not kept */
	size_t dropped;      /* bytes not kept (sensitive) */
	size_t dropped_mid;  /* bytes dropped between head and tail */
	char *pending;       /* an incomplete line, for scrubbing */
	size_t npending;
};

void output_init(struct output *, int, int);
void output_add(
    struct output *, const struct secrets *, const char *, size_t, int);
void output_flush(struct output *, const struct secrets *);
const char *output_tail(const struct output *);
char *output_captured(const struct output *);
int output_capture_too_big(const struct output *);
void output_text(const struct output *, struct buf *);
void output_free(struct output *);

#endif
