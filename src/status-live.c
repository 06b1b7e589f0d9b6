/*
 * status-live.c: the status of the live run — the views of its run,
 * phases, tasks and hosts (status.h's), filled from the engine's structs,
 * and the whole status JSON with the outage, as the endpoint serves it
 * and the state file's events carry its objects.
 */
#include <stdio.h>

#include "clock.h"
#include "hostkey.h"
#include "outage.h"
#include "plan.h"
#include "run.h"
#include "status-live.h"
#include "status.h"

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
