/*
 * run-record.c: the state file's side of the engine. It listens to the
 * run's transitions (observe.h) and hands the state file's writer
 * (store.h) what each one is in the file's own terms: the status views
 * (status-live.c), a task's reference, an ended attempt with its
 * scrubbed output, a host's key lines, a note scrubbed of secrets. The
 * store knows no engine struct; this file is where the two meet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expand.h"
#include "hostkey.h"
#include "observe.h"
#include "outage.h"
#include "output.h"
#include "plan.h"
#include "step.h"
#include "run-record.h"
#include "run.h"
#include "secret.h"
#include "status-live.h"
#include "status.h"
#include "store.h"
#include "task.h"
#include "xmalloc.h"

/* An attempt of t ended in state: its row. */
static void
run_record_attempt(
    struct store *st, const struct run_task *t, const char *state)
{
	const struct run *r = t->phase->run;
	struct store_attempt at;
	struct buf all;

	if (st == NULL || t->attempt == 0)
		return;
	buf_init(&all);
	if (!t->step->sensitive)
		output_text(&t->out, &all);
	memset(&at, 0, sizeof at);
	at.run_id = r->id;
	at.phase_id = r->plan->phases[t->phase->index].id;
	at.step = t->step->id;
	at.host = t->host;
	at.attempt = t->attempt;
	at.state = state;
	at.exit_code = t->exit_code;
	at.error = t->error;
	at.started_ms = t->started_ms;
	at.finished_ms = t->finished_ms;
	at.output = all.data;
	at.output_len = all.len;
	at.sensitive = t->step->sensitive;
	store_attempt_end(st, &at);
	buf_free(&all);
}

/* Every transition of a task; a retry's failed attempt; a final state's
 * attempt. */
static void
run_record_task(void *arg, const struct run_task *t, enum observe_task w)
{
	struct store *st = arg;
	struct store_task_ref ref;
	struct status_task v;

	if (w == OBSERVE_TASK_RETRIED) {
		run_record_attempt(st, t, "failed");
		return;
	}
	run_task_store_ref(t, &ref);
	status_view_task(t, &v);
	store_task(st, &ref, &v, t->record);
	if (w == OBSERVE_TASK_CHANGED && task_state_final(t->state) &&
	    t->attempt > 0)
		run_record_attempt(st, t, task_state_names[t->state]);
}

static void
run_record_phase(void *arg, const struct run_phase *ph, enum observe_phase w)
{
	struct status_phase v;

	(void)w;
	status_view_phase(ph, &v);
	store_phase(arg, ph->run->id, ph->index, &v);
}

static void
run_record_run(void *arg, struct run *r, enum observe_run w, enum run_state old)
{
	struct status_run v;

	(void)old;
	status_view_run(r, &v);
	if (w == OBSERVE_RUN_STATE)
		store_run_state(arg, &v);
	else if (w == OBSERVE_RUN_RESUMED)
		store_run_resumed(arg, &v);
}

static void
run_record_note_cb(void *arg, const struct run *r, const char *msg, int keep)
{
	char *clean;

	if (!keep || arg == NULL)
		return;
	clean = secrets_scrub(&r->secrets, msg, strlen(msg));
	store_note(arg, r->id, clean);
	free(clean);
}

/* A host's key was learnt, or it moved in the swap. */
static void
run_record_host(void *arg, const struct run_host *rh)
{
	const struct hostkey *k = run_expected_key(rh);
	struct store_host h;
	char *mk, *ek;

	mk = rh->has_key ? hostkey_text(&rh->machine_key) : NULL;
	ek = k != NULL ? hostkey_text(k) : NULL;
	h.name = rh->host->name;
	h.address = rh->host->address;
	h.port = rh->host->port;
	h.user = rh->host->user;
	h.machine_key = mk;
	h.expected_key = ek;
	h.swapped = rh->swapped;
	store_host(arg, rh->run->id, &h);
	free(mk);
	free(ek);
}

/* The state file's listener on a run (st: its state file). */
void
run_record_listener(struct store *st, struct run_listener *l)
{
	memset(l, 0, sizeof *l);
	l->on_task = run_record_task;
	l->on_phase = run_record_phase;
	l->on_run = run_record_run;
	l->on_note = run_record_note_cb;
	l->on_host = run_record_host;
	l->arg = st;
}

/* A note for the audit trail, from outside the engine's own (the
 * endpoint's URL, a notification's outcome): scrubbed of secrets. */
void
run_record_note(const struct run *r, const char *msg)
{
	run_record_note_cb(r->store, r, msg, 1);
}

/* The variables of the run, as JSON: plan then inventory, no secrets
 * (a secret shows as its placeholder). */
static char *
run_record_vars_json(const struct run *r)
{
	const struct plan *p = r->plan;
	struct expand_env env = r->env;
	json_t *o = json_object();
	char *v, *e, *s;
	size_t i;

	env.secret = NULL;
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

/* A host at the run's creation, with where its key came from. */
static void
run_record_new_host(
    const struct run *r, const struct run_host *rh, struct store_host *h)
{
	const struct hostkey *k = run_expected_key(rh);

	h->name = rh->host->name;
	h->address = rh->host->address;
	h->port = rh->host->port;
	h->user = rh->host->user;
	h->machine_key = rh->has_key ? hostkey_text(&rh->machine_key) : NULL;
	h->expected_key = k != NULL ? hostkey_text(k) : NULL;
	h->swapped = rh->swapped;
	h->key_source = rh->host->host_key != NULL ? "pin"
	    : rh->has_key                          ? "known_hosts"
	    : r->opts.accept_new                   ? "accept-new"
						   : "unknown";
}

/* Free what run_record_create() built. */
static void
run_record_new_free(struct store_new_run *nr)
{
	size_t i;

	for (i = 0; i < nr->nhosts; i++) {
		free((char *)nr->hosts[i].machine_key);
		free((char *)nr->hosts[i].expected_key);
	}
	free(nr->hosts);
	for (i = 0; i < nr->nphases; i++)
		free(nr->phases[i].tasks);
	free(nr->phases);
	free((char *)nr->vars_json);
	free((char *)nr->plan_realpath);
	free((char *)nr->revoked);
	json_decref(nr->run_json);
}

/*
 * Record a new run in st: the run with its plan's and inventory's hashes
 * (plan_sha, inv_path or NULL for an inline inventory, inv_sha, and the
 * inventory's text), hosts, phases and tasks. Sets r->id.
 */
void
run_record_create(struct store *st, struct run *r, const char *plan_sha,
    const char *inv_path, const char *inv_sha, const char *inv_text)
{
	char out_start[OUTAGE_MARK_LEN], out_end[OUTAGE_MARK_LEN];
	struct store_new_run nr;
	struct status_run v;
	size_t i, j;

	memset(&nr, 0, sizeof nr);
	nr.uid = r->uid;
	nr.name = r->plan->name;
	nr.plan_path = r->plan->path;
	nr.plan_realpath = realpath(r->plan->path, NULL);
	nr.plan_sha256 = plan_sha;
	nr.inventory_path = inv_path;
	nr.inventory_sha256 = inv_sha;
	nr.inventory = inv_text;
	nr.vars_json = run_record_vars_json(r);
	nr.date = r->date;
	nr.state = run_state_names[r->state];
	nr.started_ms = r->started_ms;
	nr.from_phase = r->opts.from_phase;
	nr.to_phase = r->opts.to_phase;
	outage_marks(r->plan, out_start, out_end);
	nr.outage_start = out_start[0] ? out_start : NULL;
	nr.outage_end = out_end[0] ? out_end : NULL;
	nr.revoked = hostkey_revoked_text();
	nr.nhosts = r->nhosts;
	nr.hosts = xcalloc(r->nhosts + 1, sizeof *nr.hosts);
	for (i = 0; i < r->nhosts; i++)
		run_record_new_host(r, &r->hosts[i], &nr.hosts[i]);
	nr.nphases = r->nphases;
	nr.phases = xcalloc(r->nphases + 1, sizeof *nr.phases);
	for (i = 0; i < r->nphases; i++) {
		const struct run_phase *ph = &r->phases[i];
		const struct phase *p = &r->plan->phases[ph->index];
		struct store_new_phase *np = &nr.phases[i];

		np->id = p->id;
		np->name = p->name;
		np->state = phase_state_names[ph->state];
		np->ntasks = ph->ntasks;
		np->tasks = xcalloc(ph->ntasks + 1, sizeof *np->tasks);
		for (j = 0; j < ph->ntasks; j++) {
			const struct run_task *t = &ph->tasks[j];

			np->tasks[j].step = t->step->id;
			np->tasks[j].host = t->host;
			np->tasks[j].kind = step_kind_name(t->step->kind);
			np->tasks[j].idempotent = t->step->idempotent;
			np->tasks[j].state = task_state_names[t->state];
		}
	}
	status_view_run(r, &v);
	nr.run_json = status_run_json(&v);
	r->id = store_run_create(st, &nr);
	snprintf(r->id_text, sizeof r->id_text, "%d", r->id);
	run_record_new_free(&nr);
}

/* The index of a state's name among names[0..n) (a task's, a phase's),
 * or 0 (pending) if the name is unknown. */
static int
run_record_state(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (s != NULL && strcmp(names[i], s) == 0)
			return i;
	return 0;
}

/* The run's phase of a plan phase id, or NULL. */
static struct run_phase *
run_record_find_phase(struct run *r, int id)
{
	size_t i;

	for (i = 0; i < r->nphases; i++)
		if (r->plan->phases[r->phases[i].index].id == id)
			return &r->phases[i];
	return NULL;
}

struct run_record_restore {
	struct run *r;
	char **err;
};

/* A host: its key as the run knows it, never a file's; its swap. */
static int
run_record_restore_host(void *arg, const char *name, const char *key,
    int swapped, const char *source)
{
	struct run_record_restore *rr = arg;
	struct run_host *rh = run_host(rr->r, name);

	if (rh == NULL) {
		xasprintf(rr->err,
		    "the run knows host %s, which the inventory does not name",
		    name);
		return -1;
	}
	hostkey_clear(&rh->machine_key);
	rh->has_key =
	    key != NULL && hostkey_from_pin(key, &rh->machine_key) == 0;
	rh->swapped = swapped;
	/* Created with --accept-new-host-keys and never reached: a resume
	 * trusts its first key as the run would have. */
	rh->first_use =
	    !rh->has_key && source != NULL && strcmp(source, "accept-new") == 0;
	return 0;
}

static void
run_record_restore_capture(
    void *arg, const char *name, const char *host, const char *value)
{
	struct run_record_restore *rr = arg;

	run_set_capture(rr->r, name, host, value);
}

static void
run_record_restore_phase(void *arg, int id, const char *state,
    uint64_t started_ms, uint64_t finished_ms)
{
	struct run_record_restore *rr = arg;
	struct run_phase *ph = run_record_find_phase(rr->r, id);

	if (ph == NULL)
		return;
	ph->state = (enum phase_state)run_record_state(
	    phase_state_names, PHASE_NSTATES, state);
	ph->started_ms = started_ms;
	ph->finished_ms = finished_ms;
}

/* A task the plan still has: its state, attempt, times, record, note,
 * output tail. */
static void
run_record_restore_task(void *arg, const struct store_task_row *row)
{
	struct run_record_restore *rr = arg;
	struct run_phase *ph = run_record_find_phase(rr->r, row->phase);
	struct run_task *t = NULL;
	size_t i;

	for (i = 0; ph != NULL && i < ph->ntasks && t == NULL; i++)
		if (strcmp(ph->tasks[i].step->id, row->step) == 0 &&
		    strcmp(ph->tasks[i].host, row->host) == 0)
			t = &ph->tasks[i];
	if (t == NULL)
		return;
	t->state = (enum task_state)run_record_state(
	    task_state_names, TASK_NSTATES, row->state);
	t->attempt = row->attempt;
	t->exit_code = row->exit_code;
	free(t->error);
	t->error = row->error ? xstrdup(row->error) : NULL;
	t->started_ms = row->started_ms;
	t->finished_ms = row->finished_ms;
	free(t->record);
	t->record = row->record ? xstrdup(row->record) : NULL;
	free(t->note);
	t->note = row->note ? xstrdup(row->note) : NULL;
	if (row->tail != NULL)
		buf_adds(&t->out.all, row->tail);
}

/*
 * Fill a run made from the plan (run_new() in resume mode) with what the
 * state file keeps of its newest run: ids, date, keys, the swap, the keys
 * revoked when it began, captures, phases and tasks. Tasks the plan no
 * longer has are left out; new ones stay pending.
 */
int
run_record_restore(struct store *st, struct run *r, char **err)
{
	static const struct store_saved_cb cb = { run_record_restore_host,
		run_record_restore_capture, run_record_restore_phase,
		run_record_restore_task };
	struct run_record_restore rr = { r, err };
	struct store_run_info ri;
	char *revoked;
	int rc;

	*err = NULL;
	if (store_newest_run(st, &ri) != STORE_OK) {
		xasprintf(err, "%s: no run to resume", store_path(st));
		return -1;
	}
	r->id = ri.id;
	snprintf(r->id_text, sizeof r->id_text, "%d", r->id);
	memcpy(r->uid, ri.uid, sizeof r->uid);
	memcpy(r->date, ri.date, sizeof r->date);
	r->started_ms = ri.started_ms;
	r->opts.from_phase = ri.from_phase;
	r->opts.to_phase = ri.to_phase;
	store_run_info_free(&ri);
	rc = store_saved(st, r->id, &r->swapped, &revoked, &cb, &rr);
	/* The keys revoked when the run began stay refused. */
	hostkey_revoked_load(revoked);
	free(revoked);
	return rc;
}
