/*
 * cmd-events.c: hostswap events [--follow] [--json] — the audit trail: the
 * state file's append-only event log, oldest first, each event with its
 * sequence number. --follow keeps printing new events as a daemon writes
 * them (polling the file; readers need no lock).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "status.h"
#include "store.h"

static int cmd_events_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_events_entry = { "events",
	"[--state FILE] [--follow] [--json]", "print the audit trail",
	"  --state FILE  the state file (default ./hostswap.db)\n"
	"  --follow      keep printing events as they come\n"
	"  --json        one JSON object a line: seq, ts, run, type, data\n",
	cmd_events_exec };

/* How often --follow looks for new events. */
#define CMD_EVENTS_POLL_MS 200

struct cmd_events {
	int json;
};

/* A short human summary of an event's data. */
static void
cmd_events_text(const char *type, json_t *d)
{
	const char *state = json_string_value(json_object_get(d, "state"));
	const char *err = json_string_value(json_object_get(d, "error"));

	if (strcmp(type, "task") == 0)
		printf("phase %lld %s@%s %s (attempt %lld)%s%s",
		    (long long)json_integer_value(json_object_get(d, "phase")),
		    json_string_value(json_object_get(d, "step")),
		    json_string_value(json_object_get(d, "host")), state,
		    (long long)json_integer_value(
			json_object_get(d, "attempt")),
		    err ? ": " : "", err ? err : "");
	else if (strcmp(type, "phase") == 0)
		printf("phase %lld (%s) %s",
		    (long long)json_integer_value(json_object_get(d, "id")),
		    json_string_value(json_object_get(d, "name")), state);
	else if (strcmp(type, "run") == 0)
		printf("run %s", state ? state : "?");
	else if (strcmp(type, "host") == 0)
		printf("host %s (%s:%lld) expects %s%s",
		    json_string_value(json_object_get(d, "host")),
		    json_string_value(json_object_get(d, "address")),
		    (long long)json_integer_value(json_object_get(d, "port")),
		    json_string_value(json_object_get(d, "expected_key"))
			? "its key"
			: "no key yet",
		    json_is_true(json_object_get(d, "swapped")) ? ", swapped"
								: "");
	else
		printf("%s", json_string_value(json_object_get(d, "msg")));
}

/* One event. */
static void
cmd_events_cb(void *arg, int64_t seq, uint64_t ts_ms, const char *type, int run,
    const char *data)
{
	struct cmd_events *e = arg;
	json_t *d = json_loads(data, 0, NULL), *o;
	char ts[40], *s;

	clock_rfc3339(ts, sizeof ts, ts_ms);
	if (e->json) {
		o = json_pack("{s:I, s:s, s:i, s:s, s:o}", "seq",
		    (json_int_t)seq, "ts", ts, "run", run, "type", type, "data",
		    d ? d : json_null());
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		printf("%lld %s run %d ", (long long)seq, ts, run);
		if (d != NULL)
			cmd_events_text(type, d);
		putchar('\n');
		json_decref(d);
	}
}

/* hostswap events */
static int
cmd_events_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = { { "state", required_argument,
						  NULL, 's' },
		{ "follow", no_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	const struct timespec pause = { 0, CMD_EVENTS_POLL_MS * 1000000L };
	const char *state = STORE_DEFAULT;
	struct cmd_events e = { 0 };
	struct store_run_info ri;
	struct store *st;
	int ch, rc, follow = 0;
	int64_t last = 0;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 'F':
			follow = 1;
			break;
		case 'j':
			e.json = 1;
			break;
		case CMD_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 0)
		return cmd_usage_error(self, "too many arguments");
	if ((rc = cmd_open_state(state, &st, &ri)) != EXIT_OK)
		return rc;
	store_run_info_free(&ri);
	for (;;) {
		if (store_events(st, last, 0, cmd_events_cb, &e, &last) == -1) {
			fprintf(stderr, "hostswap: %s: cannot read events\n",
			    state);
			store_free(st);
			return EXIT_REFUSED;
		}
		fflush(stdout);
		if (!follow)
			break;
		nanosleep(&pause, NULL);
	}
	store_free(st);
	return EXIT_OK;
}
