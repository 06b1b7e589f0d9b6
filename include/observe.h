/*
 * observe.h: the one seam between the engine and what watches it. The
 * engine (task.c, sched.c, run.c, resume.c) announces each task, phase,
 * run and host transition, and each note, through observe_*(); whoever needs
 * to know (the state file, the console, notifications) registers a
 * listener when the run is set up (run-setup.c). The engine calls none
 * of them by name.
 *
 * Listeners are called in the order they were added. The state file is
 * added first: a transition is written (and a failed write stops the
 * process) before anyone announces it, and before the engine acts on it.
 */
#ifndef HOSTSWAP_OBSERVE_H
#define HOSTSWAP_OBSERVE_H

#include "run.h"

enum observe_task {
	OBSERVE_TASK_CHANGED,  /* a transition: recorded and announced */
	OBSERVE_TASK_RECORDED, /* a resume's correction: recorded only */
	OBSERVE_TASK_RETRIED,  /* an attempt failed and is retried */
};

enum observe_phase {
	OBSERVE_PHASE_CHANGED,  /* a transition: recorded and announced */
	OBSERVE_PHASE_RECORDED, /* taken up again as it was: recorded only */
};

enum observe_run {
	OBSERVE_RUN_STARTED, /* announced, nothing to record */
	OBSERVE_RUN_STATE,   /* its state or swap changed (old given) */
	OBSERVE_RUN_RESUMED, /* a resume took it up again */
	OBSERVE_RUN_ENDED,   /* its end, once no kill is under way */
};

struct run_listener {
	void (*on_task)(void *, const struct run_task *, enum observe_task);
	void (*on_phase)(void *, const struct run_phase *, enum observe_phase);
	void (*on_run)(void *, struct run *, enum observe_run, enum run_state);
	void (*on_note)(void *, const struct run *, const char *, int);
	/* A host's key was learnt or completed, or it moved in the swap. */
	void (*on_host)(void *, const struct run_host *);
	void *arg;
};

void observe_add(struct run *, const struct run_listener *);
void observe_free(struct run *);
void observe_task(const struct run_task *, enum observe_task);
void observe_phase(const struct run_phase *, enum observe_phase);
void observe_run(struct run *, enum observe_run, enum run_state);
void observe_host(const struct run_host *);
void observe_note(const struct run *, const char *, int);

#endif
