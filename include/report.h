/*
 * report.h: the night's report — a run as a document an operator pastes
 * into the lab's wiki (Markdown or one self-contained HTML page): the
 * plan, hosts, approvals, phases and tasks with their durations, failures
 * with their output tails, the checks' evidence, host keys before and after
 * the swap, and a timeline drawn as SVG.
 *
 * The state file fills a struct report (store-report.c, the store being
 * the only module that reads SQLite); report.c writes the document and
 * report-svg.c draws the timeline, from that struct alone.
 */
#ifndef HOSTSWAP_REPORT_H
#define HOSTSWAP_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* How much of an attempt's output the report reads (its end). */
#define REPORT_OUTPUT_MAX 16384

enum report_format {
	REPORT_MARKDOWN,
	REPORT_HTML,
};

struct report_host {
	char *name;
	char *address;
	int port;
	char *user;
	char *key_source; /* pin, known_hosts, learned, unknown */
	char *key_before; /* the key the name expected at creation, or NULL */
	char *key_now;    /* the key it expects now, or NULL */
	int swapped;
};

struct report_attempt {
	int attempt;
	char *state;   /* succeeded, failed, skipped, interrupted */
	int exit_code; /* -1: none */
	char *error;
	uint64_t started_ms;
	uint64_t finished_ms;
	int sensitive;
	char *output; /* the end of the scrubbed output (NUL-terminated) */
	size_t output_len;
	size_t output_total; /* the whole output's size */
};

struct report_task {
	int phase;
	char *step;
	char *host;
	char *kind;
	char *state;
	int attempt; /* the current attempt, 0: never started */
	int exit_code;
	char *error;
	uint64_t started_ms; /* the first attempt's start */
	uint64_t finished_ms;
	uint64_t attempt_started_ms; /* the current attempt's start, or 0 */
	int sensitive;
	char *tail; /* the status tail (a manual step's instructions) */
	struct report_attempt *attempts; /* the ended ones, in order */
	size_t nattempts;
};

struct report_phase {
	int id;
	char *name;
	char *state;
	uint64_t started_ms;
	uint64_t finished_ms;
	struct report_task *tasks;
	size_t ntasks;
};

/* A note of the audit trail: retries, decisions, the swap. */
struct report_note {
	uint64_t ts_ms;
	char *msg;
};

struct report {
	int id;
	char *uid;
	char *name;
	char *state;
	char *date;
	char *plan_path;
	char *plan_sha256;
	char *inventory_path; /* NULL: the plan's inline inventory */
	char *inventory_sha256;
	char
	    *vars; /* the resolved variables as JSON, secrets as placeholders */
	uint64_t started_ms;
	uint64_t finished_ms; /* 0: not finished */
	uint64_t now_ms;      /* when the report was read */
	int current_phase;    /* -1: none */
	int swapped;
	int from_phase, to_phase; /* -1: open */
	int resumes;
	struct report_host *hosts;
	size_t nhosts;
	struct report_phase *phases;
	size_t nphases;
	struct report_note *notes;
	size_t nnotes;
	char *outage_from;        /* "PHASE/STEP" of `outage: start`, or NULL */
	char *outage_to;          /* of `outage: end` */
	uint64_t outage_start_ms; /* 0: not started */
	uint64_t outage_end_ms;   /* 0: not ended */
};

void report_free(struct report *);
void report_write(
    const struct report *, enum report_format, const char *, struct buf *);
void report_svg(const struct report *, int, struct buf *);

void report_xml(struct buf *, const char *, size_t);
void report_md(struct buf *, const char *);
void report_md_code(struct buf *, const char *, size_t);
void report_time(char *, size_t, uint64_t);
void report_duration(char *, size_t, uint64_t);

#endif
