/*
 * store.h: the state file (SPEC §4) — one SQLite database, the only module
 * that touches SQLite. It holds the runs, their hosts (addresses, logins,
 * expected keys, the swap per host), phases, tasks, attempts and their
 * scrubbed output, captured values, and the append-only event log.
 *
 * Writes are batched: every write joins the open transaction, which is
 * committed (one fsync, synchronous=FULL in WAL mode) before any action
 * that depends on it runs — store_after_commit() — or at the latest
 * STORE_LAG_MS after its first write, so that readers see progress.
 */
#ifndef HOSTSWAP_STORE_H
#define HOSTSWAP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

struct status_phase;
struct status_run;
struct status_task;
struct buf;
struct report;

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA 3

/* Readers see a transition at most this late. */
#define STORE_LAG_MS 100

#define STORE_OK     0
#define STORE_ERROR  -1 /* *err says why */
#define STORE_NOFILE -2 /* read-only open of a file that does not exist */
#define STORE_HELD   -3 /* another daemon holds the state file */

enum store_mode {
	STORE_READ,  /* readers: status, log, events, known-hosts, report */
	STORE_WRITE, /* run, resume, mark: created if missing */
};

/* The state file when --state is not given. */
#define STORE_DEFAULT "./hostswap.db"

struct store;

/*
 * Which task a write is about, in the state file's own terms: the run's
 * id, the phase's index in the plan, the step's id and the host's name.
 */
struct store_task_ref {
	int run_id;
	size_t phase_idx;
	const char *step;
	const char *host;
};

/* An attempt that ended, as the state file keeps it. */
struct store_attempt {
	int run_id;
	int phase_id; /* the phase's id in the plan */
	const char *step;
	const char *host;
	int attempt;
	const char *state;
	int exit_code; /* -1: none */
	const char *error;
	uint64_t started_ms, finished_ms;
	const char *output; /* scrubbed; NULL for a sensitive step */
	size_t output_len;
	int sensitive;
};

/* A host of a run: where it is now and which keys it has and expects
 * (key lines as hostkey_text() writes them, or NULL). */
struct store_host {
	const char *name;
	const char *address;
	int port;
	const char *user;
	const char *machine_key;
	const char *expected_key;
	int swapped;
	const char *key_source; /* at creation: pin, known_hosts, ... */
};

/* A new run, as store_run_create() records it. */
struct store_new_task {
	const char *step;
	const char *host;
	const char *kind;
	int idempotent;
	const char *state;
};

struct store_new_phase {
	int id;
	const char *name;
	const char *state;
	struct store_new_task *tasks;
	size_t ntasks;
};

struct store_new_run {
	const char *uid, *name, *plan_path, *plan_realpath, *plan_sha256;
	const char *inventory_path, *inventory_sha256, *inventory;
	const char *vars_json; /* plan then inventory, no secrets */
	const char *date, *state;
	uint64_t started_ms;
	int from_phase, to_phase;                        /* -1: open */
	const char *outage_start, *outage_end, *revoked; /* or NULL */
	struct store_host *hosts;
	size_t nhosts;
	struct store_new_phase *phases;
	size_t nphases;
	json_t *run_json; /* its first event's object (the id is set) */
};

/* A task as the state file keeps it (strings point into the row being
 * read: copy what must outlive the callback). */
struct store_task_row {
	int phase_idx;
	int phase; /* the phase's id */
	const char *step;
	const char *host;
	const char *kind;
	const char *state;
	int attempt;
	int exit_code; /* -1: none */
	const char *error;
	uint64_t started_ms; /* 0: none */
	uint64_t finished_ms;
	const char *record;
	const char *note;
	const char *tail;
};

/* What the state file keeps of a run for a resume, row by row (the
 * engine's restore fills its run from it: run-record.c). */
struct store_saved_cb {
	/* A host: its machine's key line (or NULL), swapped, key source. */
	int (*host)(void *, const char *, const char *, int, const char *);
	void (*capture)(void *, const char *, const char *, const char *);
	void (*phase)(void *, int, const char *, uint64_t, uint64_t);
	void (*task)(void *, const struct store_task_row *);
};

/* What a command needs to know of the newest run. */
struct store_run_info {
	int id;
	char uid[17];
	char date[9];
	char *state;
	char *plan_path;     /* as given to run */
	char *plan_realpath; /* absolute, for a resume from elsewhere */
	char plan_sha256[65];
	char *inventory_path; /* NULL: the plan's inline inventory */
	char inventory_sha256[65];
	int from_phase, to_phase; /* -1: open */
	uint64_t started_ms;
};

int store_open(const char *, enum store_mode, struct store **, char **);
void store_free(struct store *);
void store_discard(struct store *);
int store_lock(struct store *, char **);
const char *store_path(const struct store *);
void store_attach(struct store *, uv_loop_t *);

void store_after_commit(struct store *, void (*)(void *), void *);
void store_commit(struct store *);
void store_commit_final(struct store *);
unsigned long store_commits(const struct store *);
unsigned long store_syncs(const struct store *);
void store_on_commit(struct store *, void (*)(void *), void *);

int store_newest_run(struct store *, struct store_run_info *);
void store_run_info_free(struct store_run_info *);
int store_run_unfinished(const struct store_run_info *);

int store_run_create(struct store *, const struct store_new_run *);
void store_run_abandon(struct store *, int);
void store_run_state(struct store *, const struct status_run *);
void store_run_resumed(struct store *, const struct status_run *);
void store_phase(struct store *, int, size_t, const struct status_phase *);
void store_task(struct store *, const struct store_task_ref *,
    const struct status_task *, const char *);
void store_task_note(
    struct store *, const struct store_task_ref *, const char *);
void store_attempt_end(struct store *, const struct store_attempt *);
void store_capture(
    struct store *, int, const char *, const char *, const char *);
void store_host(struct store *, int, const struct store_host *);
void store_note(struct store *, int, const char *);
void store_set_url(struct store *, int, const char *);
void store_run_plan(
    struct store *, int, const char *, const char *, const char *);

int store_saved(
    struct store *, int, int *, char **, const struct store_saved_cb *, void *);

int store_mark(struct store *, int, int, const char *, const char *,
    const char *, char **);
int store_status_json(struct store *, int, json_t **);
int store_task_output(struct store *, int, int, const char *, const char *, int,
    struct buf *, char **);
int store_events(struct store *, int64_t, int,
    void (*)(void *, int64_t, uint64_t, const char *, int, const char *),
    void *, int64_t *);
int store_known_hosts(struct store *, int,
    void (*)(void *, const char *, const char *, int, const char *), void *);
int store_task_count(struct store *, int, const char *);
int64_t store_last_seq(struct store *);
char *store_run_url(struct store *, int);
int store_report(struct store *, int, struct report *, char **);

/* Decisions through the state file, for a daemon without an endpoint. */
void store_decide_listen(struct store *);
int store_decide_held(const char *, long *);
int64_t store_decide_add(struct store *, int, const char *, int, const char *,
    const char *, const char *, char **);
int store_decide_outcome(struct store *, int64_t, char **);
int store_decide_withdraw(struct store *, int64_t);
void store_decide_take(struct store *, int,
    const char *(*)(void *, const char *, int, const char *, const char *,
	const char *),
    void *);

#endif
