/*
 * store-decide.c: operators' decisions that travel through the state file
 * (the decisions table), for a daemon without an HTTP endpoint (`--listen
 * none`). `hostswap approve|reject|abort --state FILE` adds a decision
 * while the daemon holds the file; the daemon takes it (inbox.c), writes
 * what came of it, and the command, which waits for that, reports it.
 *
 * The table is created by the daemon that takes decisions, never by a
 * command: an older hostswap neither reads nor writes it, so the schema
 * version stays and older readers keep working; a file without it holds
 * no daemon that listens this way. A decision nobody took is withdrawn by
 * the command that gave it, so nothing decided earlier ever reaches a
 * later daemon (a resume asks again).
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "store.h"
#include "store-int.h"
#include "xmalloc.h"

static const char store_decide_schema[] =
    "CREATE TABLE IF NOT EXISTS decisions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER NOT NULL,"
    " action TEXT NOT NULL, phase INTEGER, step TEXT, host TEXT,"
    " by TEXT, asked_ms INTEGER NOT NULL, taken_ms INTEGER,"
    " outcome TEXT)";

/* The daemon takes decisions from the state file: make their table. */
void
store_decide_listen(struct store *st)
{
	store_write(st, store_decide_schema, "");
	store_commit(st);
}

/*
 * Whether a daemon holds the state file at path (its lock is taken),
 * with its pid in *pid when one is named.
 */
int
store_decide_held(const char *path, long *pid)
{
	char *lock, buf[32];
	ssize_t n;
	int fd, held = 0;

	*pid = 0;
	xasprintf(&lock, "%s.lock", path);
	fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	free(lock);
	if (fd == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1)
		held = errno == EWOULDBLOCK;
	if (held && (n = read(fd, buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		*pid = strtol(buf, NULL, 10);
	}
	close(fd);
	return held;
}

/* Run SQL on the command's side; -1 with *err. */
static int
store_decide_exec(struct store *st, const char *sql, char **err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	xasprintf(err, "%s: %s", store_path(st), sqlite3_errmsg(st->db));
	return -1;
}

/*
 * A command adds a decision (action "approve", "reject" or "abort"; phase,
 * step and host name the task, except for abort). The task must exist and
 * wait for a decision. Returns the decision's id, 0 with *err when the
 * file holds no daemon that takes decisions, or -1 with *err.
 */
int64_t
store_decide_add(struct store *st, int run_id, const char *action, int phase,
    const char *step, const char *host, const char *by, char **err)
{
	sqlite3_stmt *s;
	char *state = NULL;
	int64_t id = -1;

	*err = NULL;
	if (store_int(st,
		"SELECT count(*) FROM sqlite_master WHERE name = 'decisions'",
		0) == 0) {
		xasprintf(err,
		    "%s: its daemon takes no decision through the state file",
		    store_path(st));
		return 0;
	}
	if (store_decide_exec(st, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	if (step != NULL) {
		s = store_query(st,
		    "SELECT state FROM tasks WHERE run_id = ? AND phase = ? "
		    "AND step = ? AND host = ?",
		    "iitt", (int64_t)run_id, (int64_t)phase, step, host);
		if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
			state = store_col_str(s, 0);
		sqlite3_finalize(s);
		if (state == NULL) {
			xasprintf(err, "run %d has no task %d/%s on %s", run_id,
			    phase, step, host);
			goto out;
		}
		if (strcmp(state, "waiting") != 0) {
			xasprintf(err,
			    "%d/%s on %s is %s: it is not waiting for a "
			    "decision",
			    phase, step, host, state);
			goto out;
		}
	}
	s = store_query(st,
	    "INSERT INTO decisions (run_id, action, phase, step, host, by, "
	    "asked_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "itnttti", (int64_t)run_id, action, step != NULL ? phase : -1, step,
	    host, by, (int64_t)clock_now_ms());
	if (s == NULL || sqlite3_step(s) != SQLITE_DONE) {
		xasprintf(
		    err, "%s: %s", store_path(st), sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		goto out;
	}
	sqlite3_finalize(s);
	id = sqlite3_last_insert_rowid(st->db);
out:
	free(state);
	if (store_decide_exec(
		st, id > 0 ? "COMMIT" : "ROLLBACK", id > 0 ? err : NULL) == -1)
		id = -1;
	return id;
}

/*
 * What came of a decision: 1 with *outcome (allocated) once the daemon
 * took it, 0 while it waits.
 */
int
store_decide_outcome(struct store *st, int64_t id, char **outcome)
{
	sqlite3_stmt *s;
	int taken = 0;

	*outcome = NULL;
	s = store_query(st,
	    "SELECT outcome FROM decisions WHERE id = ? AND taken_ms IS NOT "
	    "NULL",
	    "i", id);
	if (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		*outcome = store_col_str(s, 0);
		taken = 1;
	}
	sqlite3_finalize(s);
	return taken;
}

/*
 * Withdraw a decision the daemon has not taken. 1 if withdrawn, 0 if the
 * daemon took it meanwhile.
 */
int
store_decide_withdraw(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	int n = 0;

	s = store_query(st,
	    "DELETE FROM decisions WHERE id = ? AND taken_ms IS NULL", "i", id);
	if (s != NULL && sqlite3_step(s) == SQLITE_DONE)
		n = sqlite3_changes(st->db);
	sqlite3_finalize(s);
	return n > 0;
}

/*
 * The daemon takes the decisions given for its run since the last time:
 * cb acts on each and says what came of it ("done", or why not), which is
 * written for the command that waits.
 */
void
store_decide_take(struct store *st, int run_id,
    const char *(*cb)(
	void *, const char *, int, const char *, const char *, const char *),
    void *arg)
{
	struct pending {
		int64_t id;
		char *action, *step, *host, *by;
		int phase;
	} *p = NULL;
	size_t n = 0, i;
	sqlite3_stmt *s;
	const char *outcome;

	s = store_query(st,
	    "SELECT id, action, phase, step, host, by FROM decisions WHERE "
	    "run_id = ? AND taken_ms IS NULL ORDER BY id",
	    "i", (int64_t)run_id);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		p = xreallocarray(p, n + 1, sizeof *p);
		p[n].id = sqlite3_column_int64(s, 0);
		p[n].action = store_col_str(s, 1);
		p[n].phase = sqlite3_column_int(s, 2);
		p[n].step = store_col_str(s, 3);
		p[n].host = store_col_str(s, 4);
		p[n].by = store_col_str(s, 5);
		n++;
	}
	sqlite3_finalize(s);
	for (i = 0; i < n; i++) {
		outcome = cb(arg, p[i].action, p[i].phase, p[i].step, p[i].host,
		    p[i].by);
		store_write(st,
		    "UPDATE decisions SET taken_ms = ?, outcome = ? WHERE "
		    "id = ?",
		    "iti", (int64_t)clock_now_ms(), outcome, p[i].id);
		free(p[i].action);
		free(p[i].step);
		free(p[i].host);
		free(p[i].by);
	}
	free(p);
	if (n > 0)
		store_commit(st);
}
