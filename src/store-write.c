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

#include "buf.h"
#include "hostkey.h"
#include "outage.h"
#include "plan.h"
#include "run.h"
#include "secret.h"
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

/* The variables of the run, as JSON: plan then inventory, no secrets. */
static char *
store_vars_json(const struct run *r)
{
	const struct plan *p = r->plan;
	struct expand_env env = r->env;
	json_t *o = json_object();
	char *v, *e, *s;
	size_t i;

	env.secret = NULL; /* a secret shows as its placeholder */
	for (i = 0; i < p->nvars + p->inv->nvars; i++) {
		const struct kv *kv =
		    i < p->nvars ? &p->vars[i] : &p->inv->vars[i - p->nvars];

		e = NULL;
		v = expand(&env, NULL, 0, kv->value, &e);
		json_object_set_new(o, kv->key, json_string(v ? v : kv->value));
		free(v);
		free(e);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/*
 * A host key as the state file keeps it: its line, or "SHA256:..." while
 * only a pinned fingerprint is known (a resume reads both); NULL if none.
 */
static char *
store_key_line(const struct hostkey *k)
{
	return k != NULL ? hostkey_text(k) : NULL;
}

/*
 * Record a new run and everything it starts with: hosts and their
 * expected keys, phases, tasks. Sets r->id. Committed at once.
 */
int
store_run_create(struct store *st, struct run *r, const char *plan_sha,
    const char *inv_path, const char *inv_sha, const char *inv_text)
{
	char *vars, *mk, *ek, *real, *revoked;
	char out_start[OUTAGE_MARK_LEN], out_end[OUTAGE_MARK_LEN];
	size_t i, j;

	vars = store_vars_json(r);
	revoked = hostkey_revoked_text();
	real = realpath(r->plan->path, NULL);
	outage_marks(r->plan, out_start, out_end);
	store_write(st,
	    "INSERT INTO runs (uid, name, plan_path, plan_realpath, "
	    "plan_sha256, inventory_path, inventory_sha256, inventory, vars, "
	    "date, state, started_ms, from_phase, to_phase, outage_start, "
	    "outage_end, revoked) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    "tttttttttttunnttt", r->uid, r->plan->name, r->plan->path, real,
	    plan_sha, inv_path, inv_sha, inv_text, vars, r->date,
	    run_state_names[r->state], r->started_ms, r->opts.from_phase,
	    r->opts.to_phase, out_start[0] ? out_start : NULL,
	    out_end[0] ? out_end : NULL, revoked);
	free(revoked);
	free(vars);
	free(real);
	r->id = (int)sqlite3_last_insert_rowid(st->db);
	snprintf(r->id_text, sizeof r->id_text, "%d", r->id);
	for (i = 0; i < r->nhosts; i++) {
		const struct run_host *rh = &r->hosts[i];

		mk = rh->has_key ? store_key_line(&rh->machine_key) : NULL;
		ek = store_key_line(run_expected_key(rh));
		store_write(st,
		    "INSERT INTO hosts (run_id, name, address, port, user, "
		    "machine_key, key_source, expected_key, swapped) "
		    "VALUES (?,?,?,?,?,?,?,?,?)",
		    "ittntttti", (int64_t)r->id, rh->host->name,
		    rh->host->address, rh->host->port, rh->host->user, mk,
		    rh->host->host_key != NULL ? "pin"
			: rh->has_key          ? "known_hosts"
			: r->opts.accept_new   ? "accept-new"
					       : "unknown",
		    ek, (int64_t)rh->swapped);
		free(mk);
		free(ek);
	}
	for (i = 0; i < r->nphases; i++) {
		const struct run_phase *ph = &r->phases[i];
		const struct phase *p = &r->plan->phases[ph->index];

		store_write(st,
		    "INSERT INTO phases (run_id, idx, id, name, state) "
		    "VALUES (?,?,?,?,?)",
		    "iiitt", (int64_t)r->id, (int64_t)i, (int64_t)p->id,
		    p->name, phase_state_names[ph->state]);
		for (j = 0; j < ph->ntasks; j++) {
			const struct run_task *t = &ph->tasks[j];

			store_write(st,
			    "INSERT INTO tasks (run_id, phase_idx, ord, phase, "
			    "step, host, kind, idempotent, state) "
			    "VALUES (?,?,?,?,?,?,?,?,?)",
			    "iiiitttit", (int64_t)r->id, (int64_t)i, (int64_t)j,
			    (int64_t)p->id, t->step->id, t->host,
			    step_kind_name(t->step->kind),
			    (int64_t)t->step->idempotent,
			    task_state_names[t->state]);
		}
	}
	store_event(st, r->id, "run", store_run_json(r));
	store_commit_tx(st);
	return 0;
}

/*
 * The run changed state (or its current phase). Committed at once, not
 * with the batch: the endpoint serves the run's state from memory and
 * notifications go out as the state changes, so a reader of the file
 * (status --state) must see the transition — `waiting` above all —
 * before either announces it. Run transitions are few.
 */
void
store_run_state(struct store *st, const struct run *r)
{
	struct status_run v;

	if (st == NULL)
		return;
	status_view_run(r, &v);
	store_write(st,
	    "UPDATE runs SET state = ?, finished_ms = ?, current_phase = ?, "
	    "swapped = ? WHERE id = ?",
	    "tunii", v.state, v.finished_ms, v.current_phase,
	    (int64_t)r->swapped, (int64_t)r->id);
	store_event(st, r->id, "run", status_run_json(&v));
	store_commit_tx(st);
}

/* A resume took the run up again. */
void
store_run_resumed(struct store *st, const struct run *r)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE runs SET resumes = resumes + 1, finished_ms = NULL "
	    "WHERE id = ?",
	    "i", (int64_t)r->id);
	store_run_state(st, r);
}

/* A phase changed state. */
void
store_phase(struct store *st, const struct run_phase *ph)
{
	const struct run *r = ph->run;
	struct status_phase v;

	if (st == NULL)
		return;
	status_view_phase(ph, &v);
	store_write(st,
	    "UPDATE phases SET state = ?, started_ms = ?, finished_ms = ? "
	    "WHERE run_id = ? AND idx = ?",
	    "tuuii", v.state, v.started_ms, v.finished_ms, (int64_t)r->id,
	    (int64_t)ph->index);
	store_event(st, r->id, "phase", status_phase_json(&v));
	store_write(st, "UPDATE runs SET current_phase = ? WHERE id = ?", "ii",
	    (int64_t)v.id, (int64_t)r->id);
}

/* A task changed state or began another attempt. */
void
store_task(struct store *st, const struct run_task *t)
{
	const struct run *r = t->phase->run;
	struct status_task v;

	if (st == NULL)
		return;
	status_view_task(t, &v);
	store_write(st,
	    "UPDATE tasks SET state = ?, attempt = ?, exit_code = ?, "
	    "error = ?, started_ms = ?, finished_ms = ?, record = ?, tail = ? "
	    "WHERE run_id = ? AND phase_idx = ? AND step = ? AND host = ?",
	    "tintuuttiitt", v.state, (int64_t)v.attempt, v.exit_code, v.error,
	    v.started_ms, v.finished_ms, t->record,
	    v.output_tail && *v.output_tail ? v.output_tail : NULL,
	    (int64_t)r->id, (int64_t)t->phase->index, t->step->id, t->host);
	store_event(st, r->id, "task", status_task_json(&v, 1));
	/* A task that waits for an operator is announced at once (the
	 * endpoint, the page): the file has it first, as for the run. */
	if (t->state == TASK_WAITING)
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

/* An attempt ended: keep its (scrubbed, bounded: output.h) output; none if
 * sensitive. */
void
store_attempt_end(struct store *st, const struct run_task *t, const char *state)
{
	const struct run *r = t->phase->run;
	struct buf all;

	if (st == NULL || t->attempt == 0)
		return;
	buf_init(&all);
	if (!t->step->sensitive)
		output_text(&t->out, &all);
	store_write(st,
	    "INSERT OR REPLACE INTO attempts (run_id, phase, step, host, "
	    "attempt, state, exit_code, error, started_ms, finished_ms, "
	    "output, sensitive) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	    "iittitntuubi", (int64_t)r->id,
	    (int64_t)r->plan->phases[t->phase->index].id, t->step->id, t->host,
	    (int64_t)t->attempt, state, t->exit_code, t->error, t->started_ms,
	    t->finished_ms, all.data == NULL ? "" : all.data, all.len,
	    (int64_t)t->step->sensitive);
	buf_free(&all);
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
store_host(struct store *st, const struct run_host *rh)
{
	const struct run *r = rh->run;
	char *mk, *ek;
	json_t *o;

	if (st == NULL)
		return;
	mk = rh->has_key ? store_key_line(&rh->machine_key) : NULL;
	ek = store_key_line(run_expected_key(rh));
	store_write(st,
	    "UPDATE hosts SET address = ?, port = ?, user = ?, "
	    "machine_key = ?, expected_key = ?, swapped = ?, "
	    "key_source = CASE WHEN key_source IN ('unknown', 'accept-new') "
	    "AND ? IS NOT NULL "
	    "THEN 'learned' ELSE key_source END WHERE run_id = ? AND name = ?",
	    "tntttitit", rh->host->address, rh->host->port, rh->host->user, mk,
	    ek, (int64_t)rh->swapped, mk, (int64_t)r->id, rh->host->name);
	o = json_pack("{s:s, s:s, s:i, s:b, s:s?}", "host", rh->host->name,
	    "address", rh->host->address, "port", rh->host->port, "swapped",
	    rh->swapped, "expected_key", ek);
	store_event(st, r->id, "host", o);
	free(mk);
	free(ek);
}

/* A note for the audit trail (retries, accepted keys, decisions). */
void
store_note(struct store *st, const struct run *r, const char *msg)
{
	char *clean;

	if (st == NULL)
		return;
	clean = secrets_scrub(&r->secrets, msg, strlen(msg));
	store_event(st, r->id, "note", json_pack("{s:s}", "msg", clean));
	free(clean);
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
	    strcmp(state, "pending") == 0 ? (uint64_t)0 : run_now_ms(),
	    (int64_t)run_id, (int64_t)phase, step, host, host);
	if (strcmp(state, "failed") == 0)
		store_write(st,
		    "UPDATE runs SET state = 'failed', finished_ms = ? WHERE "
		    "id = ?",
		    "ui", run_now_ms(), (int64_t)run_id);
	xasprintf(&msg, "operator marked %d/%s%s%s %s", phase, step,
	    host ? " on " : "", host ? host : "", decision);
	store_event(st, run_id, "note", json_pack("{s:s}", "msg", msg));
	free(msg);
	store_commit(st);
	return 0;
}
