/*
 * store-read.c: what is read back from the state file — the newest run's
 * facts, a run restored into a fresh one for a resume, and the readers'
 * queries (the status JSON, a task's output, the event log, the keys as
 * of now). Readers take no lock: WAL lets them read while a daemon writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "hostkey.h"
#include "buf.h"
#include "outage.h"
#include "secret.h"
#include "status.h"
#include "store.h"
#include "store-int.h"
#include "xmalloc.h"

/* Read the newest run's facts. STORE_NOFILE when there is none. */
int
store_newest_run(struct store *st, struct store_run_info *ri)
{
	sqlite3_stmt *s;
	const char *t;
	int rc = STORE_NOFILE;

	memset(ri, 0, sizeof *ri);
	s = store_query(st,
	    "SELECT id, uid, date, state, plan_path, plan_sha256, "
	    "inventory_path, inventory_sha256, from_phase, to_phase, "
	    "started_ms, plan_realpath FROM runs ORDER BY id DESC LIMIT 1",
	    "");
	if (s == NULL)
		return STORE_ERROR;
	if (sqlite3_step(s) == SQLITE_ROW) {
		ri->id = sqlite3_column_int(s, 0);
		snprintf(ri->uid, sizeof ri->uid, "%s",
		    (const char *)sqlite3_column_text(s, 1));
		snprintf(ri->date, sizeof ri->date, "%s",
		    (const char *)sqlite3_column_text(s, 2));
		ri->state = store_col_str(s, 3);
		ri->plan_path = store_col_str(s, 4);
		snprintf(ri->plan_sha256, sizeof ri->plan_sha256, "%s",
		    (const char *)sqlite3_column_text(s, 5));
		ri->inventory_path = store_col_str(s, 6);
		t = (const char *)sqlite3_column_text(s, 7);
		snprintf(ri->inventory_sha256, sizeof ri->inventory_sha256,
		    "%s", t ? t : "");
		ri->from_phase = sqlite3_column_type(s, 8) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int(s, 8);
		ri->to_phase = sqlite3_column_type(s, 9) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int(s, 9);
		ri->started_ms = (uint64_t)sqlite3_column_int64(s, 10);
		ri->plan_realpath = store_col_str(s, 11);
		rc = STORE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Free what store_newest_run() allocated. */
void
store_run_info_free(struct store_run_info *ri)
{
	free(ri->state);
	free(ri->plan_path);
	free(ri->plan_realpath);
	free(ri->inventory_path);
	memset(ri, 0, sizeof *ri);
}

/* Whether a run can still be resumed (SPEC §4: all but succeeded). */
int
store_run_unfinished(const struct store_run_info *ri)
{
	return ri->state != NULL && strcmp(ri->state, "succeeded") != 0 &&
	    strcmp(ri->state, "abandoned") != 0;
}

/*
 * What the file keeps of run run_id for a resume, handed over row by row:
 * its swap and the keys revoked when it began (*swapped, *revoked: the
 * caller frees it), then its hosts, captures, phases and tasks. A host
 * callback's -1 stops the reading and is returned.
 */
int
store_saved(struct store *st, int run_id, int *swapped, char **revoked,
    const struct store_saved_cb *cb, void *arg)
{
	struct store_task_row row;
	sqlite3_stmt *s;

	*swapped = 0;
	*revoked = NULL;
	s = store_query(st, "SELECT swapped, revoked FROM runs WHERE id = ?",
	    "i", (int64_t)run_id);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		*swapped = sqlite3_column_int(s, 0);
		*revoked = store_col_str(s, 1);
	}
	sqlite3_finalize(s);
	s = store_query(st,
	    "SELECT name, machine_key, swapped, key_source FROM hosts "
	    "WHERE run_id = ?",
	    "i", (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		if (cb->host(arg, (const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			sqlite3_column_int(s, 2),
			(const char *)sqlite3_column_text(s, 3)) == -1) {
			sqlite3_finalize(s);
			return -1;
		}
	sqlite3_finalize(s);
	s = store_query(st,
	    "SELECT name, host, value FROM captures WHERE run_id = ?", "i",
	    (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		cb->capture(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2));
	sqlite3_finalize(s);
	s = store_query(st,
	    "SELECT id, state, started_ms, finished_ms FROM phases WHERE "
	    "run_id = ?",
	    "i", (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		cb->phase(arg, sqlite3_column_int(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (uint64_t)sqlite3_column_int64(s, 2),
		    (uint64_t)sqlite3_column_int64(s, 3));
	sqlite3_finalize(s);
	s = store_query(st,
	    "SELECT " STORE_TASK_COLUMNS " FROM tasks WHERE run_id = ?", "i",
	    (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		store_task_row(s, &row);
		cb->task(arg, &row);
	}
	sqlite3_finalize(s);
	return 0;
}

/* A task row as a status view (strings point into the statement). */
static void
store_task_view(sqlite3_stmt *s, struct status_task *v)
{
	struct store_task_row row;

	store_task_row(s, &row);
	memset(v, 0, sizeof *v);
	v->phase = row.phase;
	v->step = row.step;
	v->host = row.host;
	v->state = row.state;
	v->attempt = row.attempt;
	v->exit_code = row.exit_code;
	v->started_ms = row.started_ms;
	v->finished_ms = row.finished_ms;
	v->error = row.error;
	v->output_tail = row.tail;
	if (v->error != NULL && strcmp(v->state, "failed") != 0 &&
	    strcmp(v->state, "interrupted") != 0)
		v->error = NULL;
}

/* The fingerprint of a key as the file keeps it, into fp; NULL if none. */
static const char *
store_key_fingerprint(const char *line, char *fp, size_t len)
{
	struct hostkey k;

	memset(&k, 0, sizeof k);
	if (line == NULL || hostkey_from_pin(line, &k) == -1 ||
	    k.fingerprint == NULL) {
		hostkey_clear(&k);
		return NULL;
	}
	snprintf(fp, len, "%s", k.fingerprint);
	hostkey_clear(&k);
	return fp;
}

/* The status JSON's "hosts" of a run, from the file. */
static json_t *
store_status_hosts(struct store *st, int run_id)
{
	json_t *a = json_array();
	struct status_host v;
	sqlite3_stmt *s;
	char before[128], now[128];

	s = store_query(st,
	    "SELECT name, address, port, machine_key, expected_key, swapped "
	    "FROM hosts WHERE run_id = ? ORDER BY rowid",
	    "i", (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		v.name = (const char *)sqlite3_column_text(s, 0);
		v.address = (const char *)sqlite3_column_text(s, 1);
		v.port = sqlite3_column_int(s, 2);
		v.key_before = store_key_fingerprint(
		    (const char *)sqlite3_column_text(s, 3), before,
		    sizeof before);
		v.key_now = store_key_fingerprint(
		    (const char *)sqlite3_column_text(s, 4), now, sizeof now);
		v.swapped = sqlite3_column_int(s, 5);
		json_array_append_new(a, status_host_json(&v));
	}
	sqlite3_finalize(s);
	return a;
}

/* The status JSON of SPEC §6 for a run, from the file alone. */
int
store_status_json(struct store *st, int run_id, json_t **out)
{
	struct status_run rv;
	struct status_phase pv;
	struct status_task tv;
	sqlite3_stmt *s, *ts;
	json_t *o, *phases, *po, *tasks, *run;
	struct outage og;

	*out = NULL;
	s = store_query(st,
	    "SELECT id, uid, plan_path, name, state, started_ms, finished_ms, "
	    "current_phase, swapped, date, outage_start, outage_end FROM runs "
	    "WHERE id = ?",
	    "i", (int64_t)run_id);
	if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return -1;
	}
	rv.id = sqlite3_column_int(s, 0);
	rv.uid = (const char *)sqlite3_column_text(s, 1);
	rv.plan = (const char *)sqlite3_column_text(s, 2);
	rv.name = (const char *)sqlite3_column_text(s, 3);
	rv.state = (const char *)sqlite3_column_text(s, 4);
	rv.started_ms = (uint64_t)sqlite3_column_int64(s, 5);
	rv.finished_ms = (uint64_t)sqlite3_column_int64(s, 6);
	rv.current_phase = sqlite3_column_type(s, 7) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(s, 7);
	rv.swapped = sqlite3_column_int(s, 8);
	rv.date = (const char *)sqlite3_column_text(s, 9);
	if (strcmp(rv.state, "running") == 0)
		rv.finished_ms = 0;
	outage_init_marks(&og, (const char *)sqlite3_column_text(s, 10),
	    (const char *)sqlite3_column_text(s, 11));
	o = json_object();
	run = status_run_json(&rv);
	json_object_set_new(o, "run", run);
	sqlite3_finalize(s);

	phases = json_array();
	s = store_query(st,
	    "SELECT idx, id, name, state, started_ms, finished_ms FROM phases "
	    "WHERE run_id = ? ORDER BY idx",
	    "i", (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		pv.id = sqlite3_column_int(s, 1);
		pv.name = (const char *)sqlite3_column_text(s, 2);
		pv.state = (const char *)sqlite3_column_text(s, 3);
		pv.started_ms = (uint64_t)sqlite3_column_int64(s, 4);
		pv.finished_ms = (uint64_t)sqlite3_column_int64(s, 5);
		po = status_phase_json(&pv);
		tasks = json_array();
		ts = store_query(st,
		    "SELECT " STORE_TASK_COLUMNS " FROM tasks WHERE "
		    "run_id = ? AND phase_idx = ? ORDER BY ord",
		    "ii", (int64_t)run_id, sqlite3_column_int64(s, 0));
		while (ts != NULL && sqlite3_step(ts) == SQLITE_ROW) {
			store_task_view(ts, &tv);
			if (strcmp(tv.state, "running") == 0 ||
			    strcmp(tv.state, "pending") == 0 ||
			    strcmp(tv.state, "waiting") == 0)
				tv.finished_ms = 0;
			outage_task(&og, tv.phase, tv.step, tv.state,
			    tv.started_ms, tv.finished_ms);
			json_array_append_new(tasks, status_task_json(&tv, 0));
		}
		sqlite3_finalize(ts);
		json_object_set_new(po, "tasks", tasks);
		json_array_append_new(phases, po);
	}
	sqlite3_finalize(s);
	json_object_set_new(o, "phases", phases);
	json_object_set_new(o, "hosts", store_status_hosts(st, run_id));
	json_object_set_new(run, "outage", outage_json(&og, clock_now_ms()));
	*out = o;
	return 0;
}

/*
 * A task's whole output of one attempt (0: the last) into b. -1 with *err
 * when there is no such task or attempt.
 */
int
store_task_output(struct store *st, int run_id, int phase, const char *step,
    const char *host, int attempt, struct buf *b, char **err)
{
	sqlite3_stmt *s;
	int n = 0, sensitive = 0, got;
	char *h = NULL;

	s = store_query(st,
	    "SELECT DISTINCT host FROM tasks WHERE run_id = ? AND phase = ? "
	    "AND step = ? AND (? IS NULL OR host = ?)",
	    "iittt", (int64_t)run_id, (int64_t)phase, step, host, host);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		n++;
		free(h);
		h = store_col_str(s, 0);
	}
	sqlite3_finalize(s);
	if (n != 1) {
		free(h);
		if (n == 0)
			xasprintf(err, "run %d has no task %d/%s%s%s", run_id,
			    phase, step, host ? " on " : "", host ? host : "");
		else
			xasprintf(err,
			    "%d/%s ran on several hosts: name one with --host",
			    phase, step);
		return -1;
	}
	s = store_query(st,
	    "SELECT output, sensitive, attempt FROM attempts WHERE run_id = ? "
	    "AND phase = ? AND step = ? AND host = ? AND (? = 0 OR attempt = "
	    "?) ORDER BY attempt DESC LIMIT 1",
	    "iittii", (int64_t)run_id, (int64_t)phase, step, h,
	    (int64_t)attempt, (int64_t)attempt);
	got = s != NULL && sqlite3_step(s) == SQLITE_ROW;
	if (got) {
		buf_add(b, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
		sensitive = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	if (!got) {
		xasprintf(err, "%d/%s on %s has no %s attempt yet", phase, step,
		    h, attempt ? "such" : "finished");
		free(h);
		return -1;
	}
	if (sensitive) {
		xasprintf(err, "%d/%s is sensitive: its output was never kept",
		    phase, step);
		free(h);
		return -1;
	}
	free(h);
	return 0;
}

/*
 * The event log after sequence number `after` (of one run, or all with
 * run_id 0), oldest first: cb(arg, seq, ts_ms, type, run, data). *last is
 * the last sequence number seen.
 */
int
store_events(struct store *st, int64_t after, int run_id,
    void (*cb)(void *, int64_t, uint64_t, const char *, int, const char *),
    void *arg, int64_t *last)
{
	sqlite3_stmt *s;

	*last = after;
	s = store_query(st,
	    "SELECT seq, ts_ms, type, run_id, data FROM events WHERE seq > ? "
	    "AND (? = 0 OR run_id = ?) ORDER BY seq",
	    "iii", after, (int64_t)run_id, (int64_t)run_id);
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*last = sqlite3_column_int64(s, 0);
		cb(arg, *last, (uint64_t)sqlite3_column_int64(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    sqlite3_column_int(s, 3),
		    (const char *)sqlite3_column_text(s, 4));
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * Every host of a run with the key its name expects now — after the swap,
 * the other machine's: cb(arg, name, address, port, key line or NULL).
 */
int
store_known_hosts(struct store *st, int run_id,
    void (*cb)(void *, const char *, const char *, int, const char *),
    void *arg)
{
	sqlite3_stmt *s;

	s = store_query(st,
	    "SELECT name, address, port, expected_key FROM hosts WHERE "
	    "run_id = ? ORDER BY name",
	    "i", (int64_t)run_id);
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2),
		    (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
	return 0;
}

/* The endpoint's URL a run's daemon wrote, or NULL (allocated). */
char *
store_run_url(struct store *st, int run_id)
{
	sqlite3_stmt *s;
	char *url = NULL;

	s = store_query(
	    st, "SELECT url FROM runs WHERE id = ?", "i", (int64_t)run_id);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		url = store_col_str(s, 0);
	sqlite3_finalize(s);
	return url;
}

/* The sequence number of the newest event (0: none). */
int64_t
store_last_seq(struct store *st)
{
	return store_int(st, "SELECT coalesce(max(seq), 0) FROM events", 0);
}

/* How many tasks of a run are in a state. */
int
store_task_count(struct store *st, int run_id, const char *state)
{
	sqlite3_stmt *s;
	int n = 0;

	s = store_query(st,
	    "SELECT count(*) FROM tasks WHERE run_id = ? AND state = ?", "it",
	    (int64_t)run_id, state);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}
