/*
 * store.c: the state file, and the only user of SQLite (SPEC §4).
 *
 * Intent before action. The engine writes a transition here before it
 * acts on it: a task's `running` and attempt number before its command is
 * sent, a task's result before the next phase starts. Writes join one open
 * transaction; an action that depends on them is queued with
 * store_after_commit() and runs only once that transaction is committed
 * and on disk (see "Durability" below). All the
 * transitions of one loop iteration — a phase starting twenty tasks, say —
 * thus cost one commit, and a crash can only lose transitions that nothing
 * had acted on yet: a task still `running` in the file whose command was
 * never sent has no record on its host, which a resume reads as
 * `interrupted`. Writes that nothing waits for are committed at the latest
 * STORE_LAG_MS later, for readers.
 *
 * One writer at a time: run, resume and mark hold an flock on STATE.lock,
 * which also names the holder's pid. Readers need no lock (WAL).
 *
 * Durability. The commands that write without a loop (mark) use
 * synchronous=FULL: SQLite fsyncs the WAL at every commit. The daemon
 * (store_attach) uses synchronous=NORMAL — SQLite still syncs what a
 * checkpoint needs, so the file is never corrupt — and makes the commits
 * that actions wait for durable itself: one fdatasync of the -wal file in
 * libuv's thread pool, after which the waiting actions run. That is FULL's
 * guarantee for everything anything acted on (the WAL's frames are on
 * disk before the action), with the loop free to serve the hosts' output
 * and the endpoint while the disk works. A commit nothing waits for (the
 * lag timer's) is made durable by the next sync, or the last one at exit.
 *
 * The schema is versioned with PRAGMA user_version and migrated forward on
 * open; the application_id marks the file as hostswap's.
 *
 * This file owns the file itself: opening, the schema, the lock, batched
 * commits and the event log. A run's transitions are in store-write.c;
 * restoring a run and the readers' queries in store-read.c.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "buf.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "store-int.h"
#include "xmalloc.h"

/* 'HSWP': marks a hostswap state file. */
#define STORE_APP_ID 0x48535750

/* Version 1: every table of SPEC §4. */
static const char store_schema_v1[] =
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY, uid TEXT NOT NULL, name TEXT NOT NULL,"
    " plan_path TEXT NOT NULL, plan_realpath TEXT, plan_sha256 TEXT NOT NULL,"
    " inventory_path TEXT, inventory_sha256 TEXT NOT NULL,"
    " inventory TEXT, vars TEXT NOT NULL, date TEXT NOT NULL,"
    " state TEXT NOT NULL, started_ms INTEGER, finished_ms INTEGER,"
    " current_phase INTEGER, swapped INTEGER NOT NULL DEFAULT 0,"
    " from_phase INTEGER, to_phase INTEGER, abandoned INTEGER NOT NULL"
    " DEFAULT 0, url TEXT, resumes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE hosts ("
    " run_id INTEGER NOT NULL, name TEXT NOT NULL, address TEXT NOT NULL,"
    " port INTEGER NOT NULL, user TEXT, machine_key TEXT,"
    " key_source TEXT NOT NULL, expected_key TEXT,"
    " swapped INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, name));"
    "CREATE TABLE phases ("
    " run_id INTEGER NOT NULL, idx INTEGER NOT NULL, id INTEGER NOT NULL,"
    " name TEXT NOT NULL, state TEXT NOT NULL, started_ms INTEGER,"
    " finished_ms INTEGER, PRIMARY KEY (run_id, idx));"
    "CREATE TABLE tasks ("
    " run_id INTEGER NOT NULL, phase_idx INTEGER NOT NULL,"
    " ord INTEGER NOT NULL, phase INTEGER NOT NULL, step TEXT NOT NULL,"
    " host TEXT NOT NULL, kind TEXT NOT NULL, idempotent INTEGER NOT NULL,"
    " state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER, error TEXT, started_ms INTEGER,"
    " finished_ms INTEGER, record TEXT, note TEXT, tail TEXT,"
    " PRIMARY KEY (run_id, phase_idx, step, host));"
    "CREATE TABLE attempts ("
    " run_id INTEGER NOT NULL, phase INTEGER NOT NULL, step TEXT NOT NULL,"
    " host TEXT NOT NULL, attempt INTEGER NOT NULL, state TEXT NOT NULL,"
    " exit_code INTEGER, error TEXT, started_ms INTEGER,"
    " finished_ms INTEGER, output BLOB, sensitive INTEGER NOT NULL,"
    " PRIMARY KEY (run_id, phase, step, host, attempt));"
    "CREATE TABLE captures ("
    " run_id INTEGER NOT NULL, name TEXT NOT NULL, host TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (run_id, name, host));"
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL,"
    " ts_ms INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);";

/*
 * Version 2: the plan's outage marks ("PHASE/STEP" of its `outage: start`
 * and `outage: end` steps), so that readers compute the outage from the
 * tasks' times without the plan.
 */
static const char store_schema_v2[] =
    "ALTER TABLE runs ADD COLUMN outage_start TEXT;"
    "ALTER TABLE runs ADD COLUMN outage_end TEXT;";

/*
 * Version 3: the keys known_hosts listed @revoked when the run began, so
 * that a resume (which reads no known_hosts file) still refuses them.
 */
static const char store_schema_v3[] =
    "ALTER TABLE runs ADD COLUMN revoked TEXT;";

/* Migrations: migrations[v] takes the schema from version v to v + 1. */
static const char *const store_migrations[STORE_SCHEMA] = { store_schema_v1,
	store_schema_v2, store_schema_v3 };

/* Die on a write that failed: the engine cannot act without its intent. */
static void __attribute__((noreturn))
store_fatal(struct store *st, const char *what)
{
	fatalx("state file %s: %s: %s; the last committed state is kept "
	       "for a resume",
	    st->path, what, sqlite3_errmsg(st->db));
}

/*
 * Prepare and bind: types says each argument's kind — 'i' int64 (an int64_t),
 * 'n' an int where -1 binds NULL, 'u' a uint64_t where 0 binds NULL, 't' text
 * (NULL binds NULL), 'b' a blob (pointer then size_t).
 */
static void
store_bind(sqlite3_stmt *s, const char *types, va_list ap)
{
	const char *t;
	int i = 1, n;
	uint64_t u;
	const void *p;
	size_t len;

	for (t = types; *t != '\0'; t++, i++) {
		switch (*t) {
		case 'i':
			sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
			break;
		case 'n':
			n = va_arg(ap, int);
			if (n == -1)
				sqlite3_bind_null(s, i);
			else
				sqlite3_bind_int(s, i, n);
			break;
		case 'u':
			u = va_arg(ap, uint64_t);
			if (u == 0)
				sqlite3_bind_null(s, i);
			else
				sqlite3_bind_int64(s, i, (int64_t)u);
			break;
		case 't':
			p = va_arg(ap, const char *);
			if (p == NULL)
				sqlite3_bind_null(s, i);
			else
				sqlite3_bind_text(
				    s, i, p, -1, SQLITE_TRANSIENT);
			break;
		case 'b':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			sqlite3_bind_blob64(s, i, p, len, SQLITE_TRANSIENT);
			break;
		default:
			fatalx("store: bad bind type '%c'", *t);
		}
	}
}

/* A new statement with its arguments bound, or NULL. */
static sqlite3_stmt *
store_vprepare(struct store *st, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	store_bind(s, types, ap);
	return s;
}

/* A kept statement for a write (prepared once), or NULL. */
static sqlite3_stmt *
store_cached(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	size_t i;

	for (i = 0; i < STORE_CACHE && st->cache[i].sql != NULL; i++)
		if (st->cache[i].sql == sql)
			return st->cache[i].stmt;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
		NULL) != SQLITE_OK)
		return NULL;
	if (i < STORE_CACHE) {
		st->cache[i].sql = sql;
		st->cache[i].stmt = s;
	}
	return s;
}

/* A statement for reading, or NULL (sqlite3_errmsg says why). */
sqlite3_stmt *
store_query(struct store *st, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s;
	va_list ap;

	va_start(ap, types);
	s = store_vprepare(st, sql, types, ap);
	va_end(ap);
	return s;
}

static void store_begin(struct store *);

/* Run a write in the open batch; a failure is fatal. */
void
store_write(struct store *st, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s;
	va_list ap;

	size_t i;

	store_begin(st);
	if ((s = store_cached(st, sql)) == NULL)
		store_fatal(st, "cannot prepare a write");
	va_start(ap, types);
	store_bind(s, types, ap);
	va_end(ap);
	if (sqlite3_step(s) != SQLITE_DONE)
		store_fatal(st, "a write failed");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	for (i = 0; i < STORE_CACHE; i++)
		if (st->cache[i].stmt == s)
			return;
	sqlite3_finalize(s); /* the cache was full */
}

/* Run SQL without results. */
static int
store_exec(struct store *st, const char *sql, char **err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (err != NULL)
		xasprintf(err, "%s: %s", st->path,
		    msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return -1;
}

/* One integer from a query, or def. */
int64_t
store_int(struct store *st, const char *sql, int64_t def)
{
	sqlite3_stmt *s;
	int64_t v = def;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return def;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A row of STORE_TASK_COLUMNS (store-int.h). */
void
store_task_row(sqlite3_stmt *s, struct store_task_row *t)
{
	t->phase_idx = sqlite3_column_int(s, 0);
	t->phase = sqlite3_column_int(s, 1);
	t->step = (const char *)sqlite3_column_text(s, 2);
	t->host = (const char *)sqlite3_column_text(s, 3);
	t->kind = (const char *)sqlite3_column_text(s, 4);
	t->state = (const char *)sqlite3_column_text(s, 5);
	t->attempt = sqlite3_column_int(s, 6);
	t->exit_code = sqlite3_column_type(s, 7) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(s, 7);
	t->error = (const char *)sqlite3_column_text(s, 8);
	t->started_ms = (uint64_t)sqlite3_column_int64(s, 9);
	t->finished_ms = (uint64_t)sqlite3_column_int64(s, 10);
	t->record = (const char *)sqlite3_column_text(s, 11);
	t->note = (const char *)sqlite3_column_text(s, 12);
	t->tail = (const char *)sqlite3_column_text(s, 13);
}

/* A column as an allocated string, or NULL. */
char *
store_col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* Check the file is ours and bring its schema up to date. */
static int
store_migrate(struct store *st, enum store_mode mode, char **err)
{
	int64_t app, version, tables;
	char *sql;
	int v;

	app = store_int(st, "PRAGMA application_id", -1);
	if (app == -1) {
		xasprintf(err, "%s: not a hostswap state file (%s)", st->path,
		    sqlite3_errmsg(st->db));
		return -1;
	}
	version = store_int(st, "PRAGMA user_version", 0);
	tables = store_int(st, "SELECT count(*) FROM sqlite_master", 0);
	if (app != STORE_APP_ID && (app != 0 || tables > 0)) {
		xasprintf(err,
		    "%s: not a hostswap state file (another program's "
		    "database)",
		    st->path);
		return -1;
	}
	if (version > STORE_SCHEMA) {
		xasprintf(err,
		    "%s: written by a newer hostswap (schema %lld, this "
		    "one knows %d)",
		    st->path, (long long)version, STORE_SCHEMA);
		return -1;
	}
	if (version == STORE_SCHEMA)
		return 0;
	if (mode == STORE_READ) {
		xasprintf(err,
		    "%s: %s (schema %lld); a run or resume brings it up to "
		    "date",
		    st->path,
		    tables == 0 ? "holds no run yet" : "is an older state file",
		    (long long)version);
		return -1;
	}
	if (store_exec(st, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	for (v = (int)version; v < STORE_SCHEMA; v++) {
		if (store_exec(st, store_migrations[v], err) == -1) {
			store_exec(st, "ROLLBACK", NULL);
			return -1;
		}
	}
	xasprintf(&sql, "PRAGMA application_id = %d; PRAGMA user_version = %d",
	    STORE_APP_ID, STORE_SCHEMA);
	if (store_exec(st, sql, err) == -1 ||
	    store_exec(st, "COMMIT", err) == -1) {
		free(sql);
		store_exec(st, "ROLLBACK", NULL);
		return -1;
	}
	free(sql);
	return 0;
}

/*
 * Make a file of the state private to its owner: the state holds the
 * audit trail, the resolved variables and every host's output. A file
 * group- or world-accessible (made by hand, by a copy, by an older
 * version under a loose umask) is set to 0600 and the operator told once.
 */
static void
store_private(int fd, const char *path)
{
	struct stat sb;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) == 0)
		return;
	if (fchmod(fd, 0600) == -1)
		log_warn("%s: mode %04o is too loose and cannot be tightened",
		    path, (unsigned)(sb.st_mode & 07777));
	else
		log_warnx("%s: mode %04o was readable or writable by others: "
			  "now 0600",
		    path, (unsigned)(sb.st_mode & 07777));
}

/* store_private() for PATH+SUFFIX (the -wal and -shm files), if it exists;
 * never through a symbolic link. */
static void
store_private_path(const char *path, const char *suffix)
{
	char *p;
	int fd;

	xasprintf(&p, "%s%s", path, suffix);
	if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) !=
	    -1) {
		store_private(fd, p);
		close(fd);
	}
	free(p);
}

/*
 * Open the state file. STORE_READ needs it to exist (STORE_NOFILE);
 * STORE_WRITE creates it. A file that is not hostswap's, is corrupt or
 * comes from a newer version is refused with *err.
 */
int
store_open(
    const char *path, enum store_mode mode, struct store **out, char **err)
{
	struct store *st;
	const char *crash;
	int flags;

	*out = NULL;
	*err = NULL;
	if (mode == STORE_READ && access(path, F_OK) == -1) {
		xasprintf(err, "%s: no such state file", path);
		return STORE_NOFILE;
	}
	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	st->lock_fd = -1;
	st->wal_fd = -1;
	flags = mode == STORE_READ ? SQLITE_OPEN_READWRITE
				   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	/* A new state file is private (0600, like STATE.token); an existing
	 * one with a looser mode is tightened (store_private). SQLite gives
	 * its -wal and -shm files the mode of the file. */
	if (mode == STORE_WRITE) {
		int fd =
		    open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd != -1)
			st->created = 1;
		else
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd != -1) {
			store_private(fd, path);
			close(fd);
		}
		/* Before SQLite opens them: closing a descriptor of a file
		 * drops every POSIX lock this process holds on it, SQLite's
		 * on the -shm included. */
		store_private_path(path, "-wal");
		store_private_path(path, "-shm");
	}
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		xasprintf(err, "%s: cannot open the state file: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_free(st);
		return STORE_ERROR;
	}
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	if (store_exec(st, "PRAGMA journal_mode = WAL", err) == -1 ||
	    store_exec(st, "PRAGMA synchronous = FULL", err) == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", err) == -1) {
		free(*err);
		xasprintf(err, "%s: not a hostswap state file (%s)", path,
		    sqlite3_errmsg(st->db));
		store_free(st);
		return STORE_ERROR;
	}
	if (store_migrate(st, mode, err) == -1) {
		store_free(st);
		return STORE_ERROR;
	}
#ifdef HOSTSWAP_TEST_HOOKS
	/* Test builds: die once the Nth event (transition) is committed,
	 * before anything acts on it (tests/integration/crash.sh). */
	if ((crash = getenv("HOSTSWAP_CRASH_AFTER_EVENT")) != NULL)
		st->crash_after = strtoul(crash, NULL, 10);
#else
	(void)crash;
#endif
	*out = st;
	return STORE_OK;
}

/* The state file's path. */
const char *
store_path(const struct store *st)
{
	return st->path;
}

/*
 * Become the one writer: an flock on STATE.lock, which names our pid.
 * STORE_HELD, with *err naming the holder's pid, if a daemon has it.
 */
int
store_lock(struct store *st, char **err)
{
	struct stat sb;
	char *lock, pid[32];
	ssize_t n;
	int fd;

	xasprintf(&lock, "%s.lock", st->path);
	/* Never through a symbolic link: the lock file is truncated and
	 * written, and a link planted there would make us clobber its
	 * target. */
	fd = open(
	    lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd == -1) {
		if (errno == ELOOP)
			xasprintf(err,
			    "%s is a symbolic link: refusing to use it as the "
			    "state file's lock (remove it)",
			    lock);
		else
			xasprintf(err, "%s: %s", lock, strerror(errno));
		free(lock);
		return STORE_ERROR;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		xasprintf(err,
		    "%s is not a regular file: refusing to use it as the "
		    "state file's lock (remove it)",
		    lock);
		close(fd);
		free(lock);
		return STORE_ERROR;
	}
	store_private(fd, lock);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = read(fd, pid, sizeof pid - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		xasprintf(err,
		    "%s is in use: hostswap pid %s holds it (%s); readers "
		    "(status --state, log, events) work meanwhile",
		    st->path, pid[0] ? pid : "?", lock);
		close(fd);
		free(lock);
		return STORE_HELD;
	}
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		log_warn("%s", lock);
	free(lock);
	st->lock_fd = fd;
	return STORE_OK;
}

/* Handles of the store closed; the last one frees it. */
static void
store_handle_closed_cb(uv_handle_t *h)
{
	struct store *st = h->data;

	if (--st->handles == 0)
		free(st);
}

/* Close the state file (commit what is open first) and free the store. */
void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	size_t i;

	if (st->in_tx)
		store_commit_final(st);
	for (i = 0; i < STORE_CACHE; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db != NULL)
		sqlite3_close(st->db);
	if (st->lock_fd != -1) {
		if (ftruncate(st->lock_fd, 0) == -1)
			log_debug("cannot empty the lock file");
		close(st->lock_fd);
	}
	free(st->def);
	free(st->sdef);
	st->sdef = NULL;
	st->nsdef = 0;
	free(st->path);
	if (st->syncing)
		st->closing = 1; /* its callback closes the WAL, frees it */
	else if (st->wal_fd != -1)
		close(st->wal_fd);
	if (st->handles == 0) {
		free(st);
		return;
	}
	uv_close((uv_handle_t *)&st->idle, store_handle_closed_cb);
	uv_close((uv_handle_t *)&st->lag, store_handle_closed_cb);
}

/*
 * Let go of a state file that this process created and that holds no run
 * (a busy port, a failed preflight, a run that could not be created):
 * removed with its -wal and -shm, so a refusal leaves no file that a
 * later status or resume would take for a run's. They are removed while
 * this process still holds the lock, so no other daemon can have taken
 * the file up meanwhile; the lock file itself stays (another process may
 * be about to lock it: a new one would let two daemons hold "the" lock).
 * Any other file is only closed.
 */
void
store_discard(struct store *st)
{
	static const char *const ends[] = { "", "-wal", "-shm" };
	char *p;
	size_t i;

	if (st == NULL)
		return;
	if (st->created && st->db != NULL && st->lock_fd != -1 && !st->in_tx &&
	    st->wal_fd == -1 &&
	    store_int(st, "SELECT count(*) FROM runs", -1) == 0) {
		for (i = 0; i < STORE_CACHE; i++) {
			sqlite3_finalize(st->cache[i].stmt);
			st->cache[i].stmt = NULL;
		}
		sqlite3_close(st->db);
		st->db = NULL;
		for (i = 0; i < sizeof ends / sizeof ends[0]; i++) {
			xasprintf(&p, "%s%s", st->path, ends[i]);
			if (unlink(p) == -1 && errno != ENOENT)
				log_debug(
				    "cannot remove %s: %s", p, strerror(errno));
			free(p);
		}
	}
	store_free(st);
}

static void store_idle_cb(uv_idle_t *);
static void store_lag_cb(uv_timer_t *);

/*
 * Batch the writes on this loop (the daemon); without it each commits.
 * With the -wal file at hand, durability becomes our own fdatasync off
 * the loop (see the top of this file); without it, SQLite's FULL stays.
 */
void
store_attach(struct store *st, uv_loop_t *loop)
{
	char *wal;
	char *err = NULL;

	st->loop = loop;
	uv_idle_init(loop, &st->idle);
	uv_timer_init(loop, &st->lag);
	st->idle.data = st->lag.data = st;
	st->handles = 2;
#ifdef HOSTSWAP_TEST_HOOKS
	if (getenv("HOSTSWAP_STORE_SYNC_FULL") != NULL)
		return; /* benchmarks compare both */
#endif
	store_commit_tx(st);
	xasprintf(&wal, "%s-wal", st->path);
	st->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	free(wal);
	if (st->wal_fd == -1)
		return;
	if (store_exec(st, "PRAGMA synchronous = NORMAL", &err) == -1) {
		free(err);
		close(st->wal_fd);
		st->wal_fd = -1;
		return;
	}
	st->async = 1;
}

/* Open the batch's transaction if none is open. */
static void
store_begin(struct store *st)
{
	if (st->in_tx)
		return;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		store_fatal(st, "cannot begin a transaction");
	st->in_tx = 1;
	if (st->loop != NULL && !uv_is_active((uv_handle_t *)&st->lag))
		uv_timer_start(&st->lag, store_lag_cb, STORE_LAG_MS, 0);
}

/* Commit the open transaction (durably). */
void
store_commit_tx(struct store *st)
{
	if (!st->in_tx)
		return;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		store_fatal(st, "cannot commit");
	st->in_tx = 0;
	st->commits++;
	if (st->loop != NULL)
		uv_timer_stop(&st->lag);
	if (st->on_commit != NULL)
		st->on_commit(st->on_commit_arg);
}

/* Be told after every commit (the endpoint streams the new events). */
void
store_on_commit(struct store *st, void (*cb)(void *), void *arg)
{
	st->on_commit = cb;
	st->on_commit_arg = arg;
}

static void store_synced_cb(uv_fs_t *);

/* Commit, then have the WAL synced; its end releases the waiting actions. */
static void
store_commit_async(struct store *st)
{
	uv_idle_stop(&st->idle);
	if (st->syncing)
		return; /* its end goes on with what queued meanwhile */
	store_commit_tx(st);
	if (st->ndef == 0)
		return;
	st->sdef = st->def;
	st->nsdef = st->ndef;
	st->def = NULL;
	st->ndef = st->capdef = 0;
	st->syncing = 1;
	st->handles++;
	st->sync.data = st;
	if (uv_fs_fdatasync(st->loop, &st->sync, st->wal_fd, store_synced_cb) !=
	    0)
		store_fatal(st, "cannot sync the state file");
}

/* The WAL is on disk: run what waited for it. */
static void
store_synced_cb(uv_fs_t *req)
{
	struct store *st = req->data;
	struct store_deferred *def = st->sdef;
	ssize_t result = req->result;
	size_t i, n = st->nsdef;

	uv_fs_req_cleanup(req);
	st->syncing = 0;
	st->sdef = NULL;
	st->nsdef = 0;
	if (st->closing) {
		free(def);
		close(st->wal_fd);
		if (--st->handles == 0)
			free(st);
		return;
	}
	st->handles--;
	if (result < 0) {
		log_warnx(
		    "%s: cannot sync: %s", st->path, uv_strerror((int)result));
		store_fatal(st, "cannot sync the state file");
	}
	st->syncs++;
	for (i = 0; i < n; i++)
		def[i].cb(def[i].arg);
	free(def);
	/* What these actions and the loop queued meanwhile: next round. */
	if (st->ndef > 0)
		uv_idle_start(&st->idle, store_idle_cb);
}

/* Commit, then release the actions that waited for it. */
void
store_commit(struct store *st)
{
	struct store_deferred *def;
	size_t i, n;

	if (st->async) {
		store_commit_async(st);
		return;
	}
	store_commit_tx(st);
	while (st->ndef > 0) {
		def = st->def;
		n = st->ndef;
		st->def = NULL;
		st->ndef = st->capdef = 0;
		for (i = 0; i < n; i++)
			def[i].cb(def[i].arg);
		free(def);
		/* The actions may have written: commit those before the
		 * actions they queued run. */
		store_commit_tx(st);
	}
	if (st->loop != NULL)
		uv_idle_stop(&st->idle);
}

/* The last commit, durable now: the actions still queued are dropped. */
void
store_commit_final(struct store *st)
{
	store_commit_tx(st);
	if (st->async && fdatasync(st->wal_fd) == -1)
		log_warn("%s: cannot sync", st->path);
	st->ndef = 0;
}

/* How many transactions were committed (each one fsync of the WAL). */
unsigned long
store_commits(const struct store *st)
{
	return st->commits;
}

/* How many fdatasyncs of the WAL the daemon made itself (off the loop). */
unsigned long
store_syncs(const struct store *st)
{
	return st->syncs;
}

/* Loop: commit and release, after this iteration's callbacks. */
static void
store_idle_cb(uv_idle_t *h)
{
	store_commit(h->data);
}

/* Timer: what nothing waits for is committed now, for readers. */
static void
store_lag_cb(uv_timer_t *h)
{
	store_commit_tx(h->data);
}

/*
 * Run cb(arg) once every write made so far is committed: intent before
 * action. Always later, never inside this call.
 */
void
store_after_commit(struct store *st, void (*cb)(void *), void *arg)
{
	if (st->ndef == st->capdef) {
		st->capdef = st->capdef ? st->capdef * 2 : 32;
		st->def = xreallocarray(st->def, st->capdef, sizeof *st->def);
	}
	st->def[st->ndef].cb = cb;
	st->def[st->ndef].arg = arg;
	st->ndef++;
	if (st->loop != NULL && !st->syncing)
		uv_idle_start(&st->idle, store_idle_cb);
	else
		store_commit(st);
}

/* Append an event: its type and the status-shaped object it carries. */
void
store_event(struct store *st, int run_id, const char *type, json_t *data)
{
	char *s = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(data);
	store_write(st,
	    "INSERT INTO events (run_id, ts_ms, type, data) VALUES (?,?,?,?)",
	    "iitt", (int64_t)run_id, (int64_t)clock_now_ms(), type, s);
	free(s);
	st->events++;
#ifdef HOSTSWAP_TEST_HOOKS
	if (st->crash_after != 0 && st->events == st->crash_after) {
		store_commit_tx(st);
		fprintf(stderr,
		    "hostswap: crash point: killed after event %lu\n",
		    st->events);
		raise(SIGKILL);
	}
#endif
}
