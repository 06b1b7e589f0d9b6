/*
 * cmd-status.c: hostswap status [--state FILE] [--json] [--watch] — the
 * run's status from the state file (readers need no lock: a daemon may be
 * writing it). --json prints exactly the status JSON of SPEC §6; the text
 * form is a compact table, redrawn in place with --watch until the run is
 * no longer running.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "client.h"
#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "store.h"
#include "xmalloc.h"

static int cmd_status_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_status_entry = { "status",
	"[--url URL | --state FILE] [--json] [--watch]", "show a run's status",
	"  --state FILE  the state file (default ./hostswap.db)\n"
	"  --url URL     ask the daemon at URL instead\n"
	"  --json        the status JSON (SPEC §6)\n"
	"  --watch       refresh once a second while the run runs\n",
	cmd_status_exec };

/* A string member, or "". */
static const char *
cmd_status_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* The outage's line, once it started: its length and since when. */
static int
cmd_status_outage(json_t *o, FILE *fp)
{
	json_t *secs = json_object_get(o, "seconds");

	if (!json_is_string(json_object_get(o, "start")) ||
	    !json_is_number(secs))
		return 0;
	if (json_is_true(json_object_get(o, "running")))
		fprintf(fp, "  outage: %.1f s so far, running since %s\n",
		    json_number_value(secs), cmd_status_str(o, "start"));
	else
		fprintf(fp, "  outage: %.1f s, from %s to %s\n",
		    json_number_value(secs), cmd_status_str(o, "start"),
		    cmd_status_str(o, "end"));
	return 1;
}

/* The compact table: the run, each phase, the tasks worth a look. */
static int
cmd_status_text(json_t *st, FILE *fp)
{
	json_t *run = json_object_get(st, "run"), *phases, *ph, *tasks, *t;
	size_t i, j, lines = 0;

	fprintf(fp, "run %lld %s (uid %s): %s, date %s%s\n",
	    (long long)json_integer_value(json_object_get(run, "id")),
	    cmd_status_str(run, "name"), cmd_status_str(run, "uid"),
	    cmd_status_str(run, "state"), cmd_status_str(run, "date"),
	    json_is_true(json_object_get(run, "swapped")) ? ", swapped" : "");
	lines++;
	lines += cmd_status_outage(json_object_get(run, "outage"), fp);
	phases = json_object_get(st, "phases");
	json_array_foreach(phases, i, ph)
	{
		const char *ps = cmd_status_str(ph, "state");
		int busy =
		    strcmp(ps, "running") == 0 || strcmp(ps, "failed") == 0;

		fprintf(fp, "  phase %-3lld %-11s %s\n",
		    (long long)json_integer_value(json_object_get(ph, "id")),
		    ps, cmd_status_str(ph, "name"));
		lines++;
		tasks = json_object_get(ph, "tasks");
		json_array_foreach(tasks, j, t)
		{
			const char *ts = cmd_status_str(t, "state");
			const char *err = cmd_status_str(t, "error");

			if (!busy && strcmp(ts, "failed") != 0 &&
			    strcmp(ts, "interrupted") != 0 &&
			    strcmp(ts, "waiting") != 0)
				continue;
			fprintf(fp, "      %-11s %s@%s, attempt %lld%s%s\n", ts,
			    cmd_status_str(t, "step"),
			    cmd_status_str(t, "host"),
			    (long long)json_integer_value(
				json_object_get(t, "attempt")),
			    *err ? ": " : "", err);
			lines++;
		}
	}
	return (int)lines;
}

/*
 * The status from the daemon at url, and its run's state (the caller's to
 * free).
 */
static int
cmd_status_fetch(
    const char *url, const char *state, json_t **out, char **run_state)
{
	struct client c;
	struct buf b;
	long code;
	json_t *o;
	int rc;

	if ((rc = client_open(url, state, &c)) != EXIT_OK)
		return rc;
	buf_init(&b);
	rc = client_request(&c, "GET", "api/v1/status", NULL, &b, &code);
	client_close(&c);
	o = rc == EXIT_OK && code == 200
	    ? json_loads(b.data ? b.data : "", 0, NULL)
	    : NULL;
	buf_free(&b);
	if (rc != EXIT_OK)
		return rc;
	if (o == NULL) {
		fprintf(stderr, "hostswap: %s answered %ld, not the status\n",
		    url, code);
		return EXIT_UNAVAILABLE;
	}
	*run_state = xstrdup(json_string_value(
	    json_object_get(json_object_get(o, "run"), "state")));
	*out = o;
	return EXIT_OK;
}

/*
 * The status of the state file's run, with the store and the run's info
 * left open for the caller.
 */
static int
cmd_status_read(const char *state, struct store **st, struct store_run_info *ri,
    json_t **out)
{
	int rc;

	if ((rc = cmd_open_state(state, st, ri)) != EXIT_OK)
		return rc;
	if (store_status_json(*st, ri->id, out) == -1) {
		fprintf(stderr, "hostswap: %s: cannot read run %d\n", state,
		    ri->id);
		store_run_info_free(ri);
		store_free(*st);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* hostswap status */
static int
cmd_status_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = { { "state", required_argument,
						  NULL, 's' },
		{ "url", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", no_argument, NULL, 'w' }, { NULL, 0, NULL, 0 } };
	const char *state = STORE_DEFAULT, *url = NULL;
	int ch, rc, json = 0, watch = 0, lines = 0, tty;
	struct store_run_info ri;
	struct store *st;
	json_t *o;
	char *s;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'w':
			watch = 1;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 0)
		return cmd_usage_error(self, "too many arguments");
	tty = isatty(STDOUT_FILENO);
	for (;;) {
		if (url != NULL) {
			rc = cmd_status_fetch(url, state, &o, &ri.state);
			st = NULL;
		} else
			rc = cmd_status_read(state, &st, &ri, &o);
		if (rc != EXIT_OK)
			return rc;
		if (watch && tty && lines > 0)
			printf("\033[%dA\033[J", lines);
		if (json) {
			s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			printf("%s\n", s);
			free(s);
		} else
			lines = cmd_status_text(o, stdout);
		fflush(stdout);
		json_decref(o);
		rc = ri.state != NULL &&
		    (strcmp(ri.state, "running") == 0 ||
			(url != NULL && strcmp(ri.state, "waiting") == 0));
		if (st != NULL) {
			store_run_info_free(&ri);
			store_free(st);
		} else {
			free(ri.state);
			ri.state = NULL;
		}
		if (!watch || !rc)
			return EXIT_OK;
		sleep(1);
	}
}
