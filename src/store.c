/*
 * store.c: the state file, and the only user of SQLite (SPEC §4).
 *
 * Intent before action. The engine writes a transition here before it
 * acts on it: a task's `running` and attempt number before its command is
 * sent, a task's result before the next phase starts. Writes join one open
 * transaction; an action that depends on them is queued with
 * store_after_commit() and runs only once that transaction is committed
 * (synchronous=FULL in WAL mode: one fsync of the WAL per commit). All the
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
 * The schema is versioned with PRAGMA user_version and migrated forward on
 * open; the application_id marks the file as hostswap's.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "hostkey.h"
#include "log.h"
#include "plan.h"
#include "run.h"
#include "secret.h"
#include "status.h"
#include "store.h"
#include "xmalloc.h"

/* 'HSWP': marks a hostswap state file. */
#define STORE_APP_ID 0x48535750

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
	int in_tx;
	uv_loop_t *loop;
	uv_idle_t idle; /* commits, then releases the deferred actions */
	uv_timer_t lag; /* commits what nothing waits for */
	int handles;
	struct store_deferred *def;
	size_t ndef, capdef;
	unsigned long commits;
	unsigned long events;
	unsigned long crash_after; /* test builds: SIGKILL after event N */
	struct store_cached cache[STORE_CACHE];
	void (*on_commit)(void *); /* the HTTP endpoint's new events */
	void *on_commit_arg;
};

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

/* Migrations: migrations[v] takes the schema from version v to v + 1. */
static const char *const store_migrations[STORE_SCHEMA] = { store_schema_v1 };

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
static sqlite3_stmt *
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
static void
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
static int64_t
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

/* A column as an allocated string, or NULL. */
static char *
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
	flags = mode == STORE_READ ? SQLITE_OPEN_READWRITE
				   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
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
#ifdef HOSTSWAP_CRASH_POINTS
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
	char *lock, pid[32];
	ssize_t n;
	int fd;

	xasprintf(&lock, "%s.lock", st->path);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		xasprintf(err, "%s: %s", lock, strerror(errno));
		free(lock);
		return STORE_ERROR;
	}
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
	free(st->path);
	if (st->handles == 0) {
		free(st);
		return;
	}
	uv_close((uv_handle_t *)&st->idle, store_handle_closed_cb);
	uv_close((uv_handle_t *)&st->lag, store_handle_closed_cb);
}

static void store_idle_cb(uv_idle_t *);
static void store_lag_cb(uv_timer_t *);

/* Batch the writes on this loop (the daemon); without it each commits. */
void
store_attach(struct store *st, uv_loop_t *loop)
{
	st->loop = loop;
	uv_idle_init(loop, &st->idle);
	uv_timer_init(loop, &st->lag);
	st->idle.data = st->lag.data = st;
	st->handles = 2;
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
static void
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

/* Commit, then release the actions that waited for it. */
void
store_commit(struct store *st)
{
	struct store_deferred *def;
	size_t i, n;

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

/* The last commit: the actions still queued are dropped (we exit). */
void
store_commit_final(struct store *st)
{
	store_commit_tx(st);
	st->ndef = 0;
}

/* How many transactions were committed (each one fsync of the WAL). */
unsigned long
store_commits(const struct store *st)
{
	return st->commits;
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
	if (st->loop != NULL)
		uv_idle_start(&st->idle, store_idle_cb);
	else
		store_commit(st);
}

/* Append an event: its type and the status-shaped object it carries. */
static void
store_event(struct store *st, int run_id, const char *type, json_t *data)
{
	char *s = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(data);
	store_write(st,
	    "INSERT INTO events (run_id, ts_ms, type, data) VALUES (?,?,?,?)",
	    "iitt", (int64_t)run_id, (int64_t)run_now_ms(), type, s);
	free(s);
	st->events++;
#ifdef HOSTSWAP_CRASH_POINTS
	if (st->crash_after != 0 && st->events == st->crash_after) {
		store_commit_tx(st);
		fprintf(stderr,
		    "hostswap: crash point: killed after event %lu\n",
		    st->events);
		raise(SIGKILL);
	}
#endif
}

/* The run's object for an event. */
static json_t *
store_run_json(const struct run *r)
{
	struct status_run v;

	status_view_run(r, &v);
	return status_run_json(&v);
}

/* Read the newest run's facts. STORE_NOFILE when there is none. */
int
store_newest_run(struct store *st, struct store_run_info *ri)
{
	sqlite3_stmt *s;
	const char *t;
	int rc = STORE_NOFILE;

	memset(ri, 0, sizeof *ri);
	s = store_query(st,
	    "SELECT id, uid, date, state, plan_path, plan_sha256, "
	    "inventory_path, inventory_sha256, from_phase, to_phase, "
	    "started_ms, plan_realpath FROM runs ORDER BY id DESC LIMIT 1",
	    "");
	if (s == NULL)
		return STORE_ERROR;
	if (sqlite3_step(s) == SQLITE_ROW) {
		ri->id = sqlite3_column_int(s, 0);
		snprintf(ri->uid, sizeof ri->uid, "%s",
		    (const char *)sqlite3_column_text(s, 1));
		snprintf(ri->date, sizeof ri->date, "%s",
		    (const char *)sqlite3_column_text(s, 2));
		ri->state = store_col_str(s, 3);
		ri->plan_path = store_col_str(s, 4);
		snprintf(ri->plan_sha256, sizeof ri->plan_sha256, "%s",
		    (const char *)sqlite3_column_text(s, 5));
		ri->inventory_path = store_col_str(s, 6);
		t = (const char *)sqlite3_column_text(s, 7);
		snprintf(ri->inventory_sha256, sizeof ri->inventory_sha256,
		    "%s", t ? t : "");
		ri->from_phase = sqlite3_column_type(s, 8) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int(s, 8);
		ri->to_phase = sqlite3_column_type(s, 9) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int(s, 9);
		ri->started_ms = (uint64_t)sqlite3_column_int64(s, 10);
		ri->plan_realpath = store_col_str(s, 11);
		rc = STORE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Free what store_newest_run() allocated. */
void
store_run_info_free(struct store_run_info *ri)
{
	free(ri->state);
	free(ri->plan_path);
	free(ri->plan_realpath);
	free(ri->inventory_path);
	memset(ri, 0, sizeof *ri);
}

/* Whether a run can still be resumed (SPEC §4: all but succeeded). */
int
store_run_unfinished(const struct store_run_info *ri)
{
	return ri->state != NULL && strcmp(ri->state, "succeeded") != 0 &&
	    strcmp(ri->state, "abandoned") != 0;
}

/* A run the operator chose not to resume (run --abandon-unfinished). */
void
store_run_abandon(struct store *st, int id)
{
	json_t *o = json_pack("{s:i, s:s}", "id", id, "state", "abandoned");

	store_write(st,
	    "UPDATE runs SET abandoned = 1, state = 'abandoned' "
	    "WHERE id = ?",
	    "i", (int64_t)id);
	store_event(st, id, "run", o);
	store_commit(st);
}

/* The variables of the run, as JSON: plan then inventory, no secrets. */
static char *
store_vars_json(const struct run *r)
{
	const struct plan *p = r->plan;
	struct expand_env env = r->env;
	json_t *o = json_object();
	char *v, *e, *s;
	size_t i;

	env.secret = NULL; /* a secret shows as its placeholder */
	for (i = 0; i < p->nvars + p->inv->nvars; i++) {
		const struct kv *kv =
		    i < p->nvars ? &p->vars[i] : &p->inv->vars[i - p->nvars];

		e = NULL;
		v = expand(&env, NULL, 0, kv->value, &e);
		json_object_set_new(o, kv->key, json_string(v ? v : kv->value));
		free(v);
		free(e);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* The key line of a host key, or NULL. */
static char *
store_key_line(const struct hostkey *k)
{
	return k != NULL && k->type != NULL ? hostkey_line(k) : NULL;
}

/*
 * Record a new run and everything it starts with: hosts and their
 * expected keys, phases, tasks. Sets r->id. Committed at once.
 */
int
store_run_create(struct store *st, struct run *r, const char *plan_sha,
    const char *inv_path, const char *inv_sha, const char *inv_text)
{
	char *vars, *mk, *ek, *real;
	size_t i, j;

	vars = store_vars_json(r);
	real = realpath(r->plan->path, NULL);
	store_write(st,
	    "INSERT INTO runs (uid, name, plan_path, plan_realpath, "
	    "plan_sha256, inventory_path, inventory_sha256, inventory, vars, "
	    "date, state, started_ms, from_phase, to_phase) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    "tttttttttttunn", r->uid, r->plan->name, r->plan->path, real,
	    plan_sha, inv_path, inv_sha, inv_text, vars, r->date,
	    run_state_names[r->state], r->started_ms, r->opts.from_phase,
	    r->opts.to_phase);
	free(vars);
	free(real);
	r->id = (int)sqlite3_last_insert_rowid(st->db);
	snprintf(r->id_text, sizeof r->id_text, "%d", r->id);
	for (i = 0; i < r->nhosts; i++) {
		const struct run_host *rh = &r->hosts[i];

		mk = rh->has_key ? store_key_line(&rh->machine_key) : NULL;
		ek = store_key_line(run_expected_key(rh));
		store_write(st,
		    "INSERT INTO hosts (run_id, name, address, port, user, "
		    "machine_key, key_source, expected_key, swapped) "
		    "VALUES (?,?,?,?,?,?,?,?,?)",
		    "ittntttti", (int64_t)r->id, rh->host->name,
		    rh->host->address, rh->host->port, rh->host->user, mk,
		    rh->host->host_key != NULL ? "pin"
			: rh->has_key          ? "known_hosts"
					       : "unknown",
		    ek, (int64_t)rh->swapped);
		free(mk);
		free(ek);
	}
	for (i = 0; i < r->nphases; i++) {
		const struct run_phase *ph = &r->phases[i];
		const struct phase *p = &r->plan->phases[ph->index];

		store_write(st,
		    "INSERT INTO phases (run_id, idx, id, name, state) "
		    "VALUES (?,?,?,?,?)",
		    "iiitt", (int64_t)r->id, (int64_t)i, (int64_t)p->id,
		    p->name, phase_state_names[ph->state]);
		for (j = 0; j < ph->ntasks; j++) {
			const struct run_task *t = &ph->tasks[j];

			store_write(st,
			    "INSERT INTO tasks (run_id, phase_idx, ord, phase, "
			    "step, host, kind, idempotent, state) "
			    "VALUES (?,?,?,?,?,?,?,?,?)",
			    "iiiitttit", (int64_t)r->id, (int64_t)i, (int64_t)j,
			    (int64_t)p->id, t->step->id, t->host,
			    step_kind_name(t->step->kind),
			    (int64_t)t->step->idempotent,
			    task_state_names[t->state]);
		}
	}
	store_event(st, r->id, "run", store_run_json(r));
	store_commit_tx(st);
	return 0;
}

/* The run changed state (or its current phase). */
void
store_run_state(struct store *st, const struct run *r)
{
	struct status_run v;

	if (st == NULL)
		return;
	status_view_run(r, &v);
	store_write(st,
	    "UPDATE runs SET state = ?, finished_ms = ?, current_phase = ?, "
	    "swapped = ? WHERE id = ?",
	    "tunii", v.state, v.finished_ms, v.current_phase,
	    (int64_t)r->swapped, (int64_t)r->id);
	store_event(st, r->id, "run", status_run_json(&v));
}

/* A resume took the run up again. */
void
store_run_resumed(struct store *st, const struct run *r)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE runs SET resumes = resumes + 1, finished_ms = NULL "
	    "WHERE id = ?",
	    "i", (int64_t)r->id);
	store_run_state(st, r);
}

/* A phase changed state. */
void
store_phase(struct store *st, const struct run_phase *ph)
{
	const struct run *r = ph->run;
	struct status_phase v;

	if (st == NULL)
		return;
	status_view_phase(ph, &v);
	store_write(st,
	    "UPDATE phases SET state = ?, started_ms = ?, finished_ms = ? "
	    "WHERE run_id = ? AND idx = ?",
	    "tuuii", v.state, v.started_ms, v.finished_ms, (int64_t)r->id,
	    (int64_t)ph->index);
	store_event(st, r->id, "phase", status_phase_json(&v));
	store_write(st, "UPDATE runs SET current_phase = ? WHERE id = ?", "ii",
	    (int64_t)v.id, (int64_t)r->id);
}

/* A task changed state or began another attempt. */
void
store_task(struct store *st, const struct run_task *t)
{
	const struct run *r = t->phase->run;
	struct status_task v;

	if (st == NULL)
		return;
	status_view_task(t, &v);
	store_write(st,
	    "UPDATE tasks SET state = ?, attempt = ?, exit_code = ?, "
	    "error = ?, started_ms = ?, finished_ms = ?, record = ?, tail = ? "
	    "WHERE run_id = ? AND phase_idx = ? AND step = ? AND host = ?",
	    "tintuuttiitt", v.state, (int64_t)v.attempt, v.exit_code, v.error,
	    v.started_ms, v.finished_ms, t->record,
	    v.output_tail && *v.output_tail ? v.output_tail : NULL,
	    (int64_t)r->id, (int64_t)t->phase->index, t->step->id, t->host);
	store_event(st, r->id, "task", status_task_json(&v, 1));
}

/* A fact a resume needs about a running attempt (a reboot's boot id). */
void
store_task_note(struct store *st, const struct run_task *t, const char *note)
{
	if (st == NULL)
		return;
	store_write(st,
	    "UPDATE tasks SET note = ? WHERE run_id = ? AND phase_idx = ? AND "
	    "step = ? AND host = ?",
	    "tiitt", note, (int64_t)t->phase->run->id, (int64_t)t->phase->index,
	    t->step->id, t->host);
}

/* An attempt ended: keep its whole (scrubbed) output; none if sensitive. */
void
store_attempt_end(struct store *st, const struct run_task *t, const char *state)
{
	const struct run *r = t->phase->run;
	const struct buf *all = &t->out.all;

	if (st == NULL || t->attempt == 0)
		return;
	store_write(st,
	    "INSERT OR REPLACE INTO attempts (run_id, phase, step, host, "
	    "attempt, state, exit_code, error, started_ms, finished_ms, "
	    "output, sensitive) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	    "iittitntuubi", (int64_t)r->id,
	    (int64_t)r->plan->phases[t->phase->index].id, t->step->id, t->host,
	    (int64_t)t->attempt, state, t->exit_code, t->error, t->started_ms,
	    t->finished_ms,
	    t->step->sensitive || all->data == NULL ? "" : all->data,
	    t->step->sensitive || all->data == NULL ? (size_t)0 : all->len,
	    (int64_t)t->step->sensitive);
}

/* A captured value (never of a sensitive step: the caller checks). */
void
store_capture(struct store *st, const struct run *r, const char *name,
    const char *host, const char *value)
{
	if (st == NULL)
		return;
	store_write(st,
	    "INSERT OR REPLACE INTO captures (run_id, name, host, value) "
	    "VALUES (?,?,?,?)",
	    "ittt", (int64_t)r->id, name, host, value);
}

/* A host's key was learnt, or it moved in the swap. */
void
store_host(struct store *st, const struct run_host *rh)
{
	const struct run *r = rh->run;
	char *mk, *ek;
	json_t *o;

	if (st == NULL)
		return;
	mk = rh->has_key ? store_key_line(&rh->machine_key) : NULL;
	ek = store_key_line(run_expected_key(rh));
	store_write(st,
	    "UPDATE hosts SET address = ?, port = ?, user = ?, "
	    "machine_key = ?, expected_key = ?, swapped = ?, "
	    "key_source = CASE WHEN key_source = 'unknown' AND ? IS NOT NULL "
	    "THEN 'learned' ELSE key_source END WHERE run_id = ? AND name = ?",
	    "tntttitit", rh->host->address, rh->host->port, rh->host->user, mk,
	    ek, (int64_t)rh->swapped, mk, (int64_t)r->id, rh->host->name);
	o = json_pack("{s:s, s:s, s:i, s:b, s:s?}", "host", rh->host->name,
	    "address", rh->host->address, "port", rh->host->port, "swapped",
	    rh->swapped, "expected_key", ek);
	store_event(st, r->id, "host", o);
	free(mk);
	free(ek);
}

/* A note for the audit trail (retries, accepted keys, decisions). */
void
store_note(struct store *st, const struct run *r, const char *msg)
{
	char *clean;

	if (st == NULL)
		return;
	clean = secrets_scrub(&r->secrets, msg, strlen(msg));
	store_event(st, r->id, "note", json_pack("{s:s}", "msg", clean));
	free(clean);
}

/* A resume accepted a changed plan or inventory: these are the run's now. */
void
store_run_plan(struct store *st, int id, const char *plan_sha,
    const char *inv_path, const char *inv_sha)
{
	store_write(st,
	    "UPDATE runs SET plan_sha256 = ?, inventory_path = ?, "
	    "inventory_sha256 = ? WHERE id = ?",
	    "ttti", plan_sha, inv_path, inv_sha, (int64_t)id);
}

/* The URL the run's status is served at (the control commands read it). */
void
store_set_url(struct store *st, int id, const char *url)
{
	store_write(
	    st, "UPDATE runs SET url = ? WHERE id = ?", "ti", url, (int64_t)id);
}

/* A task state by name. */
static enum task_state
store_task_state(const char *s)
{
	int i;

	for (i = 0; i < TASK_NSTATES; i++)
		if (s != NULL && strcmp(task_state_names[i], s) == 0)
			return (enum task_state)i;
	return TASK_PENDING;
}

/* A phase state by name. */
static enum phase_state
store_phase_state(const char *s)
{
	int i;

	for (i = 0; i < PHASE_NSTATES; i++)
		if (s != NULL && strcmp(phase_state_names[i], s) == 0)
			return (enum phase_state)i;
	return PHASE_PENDING;
}

/* Restore the hosts: keys as the run knows them, never a file's. */
static int
store_restore_hosts(struct store *st, struct run *r, char **err)
{
	sqlite3_stmt *s;
	struct run_host *rh;
	const char *mk;

	s = store_query(st,
	    "SELECT name, machine_key, swapped FROM hosts WHERE run_id = ?",
	    "i", (int64_t)r->id);
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		rh = run_host(r, (const char *)sqlite3_column_text(s, 0));
		if (rh == NULL) {
			xasprintf(err,
			    "the run knows host %s, which the inventory "
			    "does not name",
			    (const char *)sqlite3_column_text(s, 0));
			sqlite3_finalize(s);
			return -1;
		}
		hostkey_clear(&rh->machine_key);
		rh->has_key = 0;
		mk = (const char *)sqlite3_column_text(s, 1);
		if (mk != NULL && hostkey_from_pin(mk, &rh->machine_key) == 0)
			rh->has_key = 1;
		rh->swapped = sqlite3_column_int(s, 2);
	}
	sqlite3_finalize(s);
	return 0;
}

/* The run's task of a phase by step and host. */
static struct run_task *
store_find_task(struct run_phase *ph, const char *step, const char *host)
{
	size_t i;

	for (i = 0; i < ph->ntasks; i++)
		if (strcmp(ph->tasks[i].step->id, step) == 0 &&
		    strcmp(ph->tasks[i].host, host) == 0)
			return &ph->tasks[i];
	return NULL;
}

/* The run's phase of a plan phase id. */
static struct run_phase *
store_find_phase(struct run *r, int id)
{
	size_t i;

	for (i = 0; i < r->nphases; i++)
		if (r->plan->phases[r->phases[i].index].id == id)
			return &r->phases[i];
	return NULL;
}

/*
 * Fill a run made from the plan (run_new() in resume mode) with what the
 * state file knows: ids, date, keys, the swap, captures, phases and tasks.
 * Tasks the plan no longer has are left out; new ones stay pending.
 */
int
store_restore(struct store *st, struct run *r, char **err)
{
	struct store_run_info ri;
	struct run_phase *ph;
	struct run_task *t;
	sqlite3_stmt *s;
	int64_t swapped;

	*err = NULL;
	if (store_newest_run(st, &ri) != STORE_OK) {
		xasprintf(err, "%s: no run to resume", st->path);
		return -1;
	}
	r->id = ri.id;
	snprintf(r->id_text, sizeof r->id_text, "%d", r->id);
	memcpy(r->uid, ri.uid, sizeof r->uid);
	memcpy(r->date, ri.date, sizeof r->date);
	r->started_ms = ri.started_ms;
	r->opts.from_phase = ri.from_phase;
	r->opts.to_phase = ri.to_phase;
	store_run_info_free(&ri);
	if (store_restore_hosts(st, r, err) == -1)
		return -1;
	s = store_query(
	    st, "SELECT swapped FROM runs WHERE id = ?", "i", (int64_t)r->id);
	swapped = s != NULL && sqlite3_step(s) == SQLITE_ROW
	    ? sqlite3_column_int64(s, 0)
	    : 0;
	sqlite3_finalize(s);
	r->swapped = (int)swapped;

	s = store_query(st,
	    "SELECT name, host, value FROM captures WHERE run_id = ?", "i",
	    (int64_t)r->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		run_set_capture(r, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2));
	sqlite3_finalize(s);

	s = store_query(st,
	    "SELECT id, state, started_ms, finished_ms FROM phases WHERE "
	    "run_id = ?",
	    "i", (int64_t)r->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		if ((ph = store_find_phase(r, sqlite3_column_int(s, 0))) ==
		    NULL)
			continue;
		ph->state =
		    store_phase_state((const char *)sqlite3_column_text(s, 1));
		ph->started_ms = (uint64_t)sqlite3_column_int64(s, 2);
		ph->finished_ms = (uint64_t)sqlite3_column_int64(s, 3);
	}
	sqlite3_finalize(s);

	s = store_query(st,
	    "SELECT phase, step, host, state, attempt, exit_code, error, "
	    "started_ms, finished_ms, record, note, tail FROM tasks WHERE "
	    "run_id = ?",
	    "i", (int64_t)r->id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		const char *tail;

		if ((ph = store_find_phase(r, sqlite3_column_int(s, 0))) ==
			NULL ||
		    (t = store_find_task(ph,
			 (const char *)sqlite3_column_text(s, 1),
			 (const char *)sqlite3_column_text(s, 2))) == NULL)
			continue;
		t->state =
		    store_task_state((const char *)sqlite3_column_text(s, 3));
		t->attempt = sqlite3_column_int(s, 4);
		t->exit_code = sqlite3_column_type(s, 5) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int(s, 5);
		free(t->error);
		t->error = store_col_str(s, 6);
		t->started_ms = (uint64_t)sqlite3_column_int64(s, 7);
		t->finished_ms = (uint64_t)sqlite3_column_int64(s, 8);
		free(t->record);
		t->record = store_col_str(s, 9);
		free(t->note);
		t->note = store_col_str(s, 10);
		if ((tail = (const char *)sqlite3_column_text(s, 11)) != NULL)
			buf_adds(&t->out.all, tail);
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * Decide an interrupted task (hostswap mark): succeeded, failed, or retry
 * (pending again). Only a task that is not running can be marked.
 */
int
store_mark(struct store *st, int run_id, int phase, const char *step,
    const char *host, const char *decision, char **err)
{
	const char *state;
	sqlite3_stmt *s;
	char *cur = NULL, *msg;
	int n = 0;

	s = store_query(st,
	    "SELECT state, host FROM tasks WHERE run_id = ? AND phase = ? AND "
	    "step = ? AND (? IS NULL OR host = ?)",
	    "iittt", (int64_t)run_id, (int64_t)phase, step, host, host);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		n++;
		free(cur);
		cur = store_col_str(s, 0);
	}
	sqlite3_finalize(s);
	if (n == 0) {
		xasprintf(err, "run %d has no task %d/%s%s%s", run_id, phase,
		    step, host ? " on " : "", host ? host : "");
		return -1;
	}
	if (n > 1) {
		free(cur);
		xasprintf(err,
		    "%d/%s runs on several hosts: name one with --host", phase,
		    step);
		return -1;
	}
	if (strcmp(cur, "running") == 0) {
		xasprintf(err,
		    "%d/%s is running; a resume learns its outcome from its "
		    "record",
		    phase, step);
		free(cur);
		return -1;
	}
	free(cur);
	state = strcmp(decision, "retry") == 0 ? "pending" : decision;
	store_write(st,
	    "UPDATE tasks SET state = ?, error = CASE WHEN ? = 'failed' THEN "
	    "'marked failed by operator' ELSE NULL END, finished_ms = ? "
	    "WHERE run_id = ? AND phase = ? AND step = ? AND (? IS NULL OR "
	    "host = ?)",
	    "ttuiittt", state, state,
	    strcmp(state, "pending") == 0 ? (uint64_t)0 : run_now_ms(),
	    (int64_t)run_id, (int64_t)phase, step, host, host);
	if (strcmp(state, "failed") == 0)
		store_write(st,
		    "UPDATE runs SET state = 'failed', finished_ms = ? WHERE "
		    "id = ?",
		    "ui", run_now_ms(), (int64_t)run_id);
	xasprintf(&msg, "operator marked %d/%s%s%s %s", phase, step,
	    host ? " on " : "", host ? host : "", decision);
	store_event(st, run_id, "note", json_pack("{s:s}", "msg", msg));
	free(msg);
	store_commit(st);
	return 0;
}

/* A task row as a status view (strings point into the statement). */
static void
store_task_view(sqlite3_stmt *s, struct status_task *v)
{
	memset(v, 0, sizeof *v);
	v->phase = sqlite3_column_int(s, 0);
	v->step = (const char *)sqlite3_column_text(s, 1);
	v->host = (const char *)sqlite3_column_text(s, 2);
	v->state = (const char *)sqlite3_column_text(s, 3);
	v->attempt = sqlite3_column_int(s, 4);
	v->exit_code = sqlite3_column_type(s, 5) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(s, 5);
	v->started_ms = (uint64_t)sqlite3_column_int64(s, 6);
	v->finished_ms = (uint64_t)sqlite3_column_int64(s, 7);
	v->error = (const char *)sqlite3_column_text(s, 8);
	v->output_tail = (const char *)sqlite3_column_text(s, 9);
	if (v->error != NULL && strcmp(v->state, "failed") != 0 &&
	    strcmp(v->state, "interrupted") != 0)
		v->error = NULL;
}

/* The status JSON of SPEC §6 for a run, from the file alone. */
int
store_status_json(struct store *st, int run_id, json_t **out)
{
	struct status_run rv;
	struct status_phase pv;
	struct status_task tv;
	sqlite3_stmt *s, *ts;
	json_t *o, *phases, *po, *tasks;

	*out = NULL;
	s = store_query(st,
	    "SELECT id, uid, plan_path, name, state, started_ms, finished_ms, "
	    "current_phase, swapped, date FROM runs WHERE id = ?",
	    "i", (int64_t)run_id);
	if (s == NULL || sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return -1;
	}
	rv.id = sqlite3_column_int(s, 0);
	rv.uid = (const char *)sqlite3_column_text(s, 1);
	rv.plan = (const char *)sqlite3_column_text(s, 2);
	rv.name = (const char *)sqlite3_column_text(s, 3);
	rv.state = (const char *)sqlite3_column_text(s, 4);
	rv.started_ms = (uint64_t)sqlite3_column_int64(s, 5);
	rv.finished_ms = (uint64_t)sqlite3_column_int64(s, 6);
	rv.current_phase = sqlite3_column_type(s, 7) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(s, 7);
	rv.swapped = sqlite3_column_int(s, 8);
	rv.date = (const char *)sqlite3_column_text(s, 9);
	if (strcmp(rv.state, "running") == 0)
		rv.finished_ms = 0;
	o = json_object();
	json_object_set_new(o, "run", status_run_json(&rv));
	sqlite3_finalize(s);

	phases = json_array();
	s = store_query(st,
	    "SELECT idx, id, name, state, started_ms, finished_ms FROM phases "
	    "WHERE run_id = ? ORDER BY idx",
	    "i", (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		pv.id = sqlite3_column_int(s, 1);
		pv.name = (const char *)sqlite3_column_text(s, 2);
		pv.state = (const char *)sqlite3_column_text(s, 3);
		pv.started_ms = (uint64_t)sqlite3_column_int64(s, 4);
		pv.finished_ms = (uint64_t)sqlite3_column_int64(s, 5);
		po = status_phase_json(&pv);
		tasks = json_array();
		ts = store_query(st,
		    "SELECT phase, step, host, state, attempt, exit_code, "
		    "started_ms, finished_ms, error, tail FROM tasks WHERE "
		    "run_id = ? AND phase_idx = ? ORDER BY ord",
		    "ii", (int64_t)run_id, sqlite3_column_int64(s, 0));
		while (ts != NULL && sqlite3_step(ts) == SQLITE_ROW) {
			store_task_view(ts, &tv);
			if (strcmp(tv.state, "running") == 0 ||
			    strcmp(tv.state, "pending") == 0 ||
			    strcmp(tv.state, "waiting") == 0)
				tv.finished_ms = 0;
			json_array_append_new(tasks, status_task_json(&tv, 0));
		}
		sqlite3_finalize(ts);
		json_object_set_new(po, "tasks", tasks);
		json_array_append_new(phases, po);
	}
	sqlite3_finalize(s);
	json_object_set_new(o, "phases", phases);
	*out = o;
	return 0;
}

/*
 * A task's whole output of one attempt (0: the last) into b. -1 with *err
 * when there is no such task or attempt.
 */
int
store_task_output(struct store *st, int run_id, int phase, const char *step,
    const char *host, int attempt, struct buf *b, char **err)
{
	sqlite3_stmt *s;
	int n = 0, sensitive = 0, got;
	char *h = NULL;

	s = store_query(st,
	    "SELECT DISTINCT host FROM tasks WHERE run_id = ? AND phase = ? "
	    "AND step = ? AND (? IS NULL OR host = ?)",
	    "iittt", (int64_t)run_id, (int64_t)phase, step, host, host);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		n++;
		free(h);
		h = store_col_str(s, 0);
	}
	sqlite3_finalize(s);
	if (n != 1) {
		free(h);
		if (n == 0)
			xasprintf(err, "run %d has no task %d/%s%s%s", run_id,
			    phase, step, host ? " on " : "", host ? host : "");
		else
			xasprintf(err,
			    "%d/%s ran on several hosts: name one with --host",
			    phase, step);
		return -1;
	}
	s = store_query(st,
	    "SELECT output, sensitive, attempt FROM attempts WHERE run_id = ? "
	    "AND phase = ? AND step = ? AND host = ? AND (? = 0 OR attempt = "
	    "?) ORDER BY attempt DESC LIMIT 1",
	    "iittii", (int64_t)run_id, (int64_t)phase, step, h,
	    (int64_t)attempt, (int64_t)attempt);
	got = s != NULL && sqlite3_step(s) == SQLITE_ROW;
	if (got) {
		buf_add(b, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
		sensitive = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	if (!got) {
		xasprintf(err, "%d/%s on %s has no %s attempt yet", phase, step,
		    h, attempt ? "such" : "finished");
		free(h);
		return -1;
	}
	if (sensitive) {
		xasprintf(err, "%d/%s is sensitive: its output was never kept",
		    phase, step);
		free(h);
		return -1;
	}
	free(h);
	return 0;
}

/*
 * The event log after sequence number `after` (of one run, or all with
 * run_id 0), oldest first: cb(arg, seq, ts_ms, type, run, data). *last is
 * the last sequence number seen.
 */
int
store_events(struct store *st, int64_t after, int run_id,
    void (*cb)(void *, int64_t, uint64_t, const char *, int, const char *),
    void *arg, int64_t *last)
{
	sqlite3_stmt *s;

	*last = after;
	s = store_query(st,
	    "SELECT seq, ts_ms, type, run_id, data FROM events WHERE seq > ? "
	    "AND (? = 0 OR run_id = ?) ORDER BY seq",
	    "iii", after, (int64_t)run_id, (int64_t)run_id);
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*last = sqlite3_column_int64(s, 0);
		cb(arg, *last, (uint64_t)sqlite3_column_int64(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    sqlite3_column_int(s, 3),
		    (const char *)sqlite3_column_text(s, 4));
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * Every host of a run with the key its name expects now — after the swap,
 * the other machine's: cb(arg, name, address, port, key line or NULL).
 */
int
store_known_hosts(struct store *st, int run_id,
    void (*cb)(void *, const char *, const char *, int, const char *),
    void *arg)
{
	sqlite3_stmt *s;

	s = store_query(st,
	    "SELECT name, address, port, expected_key FROM hosts WHERE "
	    "run_id = ? ORDER BY name",
	    "i", (int64_t)run_id);
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    sqlite3_column_int(s, 2),
		    (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
	return 0;
}

/* The endpoint's URL a run's daemon wrote, or NULL (allocated). */
char *
store_run_url(struct store *st, int run_id)
{
	sqlite3_stmt *s;
	char *url = NULL;

	s = store_query(
	    st, "SELECT url FROM runs WHERE id = ?", "i", (int64_t)run_id);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		url = store_col_str(s, 0);
	sqlite3_finalize(s);
	return url;
}

/* The sequence number of the newest event (0: none). */
int64_t
store_last_seq(struct store *st)
{
	return store_int(st, "SELECT coalesce(max(seq), 0) FROM events", 0);
}

/* How many tasks of a run are in a state. */
int
store_task_count(struct store *st, int run_id, const char *state)
{
	sqlite3_stmt *s;
	int n = 0;

	s = store_query(st,
	    "SELECT count(*) FROM tasks WHERE run_id = ? AND state = ?", "it",
	    (int64_t)run_id, state);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}
