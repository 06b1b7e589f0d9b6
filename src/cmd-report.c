/*
 * cmd-report.c: hostswap report [--state FILE] [--format markdown|html]
 * [--run N] [--svg FILE] — the night's report of a run (the newest, or
 * run N) from the state file, on standard output: Markdown with the
 * timeline as an inline <svg> block (or, with --svg, written to FILE and
 * linked as an image), or one self-contained HTML page. A reader: it takes
 * no lock and works while a daemon runs.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "daemon.h"
#include "exitcode.h"
#include "report.h"
#include "store.h"

static int cmd_report_exec(const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_report_entry = { "report",
	"[--state FILE] [--format markdown|html] [--run N] [--svg FILE]",
	"write the night's report of a run",
	"  --state FILE     the state file (default ./hostswap.db)\n"
	"  --format FORMAT  markdown (default) or html (one self-contained "
	"page)\n"
	"  --run N          that run (default: the newest)\n"
	"  --svg FILE       also write the timeline to FILE; Markdown links "
	"it\n"
	"                   as an image instead of an inline <svg> block\n",
	cmd_report_exec };

/* Write a buffer to a file (or stdout for NULL). -1 with errno if not. */
static int
cmd_report_put(const char *path, const struct buf *b)
{
	FILE *fp = path != NULL ? fopen(path, "w") : stdout;
	int rc = 0;

	if (fp == NULL)
		return -1;
	if (b->len > 0 && fwrite(b->data, 1, b->len, fp) != b->len)
		rc = -1;
	if (fflush(fp) == EOF)
		rc = -1;
	if (path != NULL && fclose(fp) == EOF)
		rc = -1;
	return rc;
}

/* hostswap report */
static int
cmd_report_exec(const struct cmd_entry *self, int argc, char **argv)
{
	static const struct option opts[] = { { "state", required_argument,
						  NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "run", required_argument, NULL, 'r' },
		{ "svg", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 } };
	const char *state = STORE_DEFAULT, *svg = NULL;
	enum report_format fmt = REPORT_MARKDOWN;
	struct store_run_info ri;
	struct report rp;
	struct store *st;
	struct buf doc, pic;
	char *err = NULL, *end;
	int ch, rc, run = 0;
	long v;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "markdown") == 0)
				fmt = REPORT_MARKDOWN;
			else if (strcmp(optarg, "html") == 0)
				fmt = REPORT_HTML;
			else
				return cmd_usage_error(self,
				    "--format is markdown or html, not '%s'",
				    optarg);
			break;
		case 'r':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    v < 1 || v > INT_MAX)
				return cmd_usage_error(self,
				    "--run takes a run id from 1, not '%s'",
				    optarg);
			run = (int)v;
			break;
		case 'S':
			svg = optarg;
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
	rc = store_report(st, run != 0 ? run : ri.id, &rp, &err);
	store_run_info_free(&ri);
	store_free(st);
	if (rc != STORE_OK) {
		fprintf(stderr, "hostswap: %s\n", err);
		free(err);
		return rc == STORE_NOFILE ? EXIT_NOINPUT : EXIT_REFUSED;
	}
	buf_init(&doc);
	buf_init(&pic);
	report_write(&rp, fmt, svg, &doc);
	rc = EXIT_OK;
	if (svg != NULL) {
		report_svg(&rp, 1, &pic);
		if (cmd_report_put(svg, &pic) == -1) {
			fprintf(
			    stderr, "hostswap: %s: %s\n", svg, strerror(errno));
			rc = EXIT_SOFTWARE;
		}
	}
	if (rc == EXIT_OK && cmd_report_put(NULL, &doc) == -1) {
		fprintf(stderr, "hostswap: cannot write the report: %s\n",
		    strerror(errno));
		rc = EXIT_SOFTWARE;
	}
	buf_free(&doc);
	buf_free(&pic);
	report_free(&rp);
	return rc;
}
