/*
 * store-write.c: a run's transitions as the state file records them — the
 * run with its hosts, phases and tasks at creation, every state change
 * with its event, attempts and their scrubbed output, captures, learnt
 * keys and the swap, notes, and the operator's `mark`. Each write joins
 * the open batch (store.c); none is durable before that batch commits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "buf.h"
#include "status.h"
#include "store.h"
#include "store-int.h"
#include "xmalloc.h"

/*
 * A run the operator chose not to resume (run --abandon-unfinished). It
 * joins the open transaction: the caller creates the new run in the same
 * one (store_run_create()), so the old run is abandoned only if the new
 * one exists, and stays resumable otherwise.
 */
void
store_run_abandon(struct store *st, int id)
{
	json_t *o = json_pack("{s:i, s:s}", "id", id, "state", "abandoned");

	store_write(st,
	    "UPDATE runs SET abandoned = 1, state = 'abandoned' "
	    "WHERE id = ?",
	    "i", (int64_t)id);
	store_event(st, id, "run", o);
}

/*
 * Record a new run and everything it starts with: hosts and their keys,
 * phases, tasks; returns its id. Committed at once.
 */
int
store_run_create(struct store *st, const struct store_new_run *nr)
{
	size_t i, j;
	int id;

	store_write(st,
	    "INSERT INTO runs (uid, name, plan_path, plan_realpath, "
	    "plan_sha256, inventory_path, inventory_sha256, inventory, vars, "
	    "date, state, started_ms, from_phase, to_phase, outage_start, "
	    "outage_end, revoked) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    "tttttttttttunnttt", nr->uid, nr->name, nr->plan_path,
	    nr->plan_realpath, nr->plan_sha256, nr->inventory_path,
	    nr->inventory_sha256, nr->inventory, nr->vars_json, nr->date,
	    nr->state, nr->started_ms, nr->from_phase, nr->to_phase,
	    nr->outage_start, nr->outage_end, nr->revoked);
	id = (int)sqlite3_last_insert_rowid(st->db);
	for (i = 0; i < nr->nhosts; i++) {
		const struct store_host *h = &nr->hosts[i];

		store_write(st,
		    "INSERT INTO hosts (run_id, name, address, port, user, "
		    "machine_key, key_source, expected_key, swapped) "
		    "VALUES (?,?,?,?,?,?,?,?,?)",
		    "ittntttti", (int64_t)id, h->name, h->address, h->port,
		    h->user, h->machine_key, h->key_source, h->expected_key,
		    (int64_t)h->swapped);
	}
	for (i = 0; i < nr->nphases; i++) {
		const struct store_new_phase *ph = &nr->phases[i];

		store_write(st,
		    "INSERT INTO phases (run_id, idx, id, name, state) "
		    "VALUES (?,?,?,?,?)",
		    "iiitt", (int64_t)id, (int64_t)i, (int64_t)ph->id, ph->name,
		    ph->state);
		for (j = 0; j < ph->ntasks; j++) {
			const struct store_new_task *t = &ph->tasks[j];

			store_write(st,
			    "INSERT INTO tasks (run_id, phase_idx, ord, phase, "
			    "step, host, kind, idempotent, state) "
			    "VALUES (?,?,?,?,?,?,?,?,?)",
			    "iiiitttit", (int64_t)id, (int64_t)i, (int64_t)j,
			    (int64_t)ph->id, t->step, t->host, t->kind,
			    (int64_t)t->idempotent, t->state);
		}
	}
	/* The run's first event: its object, with the id it now has. */
	json_object_set_new(nr->run_json, "id", json_integer(id));
	store_event(st, id, "run", json_incref(nr->run_json));
	store_commit_tx(st);
	return id;
}

/*
 * The run changed state (or its current phase). Committed at once, not
 * with the batch: the endpoint serves the run's state from memory and
 * notifications go out as the state changes, so a reader of the file
 * (status --state) must see the transition — `waiting` above all —
 * before either announces it. Run transitions are few.
 */
void
store_run_state(struct store *st, const struct status_run *v)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE runs SET state = ?, finished_ms = ?, current_phase = ?, "
	    "swapped = ? WHERE id = ?",
	    "tunii", v->state, v->finished_ms, v->current_phase,
	    (int64_t)v->swapped, (int64_t)v->id);
	store_event(st, v->id, "run", status_run_json(v));
	store_commit_tx(st);
}

/* A resume took the run up again. */
void
store_run_resumed(struct store *st, const struct status_run *v)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE runs SET resumes = resumes + 1, finished_ms = NULL "
	    "WHERE id = ?",
	    "i", (int64_t)v->id);
	store_run_state(st, v);
}

/* A phase (the idx-th of the plan) of run run_id changed state. */
void
store_phase(
    struct store *st, int run_id, size_t idx, const struct status_phase *v)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE phases SET state = ?, started_ms = ?, finished_ms = ? "
	    "WHERE run_id = ? AND idx = ?",
	    "tuuii", v->state, v->started_ms, v->finished_ms, (int64_t)run_id,
	    (int64_t)idx);
	store_event(st, run_id, "phase", status_phase_json(v));
	store_write(st, "UPDATE runs SET current_phase = ? WHERE id = ?", "ii",
	    (int64_t)v->id, (int64_t)run_id);
}

/* A task changed state or began another attempt (record: where its
 * attempt's record is on its host, or NULL). */
void
store_task(struct store *st, const struct store_task_ref *ref,
    const struct status_task *v, const char *record)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE tasks SET state = ?, attempt = ?, exit_code = ?, "
	    "error = ?, started_ms = ?, finished_ms = ?, record = ?, tail = ? "
	    "WHERE run_id = ? AND phase_idx = ? AND step = ? AND host = ?",
	    "tintuuttiitt", v->state, (int64_t)v->attempt, v->exit_code,
	    v->error, v->started_ms, v->finished_ms, record,
	    v->output_tail && *v->output_tail ? v->output_tail : NULL,
	    (int64_t)ref->run_id, (int64_t)ref->phase_idx, ref->step,
	    ref->host);
	store_event(st, ref->run_id, "task", status_task_json(v, 1));
	/* A task that waits for an operator is announced at once (the
	 * endpoint, the page): the file has it first, as for the run. */
	if (strcmp(v->state, "waiting") == 0)
		store_commit_tx(st);
}

/* A fact a resume needs about a running attempt (a reboot's boot id). */
void
store_task_note(
    struct store *st, const struct store_task_ref *ref, const char *note)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE tasks SET note = ? WHERE run_id = ? AND phase_idx = ? AND "
	    "step = ? AND host = ?",
	    "tiitt", note, (int64_t)ref->run_id, (int64_t)ref->phase_idx,
	    ref->step, ref->host);
}

/* An attempt ended: its state, times and (scrubbed, bounded) output; none
 * if its step is sensitive. */
void
store_attempt_end(struct store *st, const struct store_attempt *at)
{
	if (st == NULL || at->attempt == 0)
		return;
	store_write(st,
	    "INSERT OR REPLACE INTO attempts (run_id, phase, step, host, "
	    "attempt, state, exit_code, error, started_ms, finished_ms, "
	    "output, sensitive) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	    "iittitntuubi", (int64_t)at->run_id, (int64_t)at->phase_id,
	    at->step, at->host, (int64_t)at->attempt, at->state, at->exit_code,
	    at->error, at->started_ms, at->finished_ms,
	    at->output == NULL ? "" : at->output, at->output_len,
	    (int64_t)at->sensitive);
}

/* A captured value (never of a sensitive step: the caller checks). */
void
store_capture(struct store *st, int run_id, const char *name, const char *host,
    const char *value)
{
	if (st == NULL)
		return;
	store_write(st,
	    "INSERT OR REPLACE INTO captures (run_id, name, host, value) "
	    "VALUES (?,?,?,?)",
	    "ittt", (int64_t)run_id, name, host, value);
}

/* A host's key was learnt, or it moved in the swap. */
void
store_host(struct store *st, int run_id, const struct store_host *h)
{
	json_t *o;

	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE hosts SET address = ?, port = ?, user = ?, "
	    "machine_key = ?, expected_key = ?, swapped = ?, "
	    "key_source = CASE WHEN key_source IN ('unknown', 'accept-new') "
	    "AND ? IS NOT NULL "
	    "THEN 'learned' ELSE key_source END WHERE run_id = ? AND name = ?",
	    "tntttitit", h->address, h->port, h->user, h->machine_key,
	    h->expected_key, (int64_t)h->swapped, h->machine_key,
	    (int64_t)run_id, h->name);
	o = json_pack("{s:s, s:s, s:i, s:b, s:s?}", "host", h->name, "address",
	    h->address, "port", h->port, "swapped", h->swapped, "expected_key",
	    h->expected_key);
	store_event(st, run_id, "host", o);
}

/* A note for the audit trail (retries, accepted keys, decisions), already
 * scrubbed of secrets. */
void
store_note(struct store *st, int run_id, const char *msg)
{
	if (st == NULL)
		return;
	store_event(st, run_id, "note", json_pack("{s:s}", "msg", msg));
}

/* A resume accepted a changed plan or inventory: these are the run's now. */
void
store_run_plan(struct store *st, int id, const char *plan_sha,
    const char *inv_path, const char *inv_sha)
{
	store_write(st,
	    "UPDATE runs SET plan_sha256 = ?, inventory_path = ?, "
	    "inventory_sha256 = ? WHERE id = ?",
	    "ttti", plan_sha, inv_path, inv_sha, (int64_t)id);
}

/* The URL the run's status is served at (the control commands read it). */
void
store_set_url(struct store *st, int id, const char *url)
{
	store_write(
	    st, "UPDATE runs SET url = ? WHERE id = ?", "ti", url, (int64_t)id);
}

/*
 * Decide an interrupted task (hostswap mark): succeeded, failed, or retry
 * (pending again). Only a task that is not running can be marked.
 */
int
store_mark(struct store *st, int run_id, int phase, const char *step,
    const char *host, const char *decision, char **err)
{
	const char *state;
	sqlite3_stmt *s;
	char *cur = NULL, *msg;
	int n = 0;

	s = store_query(st,
	    "SELECT state, host FROM tasks WHERE run_id = ? AND phase = ? AND "
	    "step = ? AND (? IS NULL OR host = ?)",
	    "iittt", (int64_t)run_id, (int64_t)phase, step, host, host);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		n++;
		free(cur);
		cur = store_col_str(s, 0);
	}
	sqlite3_finalize(s);
	if (n == 0) {
		xasprintf(err, "run %d has no task %d/%s%s%s", run_id, phase,
		    step, host ? " on " : "", host ? host : "");
		return -1;
	}
	if (n > 1) {
		free(cur);
		xasprintf(err,
		    "%d/%s runs on several hosts: name one with --host", phase,
		    step);
		return -1;
	}
	if (strcmp(cur, "running") == 0) {
		xasprintf(err,
		    "%d/%s is running; a resume learns its outcome from its "
		    "record",
		    phase, step);
		free(cur);
		return -1;
	}
	free(cur);
	state = strcmp(decision, "retry") == 0 ? "pending" : decision;
	store_write(st,
	    "UPDATE tasks SET state = ?, error = CASE WHEN ? = 'failed' THEN "
	    "'marked failed by operator' ELSE NULL END, finished_ms = ? "
	    "WHERE run_id = ? AND phase = ? AND step = ? AND (? IS NULL OR "
	    "host = ?)",
	    "ttuiittt", state, state,
	    strcmp(state, "pending") == 0 ? (uint64_t)0 : clock_now_ms(),
	    (int64_t)run_id, (int64_t)phase, step, host, host);
	if (strcmp(state, "failed") == 0)
		store_write(st,
		    "UPDATE runs SET state = 'failed', finished_ms = ? WHERE "
		    "id = ?",
		    "ui", clock_now_ms(), (int64_t)run_id);
	xasprintf(&msg, "operator marked %d/%s%s%s %s", phase, step,
	    host ? " on " : "", host ? host : "", decision);
	store_event(st, run_id, "note", json_pack("{s:s}", "msg", msg));
	free(msg);
	store_commit(st);
	return 0;
}
