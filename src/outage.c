/*
 * outage.c: the outage as a figure. The plan marks one step `outage:
 * start` and one `outage: end`; the outage starts when the start step's
 * first task starts running (the earliest start of its tasks) and ends
 * when every task of the end step has succeeded (or was skipped by its
 * `unless`), at the latest of their ends. Both come from the times every
 * task already records, fed one task at a time by whoever holds them (the
 * live run, the state file, the report), so no extra record is kept
 * beyond which steps carry the marks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outage.h"
#include "plan.h"
#include "status.h"

/* No outage marked yet. */
void
outage_init(struct outage *o)
{
	memset(o, 0, sizeof *o);
	o->start_phase = o->end_phase = -1;
}

/* The marks as the state file keeps them ("PHASE/STEP"), "" without. */
void
outage_marks(const struct plan *p, char *start, char *end)
{
	const struct step *s, *e;
	int sp = -1, ep = -1;

	start[0] = end[0] = '\0';
	s = plan_outage_step(p, OUTAGE_START, &sp);
	e = plan_outage_step(p, OUTAGE_END, &ep);
	if (s == NULL || e == NULL || s->id == NULL || e->id == NULL)
		return;
	snprintf(start, OUTAGE_MARK_LEN, "%d/%s", sp, s->id);
	snprintf(end, OUTAGE_MARK_LEN, "%d/%s", ep, e->id);
}

/* Read one "PHASE/STEP" mark. */
static int
outage_parse(const char *mark, int *phase, char *step)
{
	const char *slash;
	char *end;
	long v;

	if (mark == NULL || (slash = strchr(mark, '/')) == NULL ||
	    slash[1] == '\0' || strlen(slash + 1) >= OUTAGE_MARK_LEN)
		return -1;
	v = strtol(mark, &end, 10);
	if (end != slash || v < 0 || v > 1000000)
		return -1;
	*phase = (int)v;
	snprintf(step, OUTAGE_MARK_LEN, "%s", slash + 1);
	return 0;
}

/* The outage of a run from its recorded marks; -1 if they do not read. */
int
outage_init_marks(struct outage *o, const char *start, const char *end)
{
	outage_init(o);
	if (start == NULL || end == NULL || *start == '\0' || *end == '\0')
		return 0;
	if (outage_parse(start, &o->start_phase, o->start_step) == -1 ||
	    outage_parse(end, &o->end_phase, o->end_step) == -1) {
		outage_init(o);
		return -1;
	}
	o->marked = 1;
	return 0;
}

/* The outage of a run of plan p. */
void
outage_init_plan(struct outage *o, const struct plan *p)
{
	char s[OUTAGE_MARK_LEN], e[OUTAGE_MARK_LEN];

	outage_marks(p, s, e);
	outage_init_marks(o, s, e);
}

/* Account for one task (its phase id, step id, state and times). */
void
outage_task(struct outage *o, int phase, const char *step, const char *state,
    uint64_t started_ms, uint64_t finished_ms)
{
	if (!o->marked || step == NULL || state == NULL)
		return;
	if (phase == o->start_phase && strcmp(step, o->start_step) == 0 &&
	    started_ms != 0 && (o->start_ms == 0 || started_ms < o->start_ms))
		o->start_ms = started_ms;
	if (phase == o->end_phase && strcmp(step, o->end_step) == 0) {
		o->end_tasks++;
		if ((strcmp(state, "succeeded") != 0 &&
			strcmp(state, "skipped") != 0) ||
		    finished_ms == 0)
			o->end_pending++;
		else if (finished_ms > o->end_ms)
			o->end_ms = finished_ms;
	}
}

/*
 * When the outage ended, or 0 while it has not: every task of the end
 * step done, after the outage started (an end step that finished before
 * the start step began, in the same phase, ends it at its start).
 */
uint64_t
outage_end_ms(const struct outage *o)
{
	if (!o->marked || o->start_ms == 0 || o->end_tasks == 0 ||
	    o->end_pending > 0 || o->end_ms == 0)
		return 0;
	return o->end_ms < o->start_ms ? o->start_ms : o->end_ms;
}

/*
 * The status JSON's run.outage: start and end (null until they happen),
 * seconds (the length once ended; while it runs, the length so far at
 * now_ms; null before it starts) and running.
 */
json_t *
outage_json(const struct outage *o, uint64_t now_ms)
{
	json_t *j = json_object();
	uint64_t end = outage_end_ms(o);
	json_t *secs = json_null();

	if (end != 0)
		secs = json_real((double)(end - o->start_ms) / 1000.0);
	else if (o->start_ms != 0)
		secs = json_real(now_ms > o->start_ms
			? (double)(now_ms - o->start_ms) / 1000.0
			: 0.0);
	json_object_set_new(j, "start", status_time_json(o->start_ms));
	json_object_set_new(j, "end", status_time_json(end));
	json_object_set_new(j, "seconds", secs);
	json_object_set_new(
	    j, "running", json_boolean(o->start_ms != 0 && end == 0));
	return j;
}
