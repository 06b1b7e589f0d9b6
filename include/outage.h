/*
 * outage.h: the users' outage of a run — from the moment the plan's
 * `outage: start` step starts its first task to the moment the last task
 * of its `outage: end` step succeeds — computed from the tasks' recorded
 * times alone, so the live run, the state file and the report agree.
 */
#ifndef HOSTSWAP_OUTAGE_H
#define HOSTSWAP_OUTAGE_H

#include <stdint.h>

#include <jansson.h>

struct plan;

/* An outage mark's text in the state file: "PHASE/STEP". */
#define OUTAGE_MARK_LEN 80

struct outage {
	int marked; /* the plan marks an outage */
	int start_phase, end_phase;
	char start_step[OUTAGE_MARK_LEN], end_step[OUTAGE_MARK_LEN];
	uint64_t start_ms; /* the start step's first task's start, or 0 */
	uint64_t end_ms;   /* the end step's last success, or 0 */
	int end_tasks;     /* tasks of the end step seen */
	int end_pending;   /* of them, not succeeded (or skipped) yet */
};

void outage_init(struct outage *);
void outage_init_plan(struct outage *, const struct plan *);
int outage_init_marks(struct outage *, const char *, const char *);
void outage_marks(const struct plan *, char *, char *);
void outage_task(
    struct outage *, int, const char *, const char *, uint64_t, uint64_t);
uint64_t outage_end_ms(const struct outage *);
json_t *outage_json(const struct outage *, uint64_t);

#endif
