/*
 * status.c: builds the status JSON of SPEC §6. Every key is always
 * present; a value that does not apply yet is null, except `attempt` (0
 * before the first) and `swapped` (false without a swap). Times are RFC
 * 3339 UTC with milliseconds. The live run and the state file fill the
 * same views, so the shape lives here only.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "hostkey.h"
#include "outage.h"
#include "plan.h"
#include "run.h"
#include "status.h"

/* A time, or null for 0. */
json_t *
status_time_json(uint64_t ms)
{
	char ts[CLOCK_RFC3339_LEN];

	if (ms == 0)
		return json_null();
	clock_rfc3339(ts, sizeof ts, ms);
	return json_string(ts);
}

/* A string, or null. */
static json_t *
status_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The "run" object. */
json_t *
status_run_json(const struct status_run *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(v->id));
	json_object_set_new(o, "uid", status_str(v->uid));
	json_object_set_new(o, "plan", status_str(v->plan));
	json_object_set_new(o, "name", status_str(v->name));
	json_object_set_new(o, "state", status_str(v->state));
	json_object_set_new(o, "started_at", status_time_json(v->started_ms));
	json_object_set_new(o, "finished_at", status_time_json(v->finished_ms));
	json_object_set_new(o, "current_phase",
	    v->current_phase >= 0 ? json_integer(v->current_phase)
				  : json_null());
	json_object_set_new(o, "swapped", json_boolean(v->swapped));
	json_object_set_new(o, "date", status_str(v->date));
	return o;
}

/* A phase object, without its tasks. */
json_t *
status_phase_json(const struct status_phase *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(v->id));
	json_object_set_new(o, "name", status_str(v->name));
	json_object_set_new(o, "state", status_str(v->state));
	json_object_set_new(o, "started_at", status_time_json(v->started_ms));
	json_object_set_new(o, "finished_at", status_time_json(v->finished_ms));
	return o;
}

/* A task object; with_phase adds "phase" (events, where it is not nested). */
json_t *
status_task_json(const struct status_task *v, int with_phase)
{
	json_t *o = json_object();

	if (with_phase)
		json_object_set_new(o, "phase", json_integer(v->phase));
	json_object_set_new(o, "step", status_str(v->step));
	json_object_set_new(o, "host", status_str(v->host));
	json_object_set_new(o, "state", status_str(v->state));
	json_object_set_new(o, "attempt", json_integer(v->attempt));
	json_object_set_new(o, "exit_code",
	    v->exit_code >= 0 ? json_integer(v->exit_code) : json_null());
	json_object_set_new(o, "started_at", status_time_json(v->started_ms));
	json_object_set_new(o, "finished_at", status_time_json(v->finished_ms));
	json_object_set_new(o, "error", status_str(v->error));
	json_object_set_new(o, "output_tail",
	    v->output_tail != NULL && *v->output_tail != '\0'
		? json_string(v->output_tail)
		: json_null());
	return o;
}

/* A host object of "hosts" (an addition to the status JSON). */
json_t *
status_host_json(const struct status_host *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", status_str(v->name));
	json_object_set_new(o, "address", status_str(v->address));
	json_object_set_new(o, "port", json_integer(v->port));
	json_object_set_new(o, "key_before", status_str(v->key_before));
	json_object_set_new(o, "key_now", status_str(v->key_now));
	json_object_set_new(o, "swapped", json_boolean(v->swapped));
	return o;
}

/* The hosts of a live run: which machine answers to each name. */
static json_t *
status_hosts_json(const struct run *r)
{
	json_t *a = json_array();
	struct status_host v;
	const struct hostkey *k;
	size_t i;

	for (i = 0; i < r->nhosts; i++) {
		const struct run_host *rh = &r->hosts[i];

		v.name = rh->host->name;
		v.address = rh->host->address;
		v.port = rh->host->port;
		v.key_before = rh->has_key ? rh->machine_key.fingerprint : NULL;
		k = run_expected_key(rh);
		v.key_now = k != NULL ? k->fingerprint : NULL;
		v.swapped = rh->swapped;
		json_array_append_new(a, status_host_json(&v));
	}
	return a;
}

/* The view of a live run. */
void
status_view_run(const struct run *r, struct status_run *v)
{
	v->id = r->id;
	v->uid = r->uid;
	v->plan = r->plan->path;
	v->name = r->plan->name;
	v->state = run_state_names[r->state];
	v->started_ms = r->started_ms;
	v->finished_ms = r->state == RUN_RUNNING ? 0 : r->finished_ms;
	v->current_phase = r->current < r->nphases
	    ? r->plan->phases[r->phases[r->current].index].id
	    : -1;
	v->swapped = r->swapped;
	v->date = r->date;
}

/* The view of a live phase. */
void
status_view_phase(const struct run_phase *ph, struct status_phase *v)
{
	const struct phase *p = &ph->run->plan->phases[ph->index];

	v->id = p->id;
	v->name = p->name;
	v->state = phase_state_names[ph->state];
	v->started_ms = ph->started_ms;
	v->finished_ms = ph->finished_ms;
}

/* The view of a live task. */
void
status_view_task(const struct run_task *t, struct status_task *v)
{
	int ended = t->state != TASK_RUNNING && t->state != TASK_PENDING &&
	    t->state != TASK_WAITING;

	v->phase = t->phase->run->plan->phases[t->phase->index].id;
	v->step = t->step->id;
	v->host = t->host;
	v->state = task_state_names[t->state];
	v->attempt = t->attempt;
	v->exit_code = t->exit_code;
	v->started_ms = t->started_ms;
	v->finished_ms = ended ? t->finished_ms : 0;
	v->error = t->state == TASK_FAILED || t->state == TASK_INTERRUPTED
	    ? t->error
	    : NULL;
	v->output_tail = output_tail(&t->out);
}

/* The whole status of a live run. */
json_t *
status_json(const struct run *r)
{
	struct status_run rv;
	struct status_phase pv;
	struct status_task tv;
	json_t *o = json_object(), *phases = json_array(), *po, *tasks, *run;
	struct outage out;
	size_t i, j;

	status_view_run(r, &rv);
	run = status_run_json(&rv);
	json_object_set_new(o, "run", run);
	outage_init_plan(&out, r->plan);
	for (i = 0; i < r->nphases; i++) {
		status_view_phase(&r->phases[i], &pv);
		po = status_phase_json(&pv);
		tasks = json_array();
		for (j = 0; j < r->phases[i].ntasks; j++) {
			status_view_task(&r->phases[i].tasks[j], &tv);
			outage_task(&out, tv.phase, tv.step, tv.state,
			    tv.started_ms, tv.finished_ms);
			json_array_append_new(tasks, status_task_json(&tv, 0));
		}
		json_object_set_new(po, "tasks", tasks);
		json_array_append_new(phases, po);
	}
	json_object_set_new(o, "phases", phases);
	json_object_set_new(o, "hosts", status_hosts_json(r));
	json_object_set_new(run, "outage", outage_json(&out, clock_now_ms()));
	return o;
}
