/*
 * scheduler.h: the scheduler (sched.c; a header named sched.h would
 * shadow the C library's <sched.h>) moves a run through its phases: the
 * barrier, a phase's gate, the swap, the end of the run.
 */
#ifndef HOSTSWAP_SCHEDULER_H
#define HOSTSWAP_SCHEDULER_H

#include <stddef.h>

#include "run.h"

void sched_start(struct run *);
void sched_task_ended(struct run_task *);
void sched_stop(struct run *);
void sched_control_done(struct run *);
void sched_set_run(struct run *, enum run_state);
void sched_resume_phase(struct run *, size_t);
void sched_succeeded(struct run *);
void sched_finish(struct run *, enum run_state);
void sched_continue(struct run *);
void sched_abort(struct run *);
void sched_ask(struct run_task *);
int run_phase_in_range(const struct run *, size_t);

#endif
