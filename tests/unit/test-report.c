/*
 * Unit tests of the night's report without a state file: text escaped for
 * XML and Markdown (bad UTF-8 and control characters made safe, pipes,
 * list markers, code fences no output can close), durations, the SVG
 * timeline (a bar per attempt, lanes for tasks run at once, phase lines,
 * no blank line, tooltips only when asked, a run of no time), and both
 * documents from a small run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "report.h"
#include "xmalloc.h"

/* report_xml() of a string, as a string (the caller frees it). */
static char *
xml(const char *s)
{
	struct buf b;

	buf_init(&b);
	report_xml(&b, s, strlen(s));
	buf_addc(&b, '\0');
	return buf_release(&b);
}

/* report_md() of a string, as a string. */
static char *
md(const char *s)
{
	struct buf b;

	buf_init(&b);
	report_md(&b, s);
	buf_addc(&b, '\0');
	return buf_release(&b);
}

/* Whether s begins with prefix. */
static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* How many times needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

#define ASSERT_XML(in, want) \
	do { \
		char *got_ = xml(in); \
		assert_string_equal(got_, want); \
		free(got_); \
	} while (0)

#define ASSERT_MD(in, want) \
	do { \
		char *got_ = md(in); \
		assert_string_equal(got_, want); \
		free(got_); \
	} while (0)

#define FFFD "\xef\xbf\xbd"

static void
xml_escapes(void **state)
{
	(void)state;
	ASSERT_XML("a<b>&\"'", "a&lt;b&gt;&amp;&quot;&#39;");
	ASSERT_XML("tab\tand\nline", "tab\tand\nline");
	ASSERT_XML("crlf\r\nlone\rcr", "crlf\nlone\ncr");
	ASSERT_XML("bell\x07 esc\x1b[0m", "bell" FFFD " esc" FFFD "[0m");
	ASSERT_XML("\xff bad", FFFD " bad");
	ASSERT_XML("cut \xe6\x97", "cut " FFFD FFFD);
	ASSERT_XML("overlong \xc0\x80", "overlong " FFFD FFFD);
	ASSERT_XML("surrogate \xed\xa0\x80", "surrogate " FFFD FFFD FFFD);
	ASSERT_XML(
	    "c1 \xc2\x85 nonchar \xef\xbf\xbe", "c1 " FFFD " nonchar " FFFD);
	ASSERT_XML("日本語 ok", "日本語 ok");
}

static void
markdown_escapes(void **state)
{
	(void)state;
	ASSERT_MD("a | b", "a \\| b");
	ASSERT_MD("<b>&amp;</b>", "\\<b\\>\\&amp;\\</b\\>");
	ASSERT_MD("`code` *em* _u_ [l](x) ~s~ #h",
	    "\\`code\\` \\*em\\* \\_u\\_ \\[l\\](x) \\~s\\~ \\#h");
	ASSERT_MD("back\\slash", "back\\\\slash");
	ASSERT_MD("- not a list", "\\- not a list");
	ASSERT_MD("+ not a list", "\\+ not a list");
	ASSERT_MD("12. not a list", "12\\. not a list");
	ASSERT_MD("3) neither", "3\\) neither");
	ASSERT_MD("127.0.0.1 and 0.35 s", "127.0.0.1 and 0.35 s");
	ASSERT_MD("  two\nlines\tjoined", "two lines joined");
	ASSERT_MD("bad \x01\xff", "bad " FFFD FFFD);
}

static void
markdown_code_fences(void **state)
{
	struct buf b;
	const char *s;

	(void)state;
	buf_init(&b);
	report_md_code(&b, "x", 1);
	buf_addc(&b, '\0');
	assert_string_equal(b.data, "```\nx\n```\n\n");
	buf_free(&b);

	buf_init(&b);
	s = "a ``` b\n```\n<b>&</b>\n";
	report_md_code(&b, s, strlen(s));
	buf_addc(&b, '\0');
	assert_string_equal(b.data, "````\na ``` b\n```\n<b>&</b>\n````\n\n");
	buf_free(&b);

	buf_init(&b);
	s = "```````";
	report_md_code(&b, s, strlen(s));
	buf_addc(&b, '\0');
	assert_string_equal(b.data, "````````\n```````\n````````\n\n");
	buf_free(&b);
}

static void
durations(void **state)
{
	char s[32];

	(void)state;
	report_duration(s, sizeof s, 350);
	assert_string_equal(s, "0.35 s");
	report_duration(s, sizeof s, 12400);
	assert_string_equal(s, "12.4 s");
	report_duration(s, sizeof s, 245000);
	assert_string_equal(s, "4m 05s");
	report_duration(s, sizeof s, 3723000);
	assert_string_equal(s, "1h 02m 03s");
	report_time(s, sizeof s, 0);
	assert_string_equal(s, "");
	report_time(s, sizeof s, 1764925200123ULL);
	assert_string_equal(s, "2025-12-05 09:00:00 UTC");
}

/* An attempt of a task. */
static void
attempt(struct report_task *t, int n, const char *state, uint64_t from,
    uint64_t to, const char *output, int sensitive)
{
	struct report_attempt *a;

	t->attempts =
	    xreallocarray(t->attempts, t->nattempts + 1, sizeof *t->attempts);
	a = &t->attempts[t->nattempts++];
	memset(a, 0, sizeof *a);
	a->attempt = n;
	a->state = xstrdup(state);
	a->exit_code = strcmp(state, "failed") == 0 ? 4 : 0;
	a->error =
	    strcmp(state, "failed") == 0 ? xstrdup("exit status 4") : NULL;
	a->started_ms = from;
	a->finished_ms = to;
	a->sensitive = sensitive;
	a->output = xstrdup(sensitive ? "" : output);
	a->output_len = a->output_total = strlen(a->output);
	t->attempt = n;
}

/* A task of a phase. */
static struct report_task *
task(struct report_phase *ph, const char *step, const char *host,
    const char *kind, const char *state)
{
	struct report_task *t;

	ph->tasks = xreallocarray(ph->tasks, ph->ntasks + 1, sizeof *ph->tasks);
	t = &ph->tasks[ph->ntasks++];
	memset(t, 0, sizeof *t);
	t->phase = ph->id;
	t->step = xstrdup(step);
	t->host = xstrdup(host);
	t->kind = xstrdup(kind);
	t->state = xstrdup(state);
	t->exit_code = -1;
	return t;
}

/*
 * A small run still going on: on ika a task that failed then succeeded
 * and one that ran beside its first attempt; a sensitive failure on
 * "a<b", and a failure whose output the store gave only the end of, later
 * marked failed; a manual step waiting on local; phase 2 not begun.
 */
static void
small_run(struct report *rp)
{
	struct report_task *t;

	memset(rp, 0, sizeof *rp);
	rp->id = 7;
	rp->uid = xstrdup("0123456789abcdef");
	rp->name = xstrdup("night & <day>");
	rp->state = xstrdup("waiting");
	rp->date = xstrdup("20251205");
	rp->plan_path = xstrdup("plan.yaml");
	rp->plan_sha256 = xstrdup("00");
	rp->inventory_sha256 = xstrdup("11");
	rp->vars = xstrdup("{\"web\": \"http://x/?a=1&b=2\"}");
	rp->started_ms = 1000;
	rp->now_ms = 4000;
	rp->current_phase = 1;
	rp->from_phase = rp->to_phase = -1;
	rp->nhosts = 2;
	rp->hosts = xcalloc(2, sizeof *rp->hosts);
	rp->hosts[0].name = xstrdup("ika");
	rp->hosts[0].address = xstrdup("127.0.0.1");
	rp->hosts[0].port = 22;
	rp->hosts[0].key_source = xstrdup("pin");
	rp->hosts[1].name = xstrdup("a<b");
	rp->hosts[1].address = xstrdup("127.0.0.2");
	rp->hosts[1].port = 2222;
	rp->hosts[1].key_source = xstrdup("unknown");
	rp->nphases = 2;
	rp->phases = xcalloc(2, sizeof *rp->phases);
	rp->phases[0].id = 1;
	rp->phases[0].name = xstrdup("copy | sync");
	rp->phases[0].state = xstrdup("running");
	rp->phases[0].started_ms = 1000;
	rp->phases[1].id = 2;
	rp->phases[1].name = xstrdup("later");
	rp->phases[1].state = xstrdup("pending");
	t = task(&rp->phases[0], "a", "ika", "run", "succeeded");
	attempt(
	    t, 1, "failed", 1000, 2000, "one\n```` fence\nFAILED-HERE\n", 0);
	attempt(t, 2, "succeeded", 2500, 3000, "ok\n", 0);
	t = task(&rp->phases[0], "b", "ika", "run", "succeeded");
	attempt(t, 1, "succeeded", 1000, 2600, "b\n", 0);
	t = task(&rp->phases[0], "s", "a<b", "run", "succeeded");
	attempt(t, 1, "failed", 1100, 1200, "secret-ish", 1);
	attempt(t, 2, "succeeded", 1300, 1400, "", 1);
	t->sensitive = 1;
	t = task(&rp->phases[0], "m", "local", "manual", "waiting");
	t->attempt = 1;
	t->attempt_started_ms = 3000;
	t = task(&rp->phases[1], "c", "ika", "run", "pending");
	t = task(&rp->phases[0], "long", "a<b", "run", "failed");
	attempt(t, 1, "failed", 1500, 1600,
	    "ine 9\nline 10\nline 11\nline 12\nline 13\nline 14\nline 15\n"
	    "line 16\nline 17\nline 18\nline 19\nline 20\nline 21\nline 22\n"
	    "line 23\nline 24\nline 25\nline 26\nline 27\nline 28\nline 29\n"
	    "line 30\n",
	    0);
	t->attempts[0].output_total = 5000; /* the store read its end only */
	rp->nnotes = 2;
	rp->notes = xcalloc(2, sizeof *rp->notes);
	rp->notes[0].ts_ms = 3000;
	rp->notes[0].msg =
	    xstrdup("waiting for an operator: 1/m: Look | at it");
	rp->notes[1].ts_ms = 3500;
	rp->notes[1].msg = xstrdup("operator marked 1/long on a<b failed");
}

static void
svg_timeline(void **state)
{
	struct report rp;
	struct buf b;

	(void)state;
	small_run(&rp);
	buf_init(&b);
	report_svg(&rp, 0, &b);
	buf_addc(&b, '\0');
	assert_true(
	    starts(b.data, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_int_equal(count(b.data, "class=\"bar "), 7);
	assert_int_equal(count(b.data, "class=\"bar failed\""), 3);
	assert_int_equal(count(b.data, "class=\"bar waiting\""), 1);
	assert_int_equal(count(b.data, "class=\"phase\""), 1);
	assert_non_null(strstr(b.data, "class=\"host\">ika</text>"));
	assert_non_null(strstr(b.data, "class=\"host\">a&lt;b</text>"));
	assert_non_null(strstr(b.data, "class=\"host\">local</text>"));
	/* a/1 and b ran at once on ika: two lanes (y 46 and 64). */
	assert_non_null(strstr(b.data, "y=\"46\" width"));
	assert_non_null(strstr(b.data, "y=\"64\" width"));
	assert_null(strstr(b.data, "\n\n"));
	assert_null(strstr(b.data, "<title>"));
	assert_null(strstr(b.data, "nan"));
	buf_free(&b);

	buf_init(&b);
	report_svg(&rp, 1, &b);
	buf_addc(&b, '\0');
	assert_int_equal(count(b.data, "<title>"), 7);
	assert_non_null(
	    strstr(b.data, "<title>1/s on a&lt;b, attempt 1: failed (0.10 s)"));
	buf_free(&b);
	report_free(&rp);

	/* A run of no time, with nothing run: no division by zero. */
	memset(&rp, 0, sizeof rp);
	rp.started_ms = rp.finished_ms = rp.now_ms = 5000;
	buf_init(&b);
	report_svg(&rp, 0, &b);
	buf_addc(&b, '\0');
	assert_null(strstr(b.data, "nan"));
	assert_null(strstr(b.data, "inf"));
	assert_int_equal(count(b.data, "class=\"bar "), 0);
	buf_free(&b);
}

static void
documents(void **state)
{
	struct report rp;
	struct buf b;

	(void)state;
	small_run(&rp);
	buf_init(&b);
	report_write(&rp, REPORT_MARKDOWN, NULL, &b);
	buf_addc(&b, '\0');
	assert_true(
	    starts(b.data, "# hostswap report: night \\& \\<day\\>, run 7\n"));
	assert_non_null(strstr(b.data, "### Phase 1: copy \\| sync\n"));
	assert_non_null(strstr(b.data, "### Phase 2: later\n"));
	assert_non_null(strstr(b.data, "\n<svg xmlns="));
	assert_non_null(strstr(b.data, "\n`````\none\n```` fence\n"));
	assert_non_null(strstr(b.data, "(sensitive: no output kept)"));
	assert_null(strstr(b.data, "secret-ish"));
	assert_non_null(strstr(
	    b.data, "| 1/m | Look \\| at it | waiting for an operator |  |"));
	assert_non_null(strstr(b.data, "| s | a\\<b | run (sensitive) |"));
	/* The last 20 lines of an output the store gave the end of. */
	assert_non_null(strstr(b.data,
	    "The end of its output (5000 bytes in all; hostswap log prints it "
	    "whole):\n\n```\nline 11\n"));
	assert_non_null(strstr(b.data, "line 30\n```\n"));
	assert_null(strstr(b.data, "line 10\n"));
	assert_non_null(strstr(b.data,
	    "| 1/long on a\\<b |  | marked failed | the operator (hostswap "
	    "mark) |"));
	buf_free(&b);

	buf_init(&b);
	report_write(&rp, REPORT_MARKDOWN, "night 7.svg", &b);
	buf_addc(&b, '\0');
	assert_null(strstr(b.data, "<svg"));
	assert_non_null(strstr(b.data, "![Timeline of run 7](<night 7.svg>)"));
	buf_free(&b);

	buf_init(&b);
	report_write(&rp, REPORT_HTML, NULL, &b);
	buf_addc(&b, '\0');
	assert_true(starts(b.data, "<!DOCTYPE html>\n"));
	assert_non_null(strstr(b.data,
	    "<title>hostswap report: night &amp; &lt;day&gt;, run 7</title>"));
	assert_non_null(strstr(b.data, "<h3>Phase 1: copy | sync</h3>"));
	assert_non_null(strstr(b.data, "<td>http://x/?a=1&amp;b=2</td>"));
	assert_non_null(strstr(b.data, "<title>1/a on ika, attempt 1"));
	assert_non_null(strstr(b.data, "```` fence\nFAILED-HERE\n</code>"));
	assert_int_equal(count(b.data, "<svg "), 1);
	assert_true(strcmp(b.data + b.len - 9, "</html>\n") == 0);
	buf_free(&b);
	report_free(&rp);
}

/* The outage: stated in the facts and drawn as one band, or not at all. */
static void
outage(void **state)
{
	struct report rp;
	struct buf b;

	(void)state;
	small_run(&rp);
	buf_init(&b);
	report_write(&rp, REPORT_MARKDOWN, NULL, &b);
	buf_addc(&b, '\0');
	assert_null(strstr(b.data, "Outage"));
	assert_null(strstr(b.data, "class=\"outage\""));
	buf_free(&b);

	rp.outage_from = xstrdup("1/a");
	rp.outage_to = xstrdup("2/c");
	rp.outage_start_ms = 1500;
	buf_init(&b);
	report_write(&rp, REPORT_MARKDOWN, NULL, &b);
	buf_addc(&b, '\0');
	assert_non_null(strstr(b.data,
	    "| **Outage** | 2.5 s so far, still running (from the start of "
	    "1/a to the success of 2/c) |\n"));
	assert_non_null(strstr(b.data,
	    "| **Outage ended** | not yet (2/c has not succeeded) |\n"));
	assert_int_equal(count(b.data, "<rect class=\"outage\""), 1);
	assert_non_null(strstr(b.data, ">outage 2.5 s so far</text>"));
	buf_free(&b);

	rp.outage_end_ms = 3500;
	buf_init(&b);
	report_write(&rp, REPORT_HTML, NULL, &b);
	buf_addc(&b, '\0');
	assert_non_null(strstr(b.data,
	    "2.0 s (from the start of 1/a to the "
	    "success of 2/c)"));
	assert_non_null(strstr(b.data,
	    "<tr><th>Outage ended</th><td>1970-01-01 00:00:03 UTC</td>"));
	assert_int_equal(count(b.data, "<rect class=\"outage\""), 1);
	/* From 1.5 s to 3.5 s of an axis from 1 s to 4 s. */
	assert_non_null(strstr(b.data,
	    "<rect class=\"outage\" x=\"256.0\" y=\"32\" width=\"544.0\""));
	assert_non_null(strstr(b.data, ">outage 2.0 s</text>"));
	buf_free(&b);
	report_free(&rp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xml_escapes),
		cmocka_unit_test(markdown_escapes),
		cmocka_unit_test(markdown_code_fences),
		cmocka_unit_test(durations),
		cmocka_unit_test(svg_timeline),
		cmocka_unit_test(documents),
		cmocka_unit_test(outage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
