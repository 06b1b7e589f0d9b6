/*
 * status.c: builds the status JSON of SPEC §6. Every key is always
 * present; a value that does not apply yet is null, except `attempt` (0
 * before the first) and `swapped` (false without a swap). Times are RFC
 * 3339 UTC with milliseconds. The live run (status-live.c) and the state
 * file (store-read.c) fill the same views, so the shape lives here only;
 * this file knows neither.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"
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
