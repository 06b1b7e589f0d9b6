/*
 * Unit tests of the state file on a real SQLite file: a run recorded and
 * read back as the status JSON, transitions restored into a fresh run,
 * actions released only after their writes are committed, the one-writer
 * lock (held by another process), and files that are not state files.
 */
#include <sys/wait.h>

#include <signal.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "buf.h"
#include "diag.h"
#include "plan.h"
#include "run-record.h"
#include "run-start.h"
#include "run.h"
#include "status-live.h"
#include "status.h"
#include "store.h"
#include "task.h"

static const char plan_text[] =
    "hostswap: 1\n"
    "name: t\n"
    "inventory:\n"
    "  hosts:\n"
    "    ika: {address: 127.0.0.21, user: a, host_key: \"ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIKEIed+ONHJWxOdmtTBtXu4NeVAM9O2TL4u2u1e4mo4x"
    "\"}\n"
    "    tako: {address: 127.0.0.22, port: 2200, user: a}\n"
    "phases:\n"
    "  - id: 1\n"
    "    name: one\n"
    "    steps:\n"
    "      - {id: a, on: [ika, tako], run: 'true'}\n"
    "  - id: 2\n"
    "    name: two\n"
    "    steps:\n"
    "      - {id: b, on: ika, run: 'true', idempotent: false}\n";

struct fixture {
	char dir[64];
	char path[96];
	struct plan *plan;
	struct run *run;
	struct store *st;
	uv_loop_t loop;
};

/* A plan, a run of it (keys from the pin only), a fresh state file. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct run_opts ro;
	struct diag d;
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/hostswap-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/state.db", f->dir);
	diag_init(&d);
	assert_int_equal(
	    plan_parse("t.yaml", plan_text, strlen(plan_text), &f->plan, &d),
	    PLAN_OK);
	diag_free(&d);
	uv_loop_init(&f->loop);
	memset(&ro, 0, sizeof ro);
	ro.from_phase = ro.to_phase = -1;
	ro.known_hosts = "/nonexistent";
	assert_int_equal(run_new(&f->loop, f->plan, &ro, &f->run, &err), 0);
	assert_int_equal(store_open(f->path, STORE_WRITE, &f->st, &err), 0);
	*state = f;
	return 0;
}

/* Remove everything the fixture made. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	run_free(f->run);
	store_free(f->st);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	plan_free(f->plan);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The string at a JSON path of objects and array indexes. */
static const char *
json_path_str(json_t *o, const char *a, size_t i, const char *b, size_t j,
    const char *key)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL) {
		v = json_object_get(json_array_get(v, i), b);
		v = json_array_get(v, j);
	}
	return json_string_value(json_object_get(v, key));
}

/* A run recorded at creation reads back as the status JSON. */
static void
test_create_and_status(void **state)
{
	struct fixture *f = *state;
	struct store_run_info ri;
	json_t *o;

	f->run->store = f->st;
	f->run->started_ms = 1764950400000ULL; /* 2025-12-05T16:00:00Z */
	run_record_create(f->st, f->run, "aa", NULL, "aa", NULL);
	assert_int_equal(f->run->id, 1);
	assert_int_equal(store_newest_run(f->st, &ri), STORE_OK);
	assert_string_equal(ri.state, "running");
	assert_true(store_run_unfinished(&ri));
	store_run_info_free(&ri);
	assert_int_equal(store_status_json(f->st, 1, &o), 0);
	assert_string_equal(
	    json_path_str(o, "run", 0, NULL, 0, "state"), "running");
	assert_string_equal(json_path_str(o, "run", 0, NULL, 0, "started_at"),
	    "2025-12-05T16:00:00.000Z");
	assert_true(json_is_null(
	    json_object_get(json_object_get(o, "run"), "finished_at")));
	assert_int_equal(json_array_size(json_object_get(o, "phases")), 2);
	assert_string_equal(
	    json_path_str(o, "phases", 0, "tasks", 1, "host"), "tako");
	assert_string_equal(
	    json_path_str(o, "phases", 0, "tasks", 1, "state"), "pending");
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_array_get(
		    json_object_get(
			json_array_get(json_object_get(o, "phases"), 0),
			"tasks"),
		    0),
		"attempt")),
	    0);
	json_decref(o);
}

/* A task's transition as the engine's state-file listener writes it. */
static void
write_task(struct store *st, const struct run_task *t)
{
	struct store_task_ref ref;
	struct status_task v;

	run_task_store_ref(t, &ref);
	status_view_task(t, &v);
	store_task(st, &ref, &v, t->record);
}

/* A phase's transition, likewise. */
static void
write_phase(struct store *st, const struct run_phase *ph)
{
	struct status_phase v;

	status_view_phase(ph, &v);
	store_phase(st, ph->run->id, ph->index, &v);
}

/* Transitions written by the engine are what a resume restores. */
static void
test_restore(void **state)
{
	struct fixture *f = *state;
	struct run_task *t;
	struct run *r2;
	struct run_opts ro;
	char *err = NULL;

	f->run->store = f->st;
	run_record_create(f->st, f->run, "aa", NULL, "aa", NULL);
	t = &f->run->phases[0].tasks[0];
	t->state = TASK_SUCCEEDED;
	t->attempt = 2;
	t->exit_code = 0;
	write_task(f->st, t);
	store_capture(f->st, f->run->id, "k", "ika", "captured");
	f->run->phases[0].state = PHASE_SUCCEEDED;
	write_phase(f->st, &f->run->phases[0]);
	store_commit(f->st);

	memset(&ro, 0, sizeof ro);
	ro.resume = 1;
	assert_int_equal(run_new(&f->loop, f->plan, &ro, &r2, &err), 0);
	assert_int_equal(run_record_restore(f->st, r2, &err), 0);
	assert_string_equal(r2->uid, f->run->uid);
	assert_string_equal(r2->date, f->run->date);
	assert_int_equal(r2->phases[0].state, PHASE_SUCCEEDED);
	assert_int_equal(r2->phases[0].tasks[0].state, TASK_SUCCEEDED);
	assert_int_equal(r2->phases[0].tasks[0].attempt, 2);
	assert_int_equal(r2->phases[0].tasks[1].state, TASK_PENDING);
	/* The pinned key comes back from the file; the unknown stays so. */
	assert_true(r2->hosts[0].has_key);
	assert_string_equal(r2->hosts[0].machine_key.type, "ssh-ed25519");
	assert_false(r2->hosts[1].has_key);
	assert_int_equal(r2->ncaptures, 1);
	assert_string_equal(r2->captures[0].value, "captured");
	run_free(r2);
}

static int order[4], norder;

/* An action: note its turn, and whether its write is committed. */
static void
record_cb(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
}

/*
 * On a loop, an action runs after its writes are committed and the WAL
 * synced, in order.
 */
static void
test_after_commit(void **state)
{
	struct fixture *f = *state;
	unsigned long before;
	sqlite3 *db;
	sqlite3_stmt *s;
	int rows = -1;

	store_attach(f->st, &f->loop);
	f->run->store = f->st;
	run_record_create(f->st, f->run, "aa", NULL, "aa", NULL);
	before = store_commits(f->st);
	norder = 0;
	f->run->phases[0].tasks[0].state = TASK_RUNNING;
	write_task(f->st, &f->run->phases[0].tasks[0]);
	store_after_commit(f->st, record_cb, (void *)1);
	f->run->phases[0].tasks[1].state = TASK_RUNNING;
	write_task(f->st, &f->run->phases[0].tasks[1]);
	store_after_commit(f->st, record_cb, (void *)2);
	assert_int_equal(norder, 0); /* never inside the call */
	/* Another connection sees nothing yet: not committed. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
			     "SELECT count(*) FROM tasks WHERE state = "
			     "'running'",
			     -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 0);
	sqlite3_reset(s);
	/* The commit, then the WAL's sync in the thread pool, then both. */
	while (norder < 2 && uv_run(&f->loop, UV_RUN_ONCE) != 0)
		;
	assert_int_equal(norder, 2);
	assert_int_equal(store_syncs(f->st), 1); /* off the loop, once */
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(store_commits(f->st), before + 1); /* one for both */
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	rows = sqlite3_column_int(s, 0);
	assert_int_equal(rows, 2);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* One writer: another process holding the lock is named by its pid. */
static void
test_lock(void **state)
{
	struct fixture *f = *state;
	struct store *other;
	char *err = NULL, want[64];
	int ready[2], status;
	pid_t pid;
	char c;

	/* ready[]: the child says it holds the lock; it then waits for
	 * its end. */
	assert_int_equal(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		struct store *mine;
		char *e = NULL;

		close(ready[0]);
		if (store_open(f->path, STORE_WRITE, &mine, &e) != 0 ||
		    store_lock(mine, &e) != 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(store_open(f->path, STORE_WRITE, &other, &err), 0);
	assert_int_equal(store_lock(other, &err), STORE_HELD);
	snprintf(want, sizeof want, "hostswap pid %ld holds it", (long)pid);
	assert_non_null(strstr(err, want));
	free(err);
	store_free(other);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* The lock goes with its holder, however it dies. */
	assert_int_equal(store_open(f->path, STORE_WRITE, &other, &err), 0);
	assert_int_equal(store_lock(other, &err), STORE_OK);
	store_free(other);
}

/* Files that are not state files are refused and left alone. */
static void
test_not_a_state_file(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	char path[128], *err = NULL;
	FILE *fp;
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/junk.db", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("this is not a database, not even close to one............"
	      "..............................................................",
	    fp);
	fclose(fp);
	assert_int_equal(store_open(path, STORE_WRITE, &st, &err), STORE_ERROR);
	assert_non_null(strstr(err, "not a hostswap state file"));
	free(err);
	snprintf(path, sizeof path, "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE x (a)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, STORE_WRITE, &st, &err), STORE_ERROR);
	assert_non_null(strstr(err, "another program's database"));
	free(err);
	snprintf(path, sizeof path, "%s/missing.db", f->dir);
	assert_int_equal(store_open(path, STORE_READ, &st, &err), STORE_NOFILE);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_create_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_a_state_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
