/*
 * run.h: one execution of a plan: its hosts and their SSH sessions, its
 * phases and tasks with their states, captured values and secrets. The
 * scheduler (sched.c) moves phases, the task module (task.c) moves tasks;
 * everything a state change must do happens in their transition functions.
 */
#ifndef HOSTSWAP_RUN_H
#define HOSTSWAP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "expand.h"
#include "hostkey.h"
#include "log.h"
#include "output.h"
#include "secret.h"
#include "wrapper.h"

struct plan;
struct host;
struct step;
struct remote;
struct remote_job;
struct remote_job_cb;
struct local_job;
struct waiter;
struct store;
struct store_task_ref;
struct notify;
struct run_listener;

enum run_state {
	RUN_RUNNING,
	RUN_WAITING,
	RUN_FAILED,
	RUN_INTERRUPTED,
	RUN_ABORTED,
	RUN_SUCCEEDED,
	RUN_NSTATES
};

enum phase_state {
	PHASE_PENDING,
	PHASE_RUNNING,
	PHASE_SUCCEEDED,
	PHASE_FAILED,
	PHASE_SKIPPED,
	PHASE_NSTATES
};

enum task_state {
	TASK_PENDING,
	TASK_RUNNING,
	TASK_SUCCEEDED,
	TASK_FAILED,
	TASK_SKIPPED,
	TASK_WAITING,
	TASK_INTERRUPTED,
	TASK_NSTATES
};

extern const char *const run_state_names[RUN_NSTATES];
extern const char *const phase_state_names[PHASE_NSTATES];
extern const char *const task_state_names[TASK_NSTATES];

struct run_opts {
	const char *known_hosts;
	int accept_new;
	int from_phase; /* -1: from the first */
	int to_phase;   /* -1: to the last */
	int dry_run;
	int auto_approve;
	enum log_format log_format;
	unsigned grace_ms; /* for running tasks on SIGINT/SIGTERM */
	int resume;        /* keys and states come from the state file */
};

/* A name of the inventory, and the session to whatever answers there. */
struct run_host {
	struct run *run;
	const struct host *host;
	struct hostkey machine_key; /* of the machine it named */
	int has_key;
	int swapped; /* the other machine answers */
	struct remote *remote;
	int failed;           /* the session failed */
	int key_pending;      /* a learnt key is not committed yet: held */
	int key_gate;         /* the run waits for this name's key to start */
	int records_verified; /* the run checked its record dirs there */
	int first_use;        /* created with --accept-new-host-keys and no key
			* known: its first key is trusted, on a resume too */
};

struct run_task {
	struct run_phase *phase;
	const struct step *step;
	const char *host;    /* "local" for the controller */
	struct run_host *rh; /* NULL for local */
	enum task_state state;
	int attempt;
	int exit_code; /* -1 if none */
	char *error;
	uint64_t started_ms; /* wall clock, 0 if not yet */
	uint64_t finished_ms;
	struct output out;
	struct remote_job *job;
	struct local_job *ljob;
	char *record;      /* record dir of this attempt */
	int in_unless;     /* running the unless check */
	uv_timer_t *timer; /* timeout, then retry delay */
	int timed_out;
	struct waiter *waiter; /* detach, reboot, wait */
	struct probe *probe;   /* a check under way */
	/* How that check ends the task (check.c calls it: task_finish()). */
	void (*check_finish)(
	    struct run_task *, int, const char *, const char *);
	char *note;       /* a reboot's boot id before, for a resume */
	int base_attempt; /* attempts made before this resume */
	int output_lost;  /* ended while hostswap was away */
};

struct run_phase {
	struct run *run;
	size_t index; /* into plan->phases */
	enum phase_state state;
	uint64_t started_ms;
	uint64_t finished_ms;
	struct run_task *tasks;
	size_t ntasks;
	size_t ended;
};

struct run_capture {
	char *name;
	char *host;
	char *value;
};

struct run {
	uv_loop_t *loop;
	struct plan *plan;
	struct run_opts opts;
	int id;
	char id_text[16];
	char uid[17];
	char date[9];
	enum run_state state;
	uint64_t started_ms;
	uint64_t finished_ms;
	struct run_host *hosts;
	size_t nhosts;
	struct run_phase *phases;
	size_t nphases;
	size_t current;                 /* index of the running phase */
	struct store *store;            /* the state file; NULL for a dry run */
	struct prober *prober;          /* checks (made on first use) */
	struct notify *notify;          /* messages on its states, or NULL */
	struct run_listener *listeners; /* observe.h, in call order */
	size_t nlisteners;
	struct run_capture *captures;
	size_t ncaptures;
	struct secrets secrets;
	struct expand_env env;
	int stopping;        /* SIGINT/SIGTERM or abort */
	int control_jobs;    /* kills still under way */
	int finish_deferred; /* ended, waits for them */
	int swapped;
	int approvals;            /* an endpoint can decide manual steps */
	int aborted;              /* POST /api/v1/abort */
	unsigned long reconnects; /* sessions opened again */
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t grace;
	int handles;
	void (*finished)(struct run *);
	void (*gate_go)(struct run *); /* after the key gate (run-start.c) */
	void (*gate_open)(void *);     /* opens it, once committed */
	/* The scheduler, as the tasks tell it (run-start.c wires them):
	 * a task ended or began to wait; a control job (a timeout's kill)
	 * ended. */
	void (*task_ended)(struct run_task *);
	void (*control_done)(struct run *);
	/* The task and the resume, as the waiter tells them (run-start.c
	 * wires them): a waited-for step ended (task_finish()); start a
	 * detach step's script (run_task_exec_detach()); a watched task was
	 * found lost on a resume (resume_lost()). */
	void (*task_finish)(struct run_task *, int, const char *, const char *);
	void (*task_exec_detach)(struct run_task *,
	    const struct remote_job_cb *, void *, struct remote_job **);
	void (*task_lost)(struct run_task *, const char *);
};

uint64_t run_now_ms(void);
void run_opts_init(struct run_opts *);
int run_new(uv_loop_t *, struct plan *, const struct run_opts *, struct run **,
    char **);
void run_after_commit(struct run *, void (*)(void *), void *);
struct prober *run_prober(struct run *);
void run_note(struct run *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
struct run_host *run_host(struct run *, const char *);
struct run_task *run_task_find(struct run *, int, const char *, const char *);
struct remote *run_remote(struct run_host *);
const struct hostkey *run_expected_key(const struct run_host *);
int run_complete_key(struct run_host *, const struct hostkey *);
void run_set_capture(struct run *, const char *, const char *, const char *);
char *run_expand(struct run *, const struct run_task *, const char *, char **);
int run_exit_code(const struct run *);
char *run_become_stdin(struct run *, const struct run_host *, size_t *);
struct remote_job *run_host_exec(
    struct run_host *, const char *, int, const struct remote_job_cb *, void *);
struct remote_job *run_host_start(struct run_host *, enum wrapper_mode,
    const char *, const char *, int, const struct remote_job_cb *, void *);
int run_host_key(const struct host *, const char *, struct hostkey *, char **);
void run_host_mark_swapped(struct run_host *);
int run_host_used(const struct run *, const struct run_host *);
void run_gate_check(struct run *);
void run_task_store_ref(const struct run_task *, struct store_task_ref *);
int run_task_expected_exit(const struct run_task *, int);
void run_release(struct run *);

#endif
