/*
 * store-int.h: what the four files of the store share (store.c: the file,
 * its schema, lock and batched commits; store-write.c: a run's
 * transitions; store-read.c: restore and the readers; store-report.c: a
 * run read whole for the report). Nothing outside them includes it: the
 * store is the only module that touches SQLite.
 */
#ifndef HOSTSWAP_STORE_INT_H
#define HOSTSWAP_STORE_INT_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>
#include <uv.h>

struct store_deferred {
	void (*cb)(void *);
	void *arg;
};

/* Prepared writes, kept: the engine's writes are a handful of statements
 * run hundreds of times a run. Keyed by the SQL literal's address. */
#define STORE_CACHE 16

struct store_cached {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *path;
	int lock_fd;
	int created; /* this open made the file (store_discard) */
	int in_tx;
	uv_loop_t *loop;
	uv_idle_t idle; /* commits, then releases the deferred actions */
	uv_timer_t lag; /* commits what nothing waits for */
	int handles;
	struct store_deferred *def;
	size_t ndef, capdef;
	/* The daemon's durability (store_attach): synchronous=NORMAL, and
	 * this store's own fdatasync of the WAL, off the loop, before the
	 * actions that wait for a commit run. */
	int async;
	int wal_fd;   /* the -wal file, for fdatasync; -1 if none */
	uv_fs_t sync; /* the fdatasync under way */
	int syncing;  /* sync is under way */
	int closing;  /* store_free() ran while syncing */
	struct store_deferred *sdef; /* released when sync ends */
	size_t nsdef;
	unsigned long syncs;
	unsigned long commits;
	unsigned long events;
	unsigned long crash_after; /* test builds: SIGKILL after event N */
	struct store_cached cache[STORE_CACHE];
	void (*on_commit)(void *); /* the HTTP endpoint's new events */
	void *on_commit_arg;
};

/*
 * One row of the tasks table as every reader takes it (the run restored,
 * the status JSON, the report): select STORE_TASK_COLUMNS, then
 * store_task_row(). Strings point into the statement's row.
 */
#define STORE_TASK_COLUMNS \
	"phase_idx, phase, step, host, kind, state, attempt, exit_code, " \
	"error, started_ms, finished_ms, record, note, tail"

void store_task_row(sqlite3_stmt *, struct store_task_row *);
sqlite3_stmt *store_query(struct store *, const char *, const char *, ...);
void store_write(struct store *, const char *, const char *, ...);
int64_t store_int(struct store *, const char *, int64_t);
char *store_col_str(sqlite3_stmt *, int);
void store_event(struct store *, int, const char *, json_t *);
void store_commit_tx(struct store *);

#endif
