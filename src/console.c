/*
 * console.c: what `run` prints on stderr: one line per task, phase and run
 * transition (or one JSON object a line with --log-format json), the tail
 * of a failed task's output, and on a terminal a live line showing the
 * current phase that is redrawn below the log. Nothing it prints shows a
 * secret's value: notes (manual texts among them), errors and output
 * tails go through log_scrub() (SPEC v3 §2).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "console.h"
#include "log.h"
#include "plan.h"
#include "run.h"
#include "store.h"

/* How many lines of a failed task's output the log shows. */
#define CONSOLE_FAIL_LINES 10

static int console_live = -1; /* stderr is a terminal (text format) */
static int console_live_shown;

/* Local HH:MM:SS for text lines. */
static void
console_clock(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(out, len, "%H:%M:%S", &tm);
}

/*
 * The live line is drawn with escape codes: only on a terminal that
 * understands them, and not for someone who asked for none (NO_COLOR set
 * and not empty, as no-color.org says; TERM unset or dumb).
 */
static int
console_escapes_ok(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(STDERR_FILENO) && (nc == NULL || nc[0] == '\0') &&
	    term != NULL && term[0] != '\0' && strcmp(term, "dumb") != 0;
}

/* Erase the live line before printing a log line. */
static void
console_clear_live(const struct run *r)
{
	if (console_live == -1)
		console_live =
		    r->opts.log_format == LOG_TEXT && console_escapes_ok();
	if (console_live && console_live_shown) {
		fputs("\r\033[K", stderr);
		console_live_shown = 0;
	}
}

/* Redraw the live line: the current phase and its tasks by state. */
static void
console_draw_live(const struct run *r)
{
	const struct run_phase *ph;
	size_t i, n[TASK_NSTATES] = { 0 };

	if (!console_live || r->current >= r->nphases ||
	    r->state != RUN_RUNNING)
		return;
	ph = &r->phases[r->current];
	for (i = 0; i < ph->ntasks; i++)
		n[ph->tasks[i].state]++;
	fprintf(stderr,
	    "\033[7m phase %d (%zu/%zu) %s: %zu running, %zu done, "
	    "%zu failed, %zu waiting \033[0m",
	    r->plan->phases[ph->index].id, ph->index + 1, r->nphases,
	    r->plan->phases[ph->index].name, n[TASK_RUNNING],
	    n[TASK_SUCCEEDED] + n[TASK_SKIPPED], n[TASK_FAILED],
	    n[TASK_WAITING]);
	console_live_shown = 1;
	fflush(stderr);
}

/* Print one JSON object as a line. */
static void
console_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		fprintf(stderr, "%s\n", s);
		free(s);
	}
	json_decref(o);
	fflush(stderr);
}

/*
 * Print a host's text to the operator's terminal: control characters
 * (an escape sequence that would move the cursor, retitle the window or
 * hide a line) are shown as ^X, not obeyed; tabs and UTF-8 pass.
 */
static void
console_put_text(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fputc('^', stderr);
			fputc(c == 0x7f ? '?' : c + '@', stderr);
		} else
			fputc(c, stderr);
	}
}

/* Print the last lines of a failed task's output. */
static void
console_tail(const struct run_task *t)
{
	const char *all = t->out.all.data, *p;
	size_t len, lines = 0;
	char *tail;

	if (all == NULL || (len = t->out.all.len) == 0)
		return;
	p = all + len;
	if (p > all && p[-1] == '\n')
		p--;
	while (p > all && lines < CONSOLE_FAIL_LINES) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	tail = log_scrub(p);
	for (p = tail; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		fputs("    | ", stderr);
		console_put_text(p, (size_t)n);
		fputc('\n', stderr);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	free(tail);
}

/* A task changed state. */
void
console_task(const struct run *r, const struct run_task *t)
{
	int phase = r->plan->phases[t->phase->index].id;
	char ts[64], clk[16], *error;
	json_t *o;

	error = t->error != NULL ? log_scrub(t->error) : NULL;
	if (r->opts.log_format == LOG_JSON) {
		clock_rfc3339(ts, sizeof ts, clock_now_ms());
		o = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:i}", "ts",
		    ts, "event", "task", "run", r->id, "phase", phase, "step",
		    t->step->id, "host", t->host, "state",
		    task_state_names[t->state], "attempt", t->attempt);
		if (t->exit_code >= 0)
			json_object_set_new(
			    o, "exit_code", json_integer(t->exit_code));
		if (error != NULL &&
		    (t->state == TASK_FAILED || t->state == TASK_INTERRUPTED))
			json_object_set_new(o, "error", json_string(error));
		console_json(o);
		free(error);
		return;
	}
	console_clear_live(r);
	console_clock(clk, sizeof clk);
	fprintf(stderr, "%s phase %d %s@%s: %s", clk, phase, t->step->id,
	    t->host, task_state_names[t->state]);
	if (t->state == TASK_RUNNING)
		fprintf(stderr, " (attempt %d)", t->attempt);
	if (t->state == TASK_SUCCEEDED && t->exit_code >= 0)
		fprintf(stderr, " (exit %d, %.1f s)", t->exit_code,
		    (double)(t->finished_ms - t->started_ms) / 1000.0);
	if ((t->state == TASK_FAILED || t->state == TASK_INTERRUPTED) &&
	    error != NULL)
		fprintf(stderr, ": %s", error);
	free(error);
	fputc('\n', stderr);
	if (t->state == TASK_FAILED)
		console_tail(t);
	console_draw_live(r);
	fflush(stderr);
}

/* A phase changed state. */
void
console_phase(const struct run *r, const struct run_phase *ph)
{
	const struct phase *p = &r->plan->phases[ph->index];
	char ts[64], clk[16];
	json_t *o;

	if (r->opts.log_format == LOG_JSON) {
		clock_rfc3339(ts, sizeof ts, clock_now_ms());
		o = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "ts", ts,
		    "event", "phase", "run", r->id, "phase", p->id, "name",
		    p->name, "state", phase_state_names[ph->state]);
		console_json(o);
		return;
	}
	console_clear_live(r);
	console_clock(clk, sizeof clk);
	if (ph->state == PHASE_RUNNING)
		fprintf(stderr, "%s phase %d (%s): running, %zu task%s\n", clk,
		    p->id, p->name, ph->ntasks, ph->ntasks == 1 ? "" : "s");
	else if (ph->state == PHASE_SKIPPED)
		fprintf(
		    stderr, "%s phase %d (%s): skipped\n", clk, p->id, p->name);
	else
		fprintf(stderr, "%s phase %d (%s): %s in %.1f s\n", clk, p->id,
		    p->name, phase_state_names[ph->state],
		    (double)(ph->finished_ms - ph->started_ms) / 1000.0);
	console_draw_live(r);
	fflush(stderr);
}

/* How many failed tasks the closing advice names one by one. */
#define CONSOLE_NEXT_TASKS 10

/* A word as the shell reads it: quoted if it holds anything unusual. */
static void
console_word(const char *w)
{
	const char *p;

	if (w[0] != '\0' &&
	    strspn(w,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_./:@%+=,-") == strlen(w)) {
		fputs(w, stderr);
		return;
	}
	fputc('\'', stderr);
	for (p = w; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", stderr);
		else
			fputc(*p, stderr);
	}
	fputc('\'', stderr);
}

/* " --state FILE" when the state file is not the default one. */
static void
console_state_arg(const struct run *r)
{
	const char *path = r->store != NULL ? store_path(r->store) : NULL;

	if (path == NULL || strcmp(path, STORE_DEFAULT) == 0)
		return;
	fputs(" --state ", stderr);
	console_word(path);
}

/* One task the operator must look at: what happened and the command. */
static void
console_next_task(const struct run *r, const struct run_task *t)
{
	int phase = r->plan->phases[t->phase->index].id;
	char *error = t->error != NULL ? log_scrub(t->error) : NULL;

	if (t->state == TASK_FAILED) {
		fprintf(stderr, "  failed: %d/%s on %s%s%s\n", phase,
		    t->step->id, t->host, error != NULL ? ": " : "",
		    error != NULL ? error : "");
		fprintf(stderr, "    its output: hostswap log %d/%s --host ",
		    phase, t->step->id);
	} else {
		fprintf(stderr,
		    "  to decide: %d/%s on %s was interrupted and is not "
		    "idempotent; check the host, then\n",
		    phase, t->step->id, t->host);
		fprintf(stderr, "    hostswap mark %d/%s --host ", phase,
		    t->step->id);
	}
	console_word(t->host);
	if (t->state != TASK_FAILED)
		fputs(" succeeded|failed|retry", stderr);
	console_state_arg(r);
	fputc('\n', stderr);
	free(error);
}

/*
 * After a run that did not succeed, what to do next: each failed task
 * with the command that shows its output, each interrupted task that
 * needs a decision with the `mark` command, and the `resume` that goes
 * on. Text format only: JSON consumers have every transition already.
 */
static void
console_next(const struct run *r)
{
	const struct run_task *t;
	size_t i, j, shown = 0, failed = 0, undecided = 0;

	if (r->state == RUN_SUCCEEDED || r->opts.dry_run)
		return;
	for (i = 0; i < r->nphases; i++) {
		for (j = 0; j < r->phases[i].ntasks; j++) {
			t = &r->phases[i].tasks[j];
			if (t->state == TASK_FAILED)
				failed++;
			else if (t->state == TASK_INTERRUPTED &&
			    r->state == RUN_WAITING)
				undecided++;
			else
				continue;
			if (shown++ < CONSOLE_NEXT_TASKS)
				console_next_task(r, t);
		}
	}
	if (shown > CONSOLE_NEXT_TASKS) {
		fprintf(stderr, "  and %zu more: hostswap status",
		    shown - CONSOLE_NEXT_TASKS);
		console_state_arg(r);
		fputc('\n', stderr);
	}
	if (undecided > 0)
		fputs("  then: hostswap resume", stderr);
	else if (failed > 0)
		fputs("  once fixed, re-run the failed tasks and go on: "
		      "hostswap resume",
		    stderr);
	else
		fputs("  go on: hostswap resume", stderr);
	console_state_arg(r);
	fputc('\n', stderr);
}

/* The run started or ended. */
void
console_run(const struct run *r)
{
	char ts[64], clk[16];
	json_t *o;

	if (r->opts.log_format == LOG_JSON) {
		clock_rfc3339(ts, sizeof ts, clock_now_ms());
		o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "ts", ts,
		    "event", "run", "run", r->id, "uid", r->uid, "name",
		    r->plan->name, "state", run_state_names[r->state]);
		console_json(o);
		return;
	}
	console_clear_live(r);
	console_clock(clk, sizeof clk);
	if (r->finished_ms == 0) {
		fprintf(stderr,
		    "%s run %d (%s) of %s: started, uid %s, date "
		    "%s\n",
		    clk, r->id, r->plan->name, r->plan->path, r->uid, r->date);
	} else {
		fprintf(stderr, "%s run %d (%s): %s in %.1f s\n", clk, r->id,
		    r->plan->name, run_state_names[r->state],
		    (double)(r->finished_ms - r->started_ms) / 1000.0);
		console_next(r);
	}
	fflush(stderr);
}

/* A note for the operator (a retry, an accepted key, a lost host). */
void
console_note(const struct run *r, const char *fmt, ...)
{
	char raw[2048], *msg, ts[40], clk[16];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	msg = log_scrub(raw);
	if (r->opts.log_format == LOG_JSON) {
		clock_rfc3339(ts, sizeof ts, clock_now_ms());
		o = json_pack("{s:s, s:s, s:i, s:s}", "ts", ts, "event", "note",
		    "run", r->id, "msg", msg);
		console_json(o);
	} else {
		console_clear_live(r);
		console_clock(clk, sizeof clk);
		fprintf(stderr, "%s %s\n", clk, msg);
		console_draw_live(r);
		fflush(stderr);
	}
	free(msg);
}
