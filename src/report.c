/*
 * report.c: the night's report (hostswap report) — a run read from the
 * state file (struct report) written as a document an operator pastes into
 * the lab's wiki: GitHub-flavoured Markdown, or one self-contained HTML
 * page. The sections are written once with report-doc.c's blocks, which
 * each format implements and which escape every text; report-svg.c draws
 * the timeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "hostkey.h"
#include "report.h"
#include "report-int.h"
#include "xmalloc.h"

/* Lines shown of a failed attempt's output, and of a check's evidence. */
#define REPORT_TAIL_LINES     20
#define REPORT_EVIDENCE_LINES 60

/* How much of a manual step's instructions the approvals table shows. */
#define REPORT_ASK_MAX 300

/* The duration of a run, phase or attempt that may still be going on. */
static void
report_elapsed(
    const struct report *rp, char *out, size_t len, uint64_t from, uint64_t to)
{
	if (from != 0 && to == 0) {
		report_span(out, len, from, rp->now_ms);
		if (out[0] != '\0')
			strncat(out, " so far", len - strlen(out) - 1);
	} else
		report_span(out, len, from, to);
}

/*
 * The outage as the report states it: its length (so far, while it
 * runs) and which steps bound it, when it started and when it ended.
 */
static void
report_outage_facts(const struct report *rp, char *len, size_t lenz, char *from,
    size_t fromz, char *to, size_t toz)
{
	char took[64];

	report_time(from, fromz, rp->outage_start_ms);
	report_time(to, toz, rp->outage_end_ms);
	if (rp->outage_start_ms == 0) {
		snprintf(len, lenz,
		    "not started (it starts with %s and ends when %s succeeds)",
		    rp->outage_from, rp->outage_to);
		snprintf(from, fromz, "not yet");
		snprintf(to, toz, "not yet");
		return;
	}
	report_elapsed(
	    rp, took, sizeof took, rp->outage_start_ms, rp->outage_end_ms);
	snprintf(len, lenz, "%s%s (from the start of %s to the success of %s)",
	    took, rp->outage_end_ms == 0 ? ", still running" : "",
	    rp->outage_from, rp->outage_to);
	if (rp->outage_end_ms == 0)
		snprintf(
		    to, toz, "not yet (%s has not succeeded)", rp->outage_to);
}

/* The title and the run's facts: plan, state, times, the swap. */
static void
report_summary(struct report_doc *d)
{
	const struct report *rp = d->rp;
	char run[128], started[40], finished[40], took[64], made[40];
	char phases[64], resumes[32], outage[256], o_from[80], o_to[80];
	const char *kv[40];
	size_t n = 0;

	report_doc_h(d, 1, "hostswap report: %s, run %d", rp->name, rp->id);
	snprintf(run, sizeof run, "%d (uid %s)", rp->id, rp->uid);
	report_time(started, sizeof started, rp->started_ms);
	report_time(finished, sizeof finished, rp->finished_ms);
	if (rp->finished_ms == 0)
		snprintf(finished, sizeof finished, "not yet (%s)", rp->state);
	report_elapsed(rp, took, sizeof took, rp->started_ms, rp->finished_ms);
	report_time(made, sizeof made, rp->now_ms);
	if (rp->from_phase == -1 && rp->to_phase == -1)
		snprintf(phases, sizeof phases, "all");
	else if (rp->to_phase == -1)
		snprintf(
		    phases, sizeof phases, "from phase %d", rp->from_phase);
	else if (rp->from_phase == -1)
		snprintf(phases, sizeof phases, "up to phase %d", rp->to_phase);
	else
		snprintf(phases, sizeof phases, "%d to %d", rp->from_phase,
		    rp->to_phase);
	snprintf(resumes, sizeof resumes, "%d", rp->resumes);
#define FACT(k, v) (kv[n++] = (k), kv[n++] = (v))
	FACT("Plan", rp->name);
	FACT("Run", run);
	FACT("State", rp->state);
	FACT("Started", started);
	FACT("Finished", finished);
	FACT("Duration", took);
	FACT("run.date", rp->date);
	FACT("Swapped", rp->swapped ? "yes" : "no");
	FACT("Resumes", resumes);
	FACT("Phases", phases);
	FACT("Plan file", rp->plan_path);
	FACT("Plan SHA-256", rp->plan_sha256);
	FACT("Inventory",
	    rp->inventory_path ? rp->inventory_path
			       : "the plan's own inventory");
	FACT("Inventory SHA-256", rp->inventory_sha256);
	if (rp->outage_from != NULL && rp->outage_to != NULL) {
		report_outage_facts(rp, outage, sizeof outage, o_from,
		    sizeof o_from, o_to, sizeof o_to);
		FACT("Outage", outage);
		FACT("Outage started", o_from);
		FACT("Outage ended", o_to);
	}
	FACT("Report made", made);
#undef FACT
	report_doc_facts(d, n / 2, kv);
}

/* Whether any task of the run ran on the controller. */
static int
report_has_local(const struct report *rp)
{
	size_t i, j;

	for (i = 0; i < rp->nphases; i++)
		for (j = 0; j < rp->phases[i].ntasks; j++)
			if (strcmp(rp->phases[i].tasks[j].host, "local") == 0)
				return 1;
	return 0;
}

/* The hosts and the run's variables. */
static void
report_hosts(struct report_doc *d)
{
	static const char *const heads[] = { "Host", "Address", "Port", "User",
		"Key from", "Swapped", NULL };
	static const char *const vheads[] = { "Variable", "Value", NULL };
	const struct report *rp = d->rp;
	const struct report_host *h;
	const char *cells[6], *key;
	char port[16];
	json_t *vars, *v;
	size_t i;

	report_doc_h(d, 2, "Hosts");
	report_doc_table(d, heads);
	for (i = 0; i < rp->nhosts; i++) {
		h = &rp->hosts[i];
		snprintf(port, sizeof port, "%d", h->port);
		cells[0] = h->name;
		cells[1] = h->address;
		cells[2] = port;
		cells[3] = h->user;
		cells[4] = h->key_source;
		cells[5] = h->swapped ? "yes" : "no";
		report_doc_row(d, 6, cells);
	}
	if (report_has_local(rp)) {
		cells[0] = "local";
		cells[1] = "the controller";
		cells[2] = cells[4] = cells[5] = NULL;
		cells[3] = "the daemon's user";
		report_doc_row(d, 6, cells);
	}
	report_doc_table_end(d);

	vars = rp->vars ? json_loads(rp->vars, 0, NULL) : NULL;
	if (json_object_size(vars) > 0) {
		report_doc_p(d, NULL,
		    "The run's variables (plan, then inventory; a secret "
		    "shows as its placeholder):");
		report_doc_table(d, vheads);
		json_object_foreach(vars, key, v)
		{
			cells[0] = key;
			cells[1] =
			    json_is_string(v) ? json_string_value(v) : "";
			report_doc_row(d, 2, cells);
		}
		report_doc_table_end(d);
	}
	json_decref(vars);
}

/* The timeline: inline SVG, or (Markdown) a link to the file beside. */
static void
report_timeline(struct report_doc *d)
{
	char started[40];

	report_doc_h(d, 2, "Timeline");
	report_time(started, sizeof started, d->rp->started_ms);
	report_doc_p(d, NULL,
	    "One row per host (tasks that ran at once side by side); a bar "
	    "per task attempt from its start to its end, coloured by its "
	    "outcome; a dashed line where each phase began%s. The axis "
	    "counts from the run's start, %s.",
	    d->rp->outage_start_ms != 0
		? "; the users' outage as a red band behind them"
		: "",
	    started);
	if (d->fmt == REPORT_MARKDOWN && d->svg_path != NULL) {
		buf_adds(d->b, "![Timeline of run ");
		buf_printf(d->b, "%d", d->rp->id);
		buf_adds(d->b, "](<");
		report_md(d->b, d->svg_path);
		buf_adds(d->b, ">)\n\n");
		return;
	}
	if (d->fmt == REPORT_HTML)
		buf_adds(d->b, "<div class=\"timeline\">\n");
	report_svg(d->rp, d->fmt == REPORT_HTML, d->b);
	buf_adds(d->b, d->fmt == REPORT_HTML ? "</div>\n" : "\n");
}

/* The text after prefix in s, or NULL. */
static const char *
report_after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A manual step's instructions, short enough for a table cell. */
static char *
report_ask(const char *s)
{
	size_t n = strlen(s);
	char *a;

	if (n <= REPORT_ASK_MAX)
		return xstrdup(s);
	n = REPORT_ASK_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--; /* not inside a character */
	a = xmalloc(n + 4);
	memcpy(a, s, n);
	memcpy(a + n, "\xe2\x80\xa6", 4); /* an ellipsis and the NUL */
	return a;
}

/* A manual step as the approvals see it. */
struct report_manual {
	const struct report_task *t;
	char *id; /* PHASE/STEP, as the notes name it */
	const char *asked;
	uint64_t since; /* asked at (waiting) */
	const char *by; /* who, from the note before the decision */
};

/* One decision: the step, what was asked, the decision, by what, when. */
static void
report_decision(struct report_doc *d, const char *id, const char *asked,
    const char *decision, const char *by, uint64_t ms)
{
	const char *cells[5];
	char when[40], *ask = report_ask(asked ? asked : "");

	report_time(when, sizeof when, ms);
	cells[0] = id;
	cells[1] = ask;
	cells[2] = decision;
	cells[3] = by;
	cells[4] = when;
	report_doc_row(d, 5, cells);
	free(ask);
}

/*
 * A note about a manual step: 2 when it was a decision (a row written), 1
 * when it asked for one (remembered for the decision's row), else 0.
 */
static int
report_manual_note(
    struct report_doc *d, struct report_manual *m, const struct report_note *n)
{
	const char *rest;
	char *p;
	int rc = 0;

	xasprintf(&p, "auto-approved %s: ", m->id);
	if ((rest = report_after(n->msg, p)) != NULL) {
		report_decision(d, m->id, rest, "approved",
		    "auto-approved (--auto-approve)", n->ts_ms);
		rc = 2;
	}
	free(p);
	xasprintf(&p, "waiting for an operator: %s: ", m->id);
	if (rc == 0 && (rest = report_after(n->msg, p)) != NULL) {
		m->asked = rest;
		m->since = n->ts_ms;
		rc = 1;
	}
	free(p);
	xasprintf(&p, "%s: decision from ", m->id);
	if (rc == 0 && (rest = report_after(n->msg, p)) != NULL) {
		m->by = rest;
		rc = 1;
	}
	free(p);
	xasprintf(&p, "%s approved by the operator", m->id);
	if (rc == 0 && strcmp(n->msg, p) == 0) {
		report_decision(d, m->id, m->asked, "approved",
		    m->by != NULL
			? m->by
			: "the operator (hostswap approve, or the status page)",
		    n->ts_ms);
		m->by = NULL;
		rc = 2;
	}
	free(p);
	xasprintf(&p, "%s rejected by the operator", m->id);
	if (rc == 0 && strcmp(n->msg, p) == 0) {
		report_decision(d, m->id, m->asked, "rejected",
		    m->by != NULL
			? m->by
			: "the operator (hostswap reject, or the status page)",
		    n->ts_ms);
		m->by = NULL;
		rc = 2;
	}
	free(p);
	return rc;
}

/*
 * Who decided what and when: every manual step's approval or rejection
 * (the audit trail's notes say whether an operator or --auto-approve did
 * it), the operator's `mark` decisions, and the steps still waiting. The
 * rows are written aside first: no table when there is none.
 */
static void
report_approvals(struct report_doc *d)
{
	static const char *const heads[] = { "Step", "Asked", "Decision", "By",
		"When", NULL };
	const struct report *rp = d->rp;
	struct report_manual *m = NULL;
	const struct report_task *t;
	struct buf *out = d->b, rows;
	const char *rest, *sp;
	size_t i, j, nm = 0, n = 0;
	char *task, *marked;
	int rc;

	for (i = 0; i < rp->nphases; i++) {
		for (j = 0; j < rp->phases[i].ntasks; j++) {
			t = &rp->phases[i].tasks[j];
			if (strcmp(t->kind, "manual") != 0)
				continue;
			m = xreallocarray(m, nm + 1, sizeof *m);
			m[nm].t = t;
			xasprintf(&m[nm].id, "%d/%s", t->phase, t->step);
			m[nm].asked = NULL;
			m[nm].since = 0;
			m[nm].by = NULL;
			nm++;
		}
	}
	buf_init(&rows);
	d->b = &rows;
	for (i = 0; i < rp->nnotes; i++) {
		for (j = 0; j < nm; j++) {
			if ((rc = report_manual_note(
				 d, &m[j], &rp->notes[i])) != 0) {
				n += rc == 2;
				break;
			}
		}
		rest = report_after(rp->notes[i].msg, "operator marked ");
		if (rest != NULL && (sp = strrchr(rest, ' ')) != NULL) {
			task = xstrndup(rest, (size_t)(sp - rest));
			xasprintf(&marked, "marked %s", sp + 1);
			report_decision(d, task, NULL, marked,
			    "the operator (hostswap mark)", rp->notes[i].ts_ms);
			free(marked);
			free(task);
			n++;
		}
	}
	for (j = 0; j < nm; j++) {
		if (strcmp(m[j].t->state, "waiting") == 0) {
			report_decision(d, m[j].id, m[j].asked,
			    "waiting for an operator", NULL, m[j].since);
			n++;
		}
		free(m[j].id);
	}
	free(m);
	d->b = out;
	report_doc_h(d, 2, "Approvals and decisions");
	if (n == 0)
		report_doc_p(d, NULL,
		    "No manual step asked for a decision, and no task was "
		    "marked.");
	else {
		report_doc_table(d, heads);
		buf_add(d->b, rows.data, rows.len);
		report_doc_table_end(d);
	}
	buf_free(&rows);
}

/* The time a task ran: its attempts, and the current one so far. */
static uint64_t
report_task_time(const struct report *rp, const struct report_task *t)
{
	uint64_t ms = 0;
	size_t i;
	int current = 0;

	for (i = 0; i < t->nattempts; i++) {
		if (t->attempts[i].finished_ms > t->attempts[i].started_ms &&
		    t->attempts[i].started_ms != 0)
			ms += t->attempts[i].finished_ms -
			    t->attempts[i].started_ms;
		if (t->attempts[i].attempt == t->attempt)
			current = 1;
	}
	if (!current && t->attempt_started_ms != 0 &&
	    (strcmp(t->state, "running") == 0 ||
		strcmp(t->state, "waiting") == 0) &&
	    rp->now_ms > t->attempt_started_ms)
		ms += rp->now_ms - t->attempt_started_ms;
	return ms;
}

/* Whether a task's error is worth showing (SPEC §6: failed, interrupted). */
static int
report_task_erred(const struct report_task *t)
{
	return strcmp(t->state, "failed") == 0 ||
	    strcmp(t->state, "interrupted") == 0;
}

/* Every phase: its state and times, and its tasks. */
static void
report_phases(struct report_doc *d)
{
	static const char *const heads[] = { "Step", "Host", "Kind", "State",
		"Attempts", "Exit", "Time", "Error", NULL };
	const struct report *rp = d->rp;
	const struct report_phase *ph;
	const struct report_task *t;
	char started[40], finished[40], took[64], attempts[16], code[16];
	char tt[64], kind[64];
	const char *cells[8];
	size_t i, j;

	report_doc_h(d, 2, "Phases");
	for (i = 0; i < rp->nphases; i++) {
		ph = &rp->phases[i];
		report_doc_h(d, 3, "Phase %d: %s", ph->id, ph->name);
		report_time(started, sizeof started, ph->started_ms);
		report_time(finished, sizeof finished, ph->finished_ms);
		report_elapsed(
		    rp, took, sizeof took, ph->started_ms, ph->finished_ms);
		if (ph->started_ms == 0)
			report_doc_p(
			    d, "State:", "%s; it never started.", ph->state);
		else if (ph->finished_ms == 0)
			report_doc_p(d, "State:", "%s; started %s, %s.",
			    ph->state, started, took);
		else
			report_doc_p(d,
			    "State:", "%s; started %s, finished %s, took %s.",
			    ph->state, started, finished, took);
		if (ph->ntasks == 0)
			continue;
		report_doc_table(d, heads);
		for (j = 0; j < ph->ntasks; j++) {
			t = &ph->tasks[j];
			snprintf(attempts, sizeof attempts, "%d", t->attempt);
			snprintf(code, sizeof code, "%d", t->exit_code);
			snprintf(kind, sizeof kind, "%s%s", t->kind,
			    t->sensitive ? " (sensitive)" : "");
			tt[0] = '\0';
			if (t->attempt > 0)
				report_duration(
				    tt, sizeof tt, report_task_time(rp, t));
			cells[0] = t->step;
			cells[1] = t->host;
			cells[2] = kind;
			cells[3] = t->state;
			cells[4] = attempts;
			cells[5] = t->exit_code != -1 ? code : NULL;
			cells[6] = tt;
			cells[7] = report_task_erred(t) ? t->error : NULL;
			report_doc_row(d, 8, cells);
		}
		report_doc_table_end(d);
	}
}

/* One failed or interrupted attempt: error, exit, what came next, output. */
static void
report_failure(struct report_doc *d, const struct report_task *t,
    const struct report_attempt *a)
{
	char ended[40], took[64];

	report_doc_h(d, 3, "%d/%s on %s, attempt %d: %s", t->phase, t->step,
	    t->host, a->attempt, a->state);
	report_doc_p(
	    d, "Error:", "%s", a->error ? a->error : "(none recorded)");
	snprintf(took, sizeof took, "exit status %d", a->exit_code);
	if (a->exit_code != -1 &&
	    (a->error == NULL || strcmp(a->error, took) != 0))
		report_doc_p(d, "Exit status:", "%d", a->exit_code);
	report_time(ended, sizeof ended, a->finished_ms);
	report_span(took, sizeof took, a->started_ms, a->finished_ms);
	if (ended[0] != '\0')
		report_doc_p(d, "Ended:", "%s%s%s", ended,
		    took[0] ? ", after " : "", took);
	if (t->attempt > a->attempt && strcmp(t->state, "succeeded") == 0)
		report_doc_p(
		    d, "Then:", "it succeeded on attempt %d.", t->attempt);
	else if (t->attempt > a->attempt)
		report_doc_p(
		    d, "Then:", "attempt %d, %s.", t->attempt, t->state);
	report_doc_output(d, a, REPORT_TAIL_LINES);
}

/* Every attempt that failed or was interrupted, with its output's end. */
static void
report_failures(struct report_doc *d)
{
	const struct report *rp = d->rp;
	const struct report_task *t;
	const struct report_attempt *last;
	size_t i, j, k, n = 0;

	report_doc_h(d, 2, "Failures");
	for (i = 0; i < rp->nphases; i++) {
		for (j = 0; j < rp->phases[i].ntasks; j++) {
			t = &rp->phases[i].tasks[j];
			for (k = 0; k < t->nattempts; k++) {
				if (strcmp(t->attempts[k].state, "failed") !=
					0 &&
				    strcmp(t->attempts[k].state,
					"interrupted") != 0)
					continue;
				report_failure(d, t, &t->attempts[k]);
				n++;
			}
			/* A state no attempt ended with (an operator's mark). */
			last = t->nattempts > 0 ? &t->attempts[t->nattempts - 1]
						: NULL;
			if (report_task_erred(t) &&
			    (last == NULL || last->attempt != t->attempt ||
				strcmp(last->state, t->state) != 0)) {
				report_doc_h(d, 3, "%d/%s on %s: %s", t->phase,
				    t->step, t->host, t->state);
				report_doc_p(d, "Error:", "%s",
				    t->error ? t->error : "(none recorded)");
				n++;
			}
		}
	}
	if (n == 0)
		report_doc_p(d, NULL, "Nothing failed.");
}

/* Whether a step kind is a check from the controller. */
static int
report_is_check(const char *kind)
{
	return strcmp(kind, "http") == 0 || strcmp(kind, "smtp") == 0 ||
	    strcmp(kind, "pop3") == 0 || strcmp(kind, "tcp") == 0;
}

/* The checks' evidence: what each check's last attempt printed. */
static void
report_checks(struct report_doc *d)
{
	const struct report *rp = d->rp;
	const struct report_task *t;
	const struct report_attempt *a;
	char when[40];
	size_t i, j, n = 0;

	report_doc_h(d, 2, "Checks");
	for (i = 0; i < rp->nphases; i++) {
		for (j = 0; j < rp->phases[i].ntasks; j++) {
			t = &rp->phases[i].tasks[j];
			if (!report_is_check(t->kind))
				continue;
			n++;
			report_doc_h(d, 3, "%d/%s: %s check, %s", t->phase,
			    t->step, t->kind, t->state);
			if (t->nattempts == 0) {
				report_doc_p(d, NULL, "Not checked yet.");
				continue;
			}
			a = &t->attempts[t->nattempts - 1];
			report_time(when, sizeof when, a->finished_ms);
			report_doc_p(d, "Checked:", "%s (attempt %d).", when,
			    a->attempt);
			if (a->error != NULL &&
			    strcmp(a->state, "succeeded") != 0)
				report_doc_p(d, "Error:", "%s", a->error);
			report_doc_output(d, a, REPORT_EVIDENCE_LINES);
		}
	}
	if (n == 0)
		report_doc_p(
		    d, NULL, "The plan has no checks (http, smtp, pop3, tcp).");
}

/* A key line as "TYPE SHA256:..." (allocated), or what stands for none. */
static char *
report_fingerprint(const char *line)
{
	struct hostkey k;
	char *s;

	if (line == NULL)
		return xstrdup("none");
	if (hostkey_from_pin(line, &k) == -1)
		return xstrdup(line);
	xasprintf(&s, "%s %s", k.type ? k.type : "", k.fingerprint);
	hostkey_clear(&k);
	return s;
}

/* Whether two key lines (either may be NULL) differ. */
static int
report_keys_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* known_hosts lines for every host with a key (now, or at creation). */
static void
report_known_hosts(struct report_doc *d, int now)
{
	const struct report *rp = d->rp;
	const char *key;
	struct buf b;
	char *name;
	size_t i;

	buf_init(&b);
	for (i = 0; i < rp->nhosts; i++) {
		key = now ? rp->hosts[i].key_now : rp->hosts[i].key_before;
		if (key == NULL)
			continue;
		name = hostkey_known_hosts_name(
		    rp->hosts[i].address, rp->hosts[i].port);
		buf_printf(&b, "%s %s\n", name, key);
		free(name);
	}
	report_doc_code(d, b.data ? b.data : "", b.len);
	buf_free(&b);
}

/* The key each name expected when the run was created, and expects now. */
static void
report_keys(struct report_doc *d)
{
	static const char *const heads[] = { "Host", "Address",
		"Expected at creation", "Expected now", "Changed", NULL };
	const struct report *rp = d->rp;
	const struct report_host *h;
	const char *cells[5];
	char *before, *now, addr[300];
	size_t i;
	int changed = 0, diff;

	report_doc_h(d, 2, "Host keys");
	report_doc_table(d, heads);
	for (i = 0; i < rp->nhosts; i++) {
		h = &rp->hosts[i];
		before = report_fingerprint(h->key_before);
		now = report_fingerprint(h->key_now);
		if (strcmp(h->key_source, "learned") == 0) {
			free(before);
			xasprintf(&before, "none: learnt on first use");
		}
		snprintf(addr, sizeof addr, "%s:%d", h->address, h->port);
		diff = report_keys_differ(h->key_before, h->key_now);
		changed |= diff;
		cells[0] = h->name;
		cells[1] = addr;
		cells[2] = before;
		cells[3] = now;
		cells[4] = !diff ? "no" : h->swapped ? "yes: the swap" : "yes";
		report_doc_row(d, 5, cells);
		free(before);
		free(now);
	}
	report_doc_table_end(d);
	report_doc_p(d, NULL,
	    "known_hosts lines for every name as of now (what hostswap "
	    "known-hosts prints):");
	report_known_hosts(d, 1);
	if (changed) {
		report_doc_p(d, NULL, "Before the swap they were:");
		report_known_hosts(d, 0);
	}
}

/* A note with any status page token in it masked. */
static char *
report_scrub_note(const char *msg)
{
	char *s = xstrdup(msg), *p = s, *q;

	while ((p = strstr(p, "token=")) != NULL) {
		p += 6;
		for (q = p; *q != '\0' && *q != ' ' && *q != '&'; q++)
			;
		if (q > p) {
			memmove(p + 3, q, strlen(q) + 1);
			memcpy(p, "***", 3);
		}
	}
	return s;
}

/* The audit trail's notes: retries, decisions, the swap, resumes. */
static void
report_notes(struct report_doc *d)
{
	static const char *const heads[] = { "Time", "Note", NULL };
	const struct report *rp = d->rp;
	const char *cells[2];
	char when[40], *msg;
	size_t i;

	report_doc_h(d, 2, "Notes from the audit trail");
	if (rp->nnotes == 0) {
		report_doc_p(d, NULL, "None.");
		return;
	}
	report_doc_table(d, heads);
	for (i = 0; i < rp->nnotes; i++) {
		report_time(when, sizeof when, rp->notes[i].ts_ms);
		msg = report_scrub_note(rp->notes[i].msg);
		cells[0] = when;
		cells[1] = msg;
		report_doc_row(d, 2, cells);
		free(msg);
	}
	report_doc_table_end(d);
}

/* The HTML page's style: small, inline, nothing fetched. */
static const char report_css[] =
    "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0 1em}"
    "th,td{border:1px solid #bbb;padding:0.2em 0.5em;text-align:left;"
    "vertical-align:top}"
    "thead th{background:#eee}table.facts th{background:#f6f6f6}"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:0.5em;"
    "overflow-x:auto;white-space:pre-wrap}"
    "div.timeline svg{max-width:100%;height:auto}";

/*
 * Write the report of a run into b: Markdown (the timeline an inline
 * <svg> block, or with svg_path an image link to that file) or one
 * self-contained HTML page (the timeline inline).
 */
void
report_write(const struct report *rp, enum report_format fmt,
    const char *svg_path, struct buf *b)
{
	struct report_doc d = { rp, fmt, b, svg_path };

	if (fmt == REPORT_HTML) {
		buf_adds(b,
		    "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/"
		    "xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		    "<title>");
		report_doc_text(&d, "hostswap report: ");
		report_doc_text(&d, rp->name);
		buf_printf(b, ", run %d</title>\n<style>", rp->id);
		buf_adds(b, report_css);
		buf_adds(b, "</style>\n</head>\n<body>\n");
	}
	report_summary(&d);
	report_hosts(&d);
	report_timeline(&d);
	report_approvals(&d);
	report_phases(&d);
	report_failures(&d);
	report_checks(&d);
	report_keys(&d);
	report_notes(&d);
	report_doc_p(&d, NULL, "Made by hostswap %s from the state file.",
	    HOSTSWAP_VERSION);
	if (fmt == REPORT_HTML)
		buf_adds(b, "</body>\n</html>\n");
}

/* Free a task's contents. */
static void
report_task_free(struct report_task *t)
{
	size_t i;

	for (i = 0; i < t->nattempts; i++) {
		free(t->attempts[i].state);
		free(t->attempts[i].error);
		free(t->attempts[i].output);
	}
	free(t->attempts);
	free(t->step);
	free(t->host);
	free(t->kind);
	free(t->state);
	free(t->error);
	free(t->tail);
}

/* Free what store_report() read. */
void
report_free(struct report *rp)
{
	size_t i, j;

	for (i = 0; i < rp->nhosts; i++) {
		free(rp->hosts[i].name);
		free(rp->hosts[i].address);
		free(rp->hosts[i].user);
		free(rp->hosts[i].key_source);
		free(rp->hosts[i].key_before);
		free(rp->hosts[i].key_now);
	}
	free(rp->hosts);
	for (i = 0; i < rp->nphases; i++) {
		for (j = 0; j < rp->phases[i].ntasks; j++)
			report_task_free(&rp->phases[i].tasks[j]);
		free(rp->phases[i].tasks);
		free(rp->phases[i].name);
		free(rp->phases[i].state);
	}
	free(rp->phases);
	for (i = 0; i < rp->nnotes; i++)
		free(rp->notes[i].msg);
	free(rp->notes);
	free(rp->uid);
	free(rp->name);
	free(rp->state);
	free(rp->date);
	free(rp->plan_path);
	free(rp->plan_sha256);
	free(rp->inventory_path);
	free(rp->inventory_sha256);
	free(rp->vars);
	free(rp->outage_from);
	free(rp->outage_to);
	memset(rp, 0, sizeof *rp);
}
