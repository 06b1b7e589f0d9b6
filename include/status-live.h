/*
 * status-live.h: the live run's status views and JSON (status-live.c).
 */
#ifndef HOSTSWAP_STATUS_LIVE_H
#define HOSTSWAP_STATUS_LIVE_H

#include <jansson.h>

struct run;
struct run_phase;
struct run_task;
struct status_run;
struct status_phase;
struct status_task;

void status_view_run(const struct run *, struct status_run *);
void status_view_phase(const struct run_phase *, struct status_phase *);
void status_view_task(const struct run_task *, struct status_task *);
json_t *status_json(const struct run *);

#endif
