/*
 * report-svg.c: the report's timeline, drawn as SVG — a Gantt chart of
 * the run: one row per host (and `local`, the controller), a bar per task
 * attempt from its start to its end coloured by its outcome, a dashed
 * line where each phase began, the users' outage as a band behind the
 * bars, and a time axis from the run's start.
 *
 * Plain SVG 1.1 with presentation attributes only: no <style>, and
 * <title> tooltips only when asked (HTML), since a wiki's Markdown filter
 * escapes both (GitHub's tagfilter). No blank line either: a Markdown
 * HTML block ends at the first one. Every text is XML-escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "report.h"
#include "xmalloc.h"

/* The drawing's geometry, in pixels. */
#define SVG_WIDTH  960
#define SVG_LEFT   120 /* the host names */
#define SVG_RIGHT  24
#define SVG_TOP    36 /* the phase labels, on two staggered lines */
#define SVG_LANE   18 /* a bar and the space under it */
#define SVG_BAR    14
#define SVG_PAD    8  /* above and below a row's lanes */
#define SVG_AXIS   22 /* the tick labels under the rows */
#define SVG_LEGEND 30
#define SVG_MINBAR 2 /* the narrowest bar: a task of no time is seen */

/* Ticks on the axis: the first step that gives at most this many. */
#define SVG_TICKS 8

/* An outcome and its colour. */
static const struct {
	const char *state;
	const char *fill;
} report_svg_colours[] = {
	{ "succeeded", "#2e7d32" },
	{ "failed", "#c62828" },
	{ "interrupted", "#ef6c00" },
	{ "skipped", "#9e9e9e" },
	{ "running", "#1565c0" },
	{ "waiting", "#f9a825" },
};
#define SVG_NCOLOURS (sizeof report_svg_colours / sizeof report_svg_colours[0])

/* A bar: one attempt of a task, in a lane of its host's row. */
struct report_svg_bar {
	const struct report_task *t;
	int attempt;
	const char *state;
	uint64_t from, to;
	double x1, x2;
	size_t row, lane;
};

/* A host's row: as many lanes as it ran tasks at once. */
struct report_svg_row {
	const char *host;
	size_t lanes;
	int y;
};

struct report_svg {
	const struct report *rp;
	struct buf *b;
	int titles;
	uint64_t t0, t1; /* the time the axis spans */
	struct report_svg_row *rows;
	size_t nrows;
	struct report_svg_bar *bars;
	size_t nbars;
	int bottom; /* under the last row */
};

/* A state's name and colour, as the drawing knows them ("other", black,
 * for one it does not know: a state in an attribute is never the file's). */
static void
report_svg_state(const char *state, const char **name, const char **fill)
{
	size_t i;

	for (i = 0; i < SVG_NCOLOURS; i++) {
		if (strcmp(report_svg_colours[i].state, state) == 0) {
			*name = report_svg_colours[i].state;
			*fill = report_svg_colours[i].fill;
			return;
		}
	}
	*name = "other";
	*fill = "#000000";
}

/* The x of a time, inside the plot. */
static double
report_svg_x(const struct report_svg *s, uint64_t t)
{
	double w = SVG_WIDTH - SVG_LEFT - SVG_RIGHT;

	if (t < s->t0)
		t = s->t0;
	if (t > s->t1)
		t = s->t1;
	return SVG_LEFT + w * (double)(t - s->t0) / (double)(s->t1 - s->t0);
}

/* The row of a host, adding it when new. */
static size_t
report_svg_row(struct report_svg *s, const char *host)
{
	size_t i;

	for (i = 0; i < s->nrows; i++)
		if (strcmp(s->rows[i].host, host) == 0)
			return i;
	s->rows = xreallocarray(s->rows, s->nrows + 1, sizeof *s->rows);
	s->rows[s->nrows].host = host;
	s->rows[s->nrows].lanes = 1;
	s->rows[s->nrows].y = 0;
	return s->nrows++;
}

/* Add a bar (its lane comes later). */
static void
report_svg_add(struct report_svg *s, const struct report_task *t, int attempt,
    const char *state, uint64_t from, uint64_t to)
{
	struct report_svg_bar *bar;

	s->bars = xreallocarray(s->bars, s->nbars + 1, sizeof *s->bars);
	bar = &s->bars[s->nbars++];
	memset(bar, 0, sizeof *bar);
	bar->t = t;
	bar->attempt = attempt;
	bar->state = state;
	bar->from = from;
	bar->to = to > from ? to : from;
	bar->row = report_svg_row(s, t->host);
}

/*
 * The rows (the inventory's hosts, then any other, `local` last) and a
 * bar for every attempt that began; one still going on (running, or a
 * manual step waiting) ends at the axis's end, which is the run's end or
 * now.
 */
static void
report_svg_collect(struct report_svg *s)
{
	const struct report *rp = s->rp;
	const struct report_task *t;
	const struct report_attempt *a;
	size_t i, j, k;
	int current;

	for (i = 0; i < rp->nhosts; i++)
		report_svg_row(s, rp->hosts[i].name);
	for (i = 0; i < rp->nphases; i++)
		for (j = 0; j < rp->phases[i].ntasks; j++)
			if (strcmp(rp->phases[i].tasks[j].host, "local") != 0)
				report_svg_row(s, rp->phases[i].tasks[j].host);
	s->t1 = rp->finished_ms != 0 ? rp->finished_ms : rp->now_ms;
	for (i = 0; i < rp->nphases; i++) {
		for (j = 0; j < rp->phases[i].ntasks; j++) {
			t = &rp->phases[i].tasks[j];
			current = 0;
			for (k = 0; k < t->nattempts; k++) {
				a = &t->attempts[k];
				current |= a->attempt == t->attempt;
				if (a->started_ms != 0)
					report_svg_add(s, t, a->attempt,
					    a->state, a->started_ms,
					    a->finished_ms);
			}
			if (!current && t->attempt_started_ms != 0 &&
			    (strcmp(t->state, "running") == 0 ||
				strcmp(t->state, "waiting") == 0))
				report_svg_add(s, t, t->attempt, t->state,
				    t->attempt_started_ms, s->t1);
		}
	}
	s->t0 = rp->started_ms;
	for (i = 0; i < s->nbars; i++) {
		if (s->t0 == 0 || s->bars[i].from < s->t0)
			s->t0 = s->bars[i].from;
		if (s->bars[i].to > s->t1)
			s->t1 = s->bars[i].to;
	}
	if (s->t0 == 0)
		s->t0 = rp->now_ms;
	if (s->t1 <= s->t0)
		s->t1 = s->t0 + 1000;
}

/* Bars by row, then start. */
static int
report_svg_cmp(const void *a, const void *b)
{
	const struct report_svg_bar *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/*
 * Tasks of one host run side by side: each bar takes the first lane of
 * its row that is free where it begins (as drawn, so that two short bars
 * never hide each other), and a row is as tall as its lanes.
 */
static void
report_svg_lanes(struct report_svg *s)
{
	struct report_svg_bar *bar;
	double *ends = NULL;
	size_t i, l, nends = 0, row = (size_t)-1;
	int y = SVG_TOP;

	if (s->nbars > 0)
		qsort(s->bars, s->nbars, sizeof *s->bars, report_svg_cmp);
	for (i = 0; i < s->nbars; i++) {
		bar = &s->bars[i];
		bar->x1 = report_svg_x(s, bar->from);
		bar->x2 = report_svg_x(s, bar->to);
		if (bar->x2 - bar->x1 < SVG_MINBAR)
			bar->x2 = bar->x1 + SVG_MINBAR;
		if (bar->row != row) {
			row = bar->row;
			nends = 0;
		}
		for (l = 0; l < nends && ends[l] > bar->x1; l++)
			;
		if (l == nends) {
			ends = xreallocarray(ends, nends + 1, sizeof *ends);
			nends++;
		}
		ends[l] = bar->x2 + 1;
		bar->lane = l;
		if (l + 1 > s->rows[row].lanes)
			s->rows[row].lanes = l + 1;
	}
	free(ends);
	for (i = 0; i < s->nrows; i++) {
		s->rows[i].y = y;
		y += (int)s->rows[i].lanes * SVG_LANE + 2 * SVG_PAD;
	}
	s->bottom = y;
}

/* A tick's label: time since the run's start. */
static void
report_svg_label(char *out, size_t len, uint64_t ms, uint64_t step)
{
	unsigned long long s = ms / 1000;

	if (step < 1000)
		snprintf(out, len, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(out, len, "%llu:%02llu", s / 60, s % 60);
	else
		snprintf(out, len, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60,
		    s % 60);
}

/* The time axis under the rows, its ticks and labels. */
static void
report_svg_axis(struct report_svg *s, int y)
{
	static const uint64_t steps[] = { 100, 200, 500, 1000, 2000, 5000,
		10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000,
		1800000, 3600000, 7200000, 10800000, 21600000, 43200000,
		86400000 };
	uint64_t span = s->t1 - s->t0, step = steps[0], t;
	char label[32];
	size_t i;
	double x;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		step = steps[i];
		if (span / step <= SVG_TICKS)
			break;
	}
	buf_printf(s->b,
	    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n",
	    SVG_LEFT, y, SVG_WIDTH - SVG_RIGHT, y);
	for (t = 0; t <= span; t += step) {
		x = report_svg_x(s, s->t0 + t);
		report_svg_label(label, sizeof label, t, step);
		buf_printf(s->b,
		    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		    "stroke=\"#333\"/>\n",
		    x, y, x, y + 4);
		buf_printf(s->b,
		    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
		    "class=\"tick\">%s</text>\n",
		    x, y + 16, label);
	}
}

/* One bar, with its tooltip when asked. */
static void
report_svg_bar(struct report_svg *s, const struct report_svg_bar *bar)
{
	const struct report_task *t = bar->t;
	const char *name, *fill;
	char took[64];
	struct buf tip;

	report_svg_state(bar->state, &name, &fill);
	buf_printf(s->b,
	    "<rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
	    "height=\"%d\" fill=\"%s\"",
	    name, bar->x1,
	    s->rows[bar->row].y + SVG_PAD + (int)bar->lane * SVG_LANE +
		(SVG_LANE - SVG_BAR) / 2,
	    bar->x2 - bar->x1, SVG_BAR, fill);
	if (!s->titles) {
		buf_adds(s->b, "/>\n");
		return;
	}
	report_duration(took, sizeof took, bar->to - bar->from);
	buf_init(&tip);
	buf_printf(&tip, "%d/%s on %s, attempt %d: %s (%s)", t->phase, t->step,
	    t->host, bar->attempt, bar->state, took);
	buf_adds(s->b, "><title>");
	report_xml(s->b, tip.data, tip.len);
	buf_adds(s->b, "</title></rect>\n");
	buf_free(&tip);
}

/* A dashed line where each phase began, its id above the rows. */
static void
report_svg_phases(struct report_svg *s, int bottom)
{
	const struct report_phase *ph;
	char label[32];
	size_t i, n = 0;
	double x;

	for (i = 0; i < s->rp->nphases; i++) {
		ph = &s->rp->phases[i];
		if (ph->started_ms == 0)
			continue;
		x = report_svg_x(s, ph->started_ms);
		snprintf(label, sizeof label, "P%d", ph->id);
		buf_printf(s->b,
		    "<line class=\"phase\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		    "y2=\"%d\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>\n",
		    x, n % 2 == 0 ? 6 : 20, x, bottom);
		buf_printf(s->b,
		    "<text x=\"%.1f\" y=\"%d\" "
		    "class=\"phase-label\">%s</text>\n",
		    x + 3, n % 2 == 0 ? 14 : 28, label);
		n++;
	}
}

/*
 * The users' outage: a translucent band behind the bars from its start
 * to its end (to the axis's end while it still runs), labelled with its
 * length under the phase labels.
 */
static void
report_svg_outage(struct report_svg *s, int bottom)
{
	const struct report *rp = s->rp;
	uint64_t end;
	double x1, x2;
	char took[64];

	if (rp->outage_start_ms == 0)
		return;
	end = rp->outage_end_ms != 0 ? rp->outage_end_ms : s->t1;
	x1 = report_svg_x(s, rp->outage_start_ms);
	x2 = report_svg_x(s, end);
	if (x2 - x1 < SVG_MINBAR)
		x2 = x1 + SVG_MINBAR;
	report_duration(took, sizeof took, end - rp->outage_start_ms);
	buf_printf(s->b,
	    "<rect class=\"outage\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
	    "height=\"%d\" fill=\"#c62828\" fill-opacity=\"0.12\" "
	    "stroke=\"#c62828\" stroke-opacity=\"0.5\"/>\n",
	    x1, SVG_TOP - 4, x2 - x1, bottom - SVG_TOP + 4);
	buf_printf(s->b,
	    "<text x=\"%.1f\" y=\"%d\" class=\"outage-label\" "
	    "fill=\"#c62828\">outage %s%s</text>\n",
	    x1 + 3, bottom - 3, took, rp->outage_end_ms == 0 ? " so far" : "");
}

/* The colours' meaning, under the axis. */
static void
report_svg_legend(struct report_svg *s, int y)
{
	size_t i;
	int x = SVG_LEFT;

	for (i = 0; i < SVG_NCOLOURS; i++) {
		buf_printf(s->b,
		    "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
		    "fill=\"%s\"/>\n",
		    x, y - 9, report_svg_colours[i].fill);
		buf_printf(s->b, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + 14,
		    y, report_svg_colours[i].state);
		x += 24 + 7 * (int)strlen(report_svg_colours[i].state);
	}
}

/*
 * Append the run's timeline as one <svg> element. titles: a tooltip per
 * bar (<title>), for HTML and a file of its own — not for Markdown.
 */
void
report_svg(const struct report *rp, int titles, struct buf *b)
{
	struct report_svg s;
	int height;
	size_t i;

	memset(&s, 0, sizeof s);
	s.rp = rp;
	s.b = b;
	s.titles = titles;
	report_svg_collect(&s);
	report_svg_lanes(&s);
	height = s.bottom + SVG_AXIS + SVG_LEGEND;
	buf_printf(b,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"Timeline of run %d\" font-family=\"sans-serif\" "
	    "font-size=\"11\">\n",
	    SVG_WIDTH, height, SVG_WIDTH, height, rp->id);
	buf_printf(b,
	    "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
	    "fill=\"#ffffff\"/>\n",
	    SVG_WIDTH, height);
	for (i = 0; i < s.nrows; i++) {
		if (i % 2 == 0)
			buf_printf(b,
			    "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" "
			    "fill=\"#f2f2f2\"/>\n",
			    s.rows[i].y, SVG_WIDTH,
			    (int)s.rows[i].lanes * SVG_LANE + 2 * SVG_PAD);
		buf_printf(b,
		    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
		    "class=\"host\">",
		    SVG_LEFT - 8, s.rows[i].y + SVG_PAD + SVG_LANE / 2 + 4);
		report_xml(b, s.rows[i].host, strlen(s.rows[i].host));
		buf_adds(b, "</text>\n");
	}
	report_svg_outage(&s, s.bottom);
	report_svg_phases(&s, s.bottom);
	for (i = 0; i < s.nbars; i++)
		report_svg_bar(&s, &s.bars[i]);
	report_svg_axis(&s, s.bottom);
	report_svg_legend(&s, s.bottom + SVG_AXIS + SVG_LEGEND - 8);
	buf_adds(b, "</svg>\n");
	free(s.rows);
	free(s.bars);
}
