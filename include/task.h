/*
 * task.h: a task is one step on one host (task.c): its transitions, its
 * attempts, retries and timeouts.
 */
#ifndef HOSTSWAP_TASK_H
#define HOSTSWAP_TASK_H

#include "run.h"

struct remote_job;
struct store_task_ref;
struct remote_job_cb;

void task_start(struct run_task *);
void task_set_state(struct run_task *, enum task_state, const char *, ...)
    __attribute__((format(printf, 3, 4)));
int task_state_final(enum task_state);
void task_cancel(struct run_task *, const char *);
void task_release(struct run_task *);
void task_finish(struct run_task *, int, const char *, const char *);
void task_watch(struct run_task *);
void task_approve(struct run_task *);
void task_reject(struct run_task *);
void run_task_exec_plain(struct run_task *, const char *,
    const struct remote_job_cb *, void *, struct remote_job **);
void run_task_exec_detach(struct run_task *, const struct remote_job_cb *,
    void *, struct remote_job **);

#endif
