/*
 * store-report.c: a run read back whole for the night's report — the run,
 * its hosts and keys, phases, tasks, every ended attempt with the end of
 * its scrubbed output, when each attempt began, and the audit trail's
 * notes — into a struct report (report.h). All of it is read in one read
 * transaction, so a report made while a daemon writes is one consistent
 * moment of the run (WAL: readers take no lock and never block it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "outage.h"
#include "report.h"
#include "store.h"
#include "store-int.h"
#include "xmalloc.h"

/* An integer column, or def when NULL. */
static int
store_report_int(sqlite3_stmt *s, int i, int def)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL
	    ? def
	    : sqlite3_column_int(s, i);
}

/* A time column in ms (0 when NULL). */
static uint64_t
store_report_ms(sqlite3_stmt *s, int i)
{
	return (uint64_t)sqlite3_column_int64(s, i);
}

/* The run's own row. 0, or -1 when there is no such run. */
static int
store_report_run(struct store *st, int run_id, struct report *rp)
{
	sqlite3_stmt *s;
	int rc = -1;

	s = store_query(st,
	    "SELECT id, uid, name, state, date, plan_path, plan_sha256, "
	    "inventory_path, inventory_sha256, vars, started_ms, finished_ms, "
	    "current_phase, swapped, from_phase, to_phase, resumes, "
	    "outage_start, outage_end FROM runs WHERE id = ?",
	    "i", (int64_t)run_id);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		rp->id = sqlite3_column_int(s, 0);
		rp->uid = store_col_str(s, 1);
		rp->name = store_col_str(s, 2);
		rp->state = store_col_str(s, 3);
		rp->date = store_col_str(s, 4);
		rp->plan_path = store_col_str(s, 5);
		rp->plan_sha256 = store_col_str(s, 6);
		rp->inventory_path = store_col_str(s, 7);
		rp->inventory_sha256 = store_col_str(s, 8);
		rp->vars = store_col_str(s, 9);
		rp->started_ms = store_report_ms(s, 10);
		rp->finished_ms = store_report_ms(s, 11);
		rp->current_phase = store_report_int(s, 12, -1);
		rp->swapped = sqlite3_column_int(s, 13);
		rp->from_phase = store_report_int(s, 14, -1);
		rp->to_phase = store_report_int(s, 15, -1);
		rp->resumes = sqlite3_column_int(s, 16);
		rp->outage_from = store_col_str(s, 17);
		rp->outage_to = store_col_str(s, 18);
		if (strcmp(rp->state, "running") == 0)
			rp->finished_ms = 0;
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

/* The hosts in the inventory's order, with their keys then and now. */
static void
store_report_hosts(struct store *st, struct report *rp)
{
	struct report_host *h;
	sqlite3_stmt *s;

	s = store_query(st,
	    "SELECT name, address, port, user, key_source, machine_key, "
	    "expected_key, swapped FROM hosts WHERE run_id = ? ORDER BY rowid",
	    "i", (int64_t)rp->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		rp->hosts =
		    xreallocarray(rp->hosts, rp->nhosts + 1, sizeof *rp->hosts);
		h = &rp->hosts[rp->nhosts++];
		h->name = store_col_str(s, 0);
		h->address = store_col_str(s, 1);
		h->port = sqlite3_column_int(s, 2);
		h->user = store_col_str(s, 3);
		h->key_source = store_col_str(s, 4);
		h->key_before = store_col_str(s, 5);
		h->key_now = store_col_str(s, 6);
		h->swapped = sqlite3_column_int(s, 7);
	}
	sqlite3_finalize(s);
}

/* The phases in order, then each one's tasks in the plan's order. */
static void
store_report_phases(struct store *st, struct report *rp)
{
	struct report_phase *ph;
	struct report_task *t;
	struct store_task_row row;
	sqlite3_stmt *s;
	size_t idx;

	s = store_query(st,
	    "SELECT id, name, state, started_ms, finished_ms FROM phases "
	    "WHERE run_id = ? ORDER BY idx",
	    "i", (int64_t)rp->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		rp->phases = xreallocarray(
		    rp->phases, rp->nphases + 1, sizeof *rp->phases);
		ph = &rp->phases[rp->nphases++];
		memset(ph, 0, sizeof *ph);
		ph->id = sqlite3_column_int(s, 0);
		ph->name = store_col_str(s, 1);
		ph->state = store_col_str(s, 2);
		ph->started_ms = store_report_ms(s, 3);
		ph->finished_ms = store_report_ms(s, 4);
	}
	sqlite3_finalize(s);

	s = store_query(st,
	    "SELECT " STORE_TASK_COLUMNS " FROM tasks "
	    "WHERE run_id = ? ORDER BY phase_idx, ord",
	    "i", (int64_t)rp->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		store_task_row(s, &row);
		idx = (size_t)row.phase_idx;
		if (row.phase_idx < 0 || idx >= rp->nphases)
			continue;
		ph = &rp->phases[idx];
		ph->tasks =
		    xreallocarray(ph->tasks, ph->ntasks + 1, sizeof *ph->tasks);
		t = &ph->tasks[ph->ntasks++];
		memset(t, 0, sizeof *t);
		t->phase = row.phase;
		t->step = row.step ? xstrdup(row.step) : NULL;
		t->host = row.host ? xstrdup(row.host) : NULL;
		t->kind = row.kind ? xstrdup(row.kind) : NULL;
		t->state = row.state ? xstrdup(row.state) : NULL;
		t->attempt = row.attempt;
		t->exit_code = row.exit_code;
		t->error = row.error ? xstrdup(row.error) : NULL;
		t->started_ms = row.started_ms;
		t->finished_ms = row.finished_ms;
		t->tail = row.tail ? xstrdup(row.tail) : NULL;
	}
	sqlite3_finalize(s);
}

/* The run's task of a phase id, step and host, or NULL. */
static struct report_task *
store_report_task(
    struct report *rp, int phase, const char *step, const char *host)
{
	struct report_phase *ph;
	size_t i, j;

	for (i = 0; i < rp->nphases; i++) {
		ph = &rp->phases[i];
		if (ph->id != phase)
			continue;
		for (j = 0; j < ph->ntasks; j++)
			if (strcmp(ph->tasks[j].step, step) == 0 &&
			    strcmp(ph->tasks[j].host, host) == 0)
				return &ph->tasks[j];
	}
	return NULL;
}

/* Every ended attempt, with the end of its (scrubbed) output. */
static void
store_report_attempts(struct store *st, struct report *rp)
{
	struct report_attempt *a;
	struct report_task *t;
	sqlite3_stmt *s;
	const void *out;
	int n;

	s = store_query(st,
	    "SELECT phase, step, host, attempt, state, exit_code, error, "
	    "started_ms, finished_ms, sensitive, substr(output, -?), "
	    "length(output) FROM attempts WHERE run_id = ? "
	    "ORDER BY phase, step, host, attempt",
	    "ii", (int64_t)REPORT_OUTPUT_MAX, (int64_t)rp->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		t = store_report_task(rp, sqlite3_column_int(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2));
		if (t == NULL)
			continue;
		t->attempts = xreallocarray(
		    t->attempts, t->nattempts + 1, sizeof *t->attempts);
		a = &t->attempts[t->nattempts++];
		a->attempt = sqlite3_column_int(s, 3);
		a->state = store_col_str(s, 4);
		a->exit_code = store_report_int(s, 5, -1);
		a->error = store_col_str(s, 6);
		a->started_ms = store_report_ms(s, 7);
		a->finished_ms = store_report_ms(s, 8);
		a->sensitive = sqlite3_column_int(s, 9);
		out = sqlite3_column_blob(s, 10);
		n = sqlite3_column_bytes(s, 10);
		a->output = xmalloc((size_t)n + 1);
		if (n > 0)
			memcpy(a->output, out, (size_t)n);
		a->output[n] = '\0';
		a->output_len = (size_t)n;
		a->output_total = (size_t)sqlite3_column_int64(s, 11);
		if (a->sensitive)
			t->sensitive = 1;
	}
	sqlite3_finalize(s);
}

/*
 * When each attempt began. The attempts table keeps the task's first
 * start only, so an attempt's own start is the time of its `running`
 * event in the log (the first one: a resume that finds it still running
 * says so again). The current attempt may not have ended yet.
 */
static void
store_report_starts(struct store *st, struct report *rp)
{
	struct report_task *t;
	sqlite3_stmt *s;
	uint64_t ts;
	size_t i;
	int n;

	s = store_query(st,
	    "SELECT json_extract(data, '$.phase'), json_extract(data, "
	    "'$.step'), json_extract(data, '$.host'), json_extract(data, "
	    "'$.attempt'), min(ts_ms) FROM events WHERE run_id = ? AND type = "
	    "'task' AND json_extract(data, '$.state') = 'running' "
	    "GROUP BY 1, 2, 3, 4",
	    "i", (int64_t)rp->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		t = store_report_task(rp, sqlite3_column_int(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2));
		if (t == NULL)
			continue;
		n = sqlite3_column_int(s, 3);
		ts = store_report_ms(s, 4);
		if (t->attempt == n)
			t->attempt_started_ms = ts;
		for (i = 0; i < t->nattempts; i++)
			if (t->attempts[i].attempt == n)
				t->attempts[i].started_ms = ts;
	}
	sqlite3_finalize(s);
}

/* The audit trail's notes, oldest first. */
static void
store_report_notes(struct store *st, struct report *rp)
{
	struct report_note *n;
	sqlite3_stmt *s;
	const char *msg;

	s = store_query(st,
	    "SELECT ts_ms, json_extract(data, '$.msg') FROM events WHERE "
	    "run_id = ? AND type = 'note' ORDER BY seq",
	    "i", (int64_t)rp->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		if ((msg = (const char *)sqlite3_column_text(s, 1)) == NULL)
			continue;
		rp->notes =
		    xreallocarray(rp->notes, rp->nnotes + 1, sizeof *rp->notes);
		n = &rp->notes[rp->nnotes++];
		n->ts_ms = store_report_ms(s, 0);
		n->msg = xstrdup(msg);
	}
	sqlite3_finalize(s);
}

/* The outage from the marks the run recorded and its tasks' times. */
static void
store_report_outage(struct report *rp)
{
	struct outage o;
	const struct report_task *t;
	size_t i, j;

	if (outage_init_marks(&o, rp->outage_from, rp->outage_to) == -1 ||
	    !o.marked)
		return;
	for (i = 0; i < rp->nphases; i++)
		for (j = 0; j < rp->phases[i].ntasks; j++) {
			t = &rp->phases[i].tasks[j];
			outage_task(&o, t->phase, t->step, t->state,
			    t->started_ms, t->finished_ms);
		}
	rp->outage_start_ms = o.start_ms;
	rp->outage_end_ms = outage_end_ms(&o);
}

/*
 * Read run run_id whole into rp (report_free() frees it). STORE_NOFILE
 * when the file holds no such run, STORE_ERROR (*err) when it cannot be
 * read.
 */
int
store_report(struct store *st, int run_id, struct report *rp, char **err)
{
	int rc = STORE_OK;

	memset(rp, 0, sizeof *rp);
	*err = NULL;
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		xasprintf(err, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return STORE_ERROR;
	}
	rp->now_ms = clock_now_ms();
	if (store_report_run(st, run_id, rp) == -1) {
		xasprintf(err, "%s holds no run %d", st->path, run_id);
		rc = STORE_NOFILE;
	} else {
		store_report_hosts(st, rp);
		store_report_phases(st, rp);
		store_report_attempts(st, rp);
		store_report_starts(st, rp);
		store_report_notes(st, rp);
		store_report_outage(rp);
	}
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
