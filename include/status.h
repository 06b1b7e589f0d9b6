/*
 * status.h: the status JSON of SPEC §6 — one builder for its run, phase and
 * task objects, fed by views that the live run (status-live.h) or the
 * state file (store-read.c) fill in. The event log and, later, the HTTP
 * endpoint serve the same objects.
 */
#ifndef HOSTSWAP_STATUS_H
#define HOSTSWAP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct status_run {
	int id;
	const char *uid;
	const char *plan;
	const char *name;
	const char *state;
	uint64_t started_ms; /* 0: null */
	uint64_t finished_ms;
	int current_phase; /* -1: null */
	int swapped;
	const char *date;
};

struct status_phase {
	int id;
	const char *name;
	const char *state;
	uint64_t started_ms;
	uint64_t finished_ms;
};

/* A host name and the machines that answer to it (status "hosts"). */
struct status_host {
	const char *name;
	const char *address;
	int port;
	const char *key_before; /* the fingerprint its machine had, or NULL */
	const char *key_now;    /* the fingerprint it expects now, or NULL */
	int swapped;
};

struct status_task {
	int phase; /* the phase id (events carry it; status nests tasks) */
	const char *step;
	const char *host;
	const char *state;
	int attempt;
	int exit_code; /* -1: null */
	uint64_t started_ms;
	uint64_t finished_ms;
	const char *error;
	const char *output_tail;
};

json_t *status_time_json(uint64_t);
json_t *status_run_json(const struct status_run *);
json_t *status_phase_json(const struct status_phase *);
json_t *status_task_json(const struct status_task *, int);
json_t *status_host_json(const struct status_host *);

#endif
