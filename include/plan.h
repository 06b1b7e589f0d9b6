/*
 * plan.h: the in-memory model of a plan and its inventory (SPEC §2).
 *
 * Every string that may hold ${...} variables is kept as written (a
 * template) and expanded only when used (expand.h), so that the model is
 * the same for `show`, `run` and a resumed run. Loading validates
 * everything it can without touching a host and reports every problem.
 */
#ifndef HOSTSWAP_PLAN_H
#define HOSTSWAP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cmp.h"
#include "inventory.h"

struct diag;

/*
 * A reboot's or wait's own `timeout` when the plan gives none (SPEC v3
 * §2): it bounds each attempt of those kinds; the step-level `timeout`
 * does not apply to them.
 */
#define STEP_WAIT_TIMEOUT_MS (10ULL * 60 * 1000)

enum step_kind {
	STEP_RUN,
	STEP_PUT,
	STEP_DETACH,
	STEP_REBOOT,
	STEP_WAIT,
	STEP_MANUAL,
	STEP_HTTP,
	STEP_SMTP,
	STEP_POP3,
	STEP_TCP,
	STEP_NKINDS
};

/* Where a step stands in the outage (its `outage:` key). */
enum step_outage {
	OUTAGE_NONE,
	OUTAGE_START, /* the outage starts when its first task starts */
	OUTAGE_END,   /* and ends when this step's last task succeeds */
};

enum host_keys_mode {
	HOST_KEYS_FOLLOW_MACHINE,
	HOST_KEYS_FOLLOW_ADDRESS,
};

enum expect_open {
	TCP_EXPECT_OPEN,
	TCP_EXPECT_CLOSED,
};

struct put_spec {
	char *path;    /* template */
	char *content; /* template, or NULL with src */
	char *src;     /* controller file, relative to the plan */
	unsigned mode; /* 0 when not given (0644 for new files) */
	int has_mode;
	char *owner; /* "user" or "user:group", or NULL */
	int backup;
};

struct http_spec {
	char *url;          /* template */
	char *method;       /* GET by default */
	int *expect_status; /* default {200} */
	size_t nexpect_status;
	char *contains;   /* template or NULL */
	char *basic_auth; /* template "user:password" or NULL */
	int insecure;
	uint64_t timeout_ms; /* 0: the step's timeout */
};

struct smtp_spec {
	char *url;
	char *from;
	char **to;
	size_t nto;
	char *subject; /* NULL: a subject naming the run */
};

struct pop3_spec {
	char *url;
	char *user;
	char *password;
	int has_expect;
	enum cmp_op expect_op;
	long expect_n;
	char *expect_subject; /* template: a Subject must contain it */
};

struct tcp_spec {
	char *host; /* template */
	char *port; /* template; a number once expanded */
	enum expect_open expect;
};

struct step {
	char *id;
	char *name;         /* defaults to the id */
	unsigned line, col; /* of the step's mapping */
	enum step_kind kind;
	unsigned kind_line, kind_col;

	char **on; /* host names; {"local"} for local */
	size_t non;
	int on_local;

	char *script; /* run, detach */
	struct put_spec put;
	uint64_t wait_timeout_ms; /* reboot, wait: their own timeout */
	char *manual;             /* the operator's instructions */
	struct http_spec http;
	struct smtp_spec smtp;
	struct pop3_spec pop3;
	struct tcp_spec tcp;

	uint64_t timeout_ms;
	int retries;
	uint64_t retry_delay_ms;
	char *unless; /* template or NULL */
	int *expect_exit;
	size_t nexpect_exit;
	int idempotent;
	int sensitive;
	int gate;      /* manual: the phase's other steps wait for it */
	char *capture; /* name or NULL */
	char **requires;
	size_t nrequires;
	enum step_outage outage;
	unsigned outage_line, outage_col; /* of its value */
};

struct phase {
	int id;
	char *name;
	char *description;
	unsigned line, col;
	struct step *steps;
	size_t nsteps;
};

struct secret {
	char *name;
	char *env; /* exactly one of env, file */
	char *file;
	int in_steps; /* a step's text refers to it */
};

/* A captured value and the phase that produces it. */
struct capture {
	char *name;
	size_t phase; /* index into plan->phases */
	const struct step *step;
};

struct plan {
	char *path;
	char *dir; /* the plan's directory */
	int version;
	char *name;
	char *description;
	struct kv *vars;
	size_t nvars;
	struct secret *secrets;
	size_t nsecrets;

	uint64_t default_timeout_ms;
	int default_retries;
	uint64_t default_retry_delay_ms;

	int has_swap;
	int swap_after_phase;
	char *swap_hosts[2];
	enum host_keys_mode swap_host_keys;

	struct inventory *inv;
	struct phase *phases;
	size_t nphases;
	struct capture *captures;
	size_t ncaptures;
};

/* What plan_load() returns. */
#define PLAN_OK      0
#define PLAN_INVALID -1
#define PLAN_NOFILE  -2

int plan_load(const char *, const char *, struct plan **, struct diag *);
int plan_parse(
    const char *, const char *, size_t, struct plan **, struct diag *);
void plan_free(struct plan *);

const struct phase *plan_phase(const struct plan *, int);
int plan_swapped_host(const struct plan *, const char *);
const struct step *plan_outage_step(
    const struct plan *, enum step_outage, int *);

#endif
