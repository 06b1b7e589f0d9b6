/*
 * cmd.c: the command table, dispatch, `help`, and what every command
 * shares: --help, and usage errors (exit 64).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "cmd.h"
#include "diag.h"
#include "exitcode.h"
#include "log.h"
#include "plan.h"
#include "remote.h"
#include "store.h"
#include "xmalloc.h"

static int cmd_help_exec(const struct cmd_entry *, int, char **);

static const struct cmd_entry cmd_help_entry = { "help", "[COMMAND]",
	"describe the commands, or one command", NULL, cmd_help_exec };

/* Every command, in the order `help` lists them. */
static const struct cmd_entry *const cmd_table[] = { &cmd_validate_entry,
	&cmd_show_entry, &cmd_preflight_entry, &cmd_run_entry,
	&cmd_resume_entry, &cmd_status_entry, &cmd_approve_entry,
	&cmd_reject_entry, &cmd_abort_entry, &cmd_mark_entry, &cmd_log_entry,
	&cmd_events_entry, &cmd_known_hosts_entry, &cmd_report_entry,
	&cmd_version_entry, &cmd_help_entry, NULL };

/* The command of that name, or NULL. */
const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry *const *c;

	for (c = cmd_table; *c != NULL; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

/* Usage lines wrap here. */
#define CMD_USAGE_WIDTH 80

/*
 * Print "usage: hostswap CMD USAGE" wrapped at 80 columns, breaking only
 * between words outside brackets (an option and its value stay together),
 * continued lines indented under the first word of USAGE.
 */
static void
cmd_usage_line(const struct cmd_entry *c, FILE *fp)
{
	const char *p = c->usage, *w;
	size_t indent, col, n;
	int depth;

	col = indent = (size_t)fprintf(fp, "usage: hostswap %s", c->name) + 1;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		/* One unit: up to a space outside any bracket. */
		for (w = p, depth = 0; *p != '\0' && (*p != ' ' || depth > 0);
		     p++) {
			if (*p == '[' || *p == '(')
				depth++;
			else if ((*p == ']' || *p == ')') && depth > 0)
				depth--;
		}
		n = (size_t)(p - w);
		if (n == 0)
			break;
		if (col > indent && col + 1 + n > CMD_USAGE_WIDTH) {
			fprintf(fp, "\n%*s", (int)indent, "");
			col = indent;
		} else {
			fputc(' ', fp);
			col++;
		}
		fprintf(fp, "%.*s", (int)n, w);
		col += n;
	}
	fputc('\n', fp);
}

/* Print a command's usage line, and its options' help if it has any. */
void
cmd_usage(const struct cmd_entry *c, FILE *fp)
{
	cmd_usage_line(c, fp);
	if (fp == stdout) {
		fprintf(fp, "\n%s\n", c->summary);
		if (c->help != NULL)
			fprintf(fp, "\n%s", c->help);
	}
}

/* Report a usage error and the usage line; returns EXIT_USAGE. */
int
cmd_usage_error(const struct cmd_entry *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hostswap %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	cmd_usage(c, stderr);
	return EXIT_USAGE;
}

/*
 * getopt_long() for a command, with --help added. Returns the option, -1
 * at the end, CMD_HELP after printing help, or '?' after a usage error
 * (reported).
 */
int
cmd_getopt(const struct cmd_entry *c, int argc, char **argv,
    const char *shortopts, const struct option *longopts, int *index)
{
	static struct option all[32];
	size_t n = 0;
	int ch;

	while (longopts != NULL && longopts[n].name != NULL && n < 30) {
		all[n] = longopts[n];
		n++;
	}
	all[n].name = "help";
	all[n].has_arg = no_argument;
	all[n].flag = NULL;
	all[n].val = 'h';
	memset(&all[n + 1], 0, sizeof all[n + 1]);

	opterr = 0;
	ch = getopt_long(argc, argv, shortopts, all, index);
	if (ch == 'h') {
		cmd_usage(c, stdout);
		return CMD_HELP;
	}
	if (ch == '?' || ch == ':') {
		if (optopt != 0 && ch == '?')
			cmd_usage_error(c, "unknown option '-%c'", optopt);
		else if (ch == ':' ||
		    (optind > 0 && optind <= argc &&
			argv[optind - 1][0] == '-' &&
			strchr(argv[optind - 1], '=') == NULL && optopt != 0))
			cmd_usage_error(
			    c, "option '%s' needs a value", argv[optind - 1]);
		else
			cmd_usage_error(c, "unknown or incomplete option '%s'",
			    argv[optind - 1]);
		return '?';
	}
	return ch;
}

/*
 * Load and validate a plan for a command, printing every problem as
 * FILE:LINE:COL: message. Returns EXIT_OK with *out set, EXIT_NOINPUT when
 * a named file does not exist, or EXIT_INVALID.
 */
int
cmd_load_plan(const char *path, const char *inv_path, struct plan **out)
{
	struct diag d;
	int rc;

	diag_init(&d);
	rc = plan_load(path, inv_path, out, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc == PLAN_NOFILE)
		return EXIT_NOINPUT;
	if (rc != PLAN_OK)
		return EXIT_INVALID;
	return EXIT_OK;
}

/*
 * Open a state file for reading and find its newest run. Returns EXIT_OK,
 * EXIT_NOINPUT (no such file, or no run in it) or EXIT_REFUSED (not a
 * usable state file), with the reason printed.
 */
int
cmd_open_state(const char *path, struct store **st, struct store_run_info *ri)
{
	char *err = NULL;
	int rc;

	*st = NULL;
	memset(ri, 0, sizeof *ri);
	if ((rc = store_open(path, STORE_READ, st, &err)) != STORE_OK) {
		fprintf(stderr, "hostswap: %s\n", err);
		free(err);
		return rc == STORE_NOFILE ? EXIT_NOINPUT : EXIT_REFUSED;
	}
	if (store_newest_run(*st, ri) != STORE_OK) {
		fprintf(stderr, "hostswap: %s holds no run\n", path);
		store_free(*st);
		*st = NULL;
		return EXIT_NOINPUT;
	}
	return EXIT_OK;
}

/* Parse PHASE/STEP: a phase id, a slash, a step id. -1 (reported) if not. */
int
cmd_parse_task(
    const struct cmd_entry *self, const char *arg, int *phase, char **step)
{
	const char *slash = strchr(arg, '/');
	char *end;
	long v;

	errno = 0;
	v = slash != NULL ? strtol(arg, &end, 10) : -1;
	if (slash == NULL || end != slash || errno != 0 || v < 0 ||
	    v > INT_MAX || slash[1] == '\0') {
		cmd_usage_error(self,
		    "'%s' is not PHASE/STEP (a phase id, a slash, a step id)",
		    arg);
		return -1;
	}
	*phase = (int)v;
	*step = strdup(slash + 1);
	if (*step == NULL)
		fatalx("out of memory");
	return 0;
}

/* Parse --log-format text|json; -1 (reported as a usage error) if not. */
int
cmd_log_format_arg(
    const struct cmd_entry *self, const char *arg, enum log_format *out)
{
	if (strcmp(arg, "json") == 0)
		*out = LOG_JSON;
	else if (strcmp(arg, "text") == 0)
		*out = LOG_TEXT;
	else {
		cmd_usage_error(
		    self, "--log-format is text or json, not '%s'", arg);
		return -1;
	}
	return 0;
}

/* Print the list of commands. */
static void
cmd_list(FILE *fp)
{
	const struct cmd_entry *const *c;

	fprintf(fp,
	    "usage: hostswap COMMAND [ARGS]\n\n"
	    "hostswap swaps two servers by running a YAML plan over SSH,\n"
	    "and resumes the swap when anything breaks half way.\n\n"
	    "Commands:\n");
	for (c = cmd_table; *c != NULL; c++)
		fprintf(fp, "  %-12s %s\n", (*c)->name, (*c)->summary);
	fprintf(fp,
	    "\n'hostswap help COMMAND' or 'hostswap COMMAND --help' "
	    "describes one.\n");
}

/* hostswap help [COMMAND] */
static int
cmd_help_exec(const struct cmd_entry *self, int argc, char **argv)
{
	const struct cmd_entry *c;
	int ch;

	optind = 0;
	while ((ch = cmd_getopt(self, argc, argv, "+", NULL, NULL)) != -1) {
		if (ch == CMD_HELP)
			return EXIT_OK;
		return EXIT_USAGE;
	}
	if (argc - optind > 1)
		return cmd_usage_error(self, "too many arguments");
	if (argc - optind == 0) {
		cmd_list(stdout);
		return EXIT_OK;
	}
	if ((c = cmd_find(argv[optind])) == NULL)
		return cmd_usage_error(
		    self, "unknown command '%s'", argv[optind]);
	cmd_usage(c, stdout);
	return EXIT_OK;
}

/*
 * Dispatch argv[1] to its command. Leading -v (repeatable: -v, -vv, -vvv
 * or -v -v -v) raise the log level: debug messages from the first, and
 * from the third libssh's own log too (secrets still scrubbed).
 */
int
cmd_main(int argc, char **argv)
{
	const struct cmd_entry *c;
	int verbose = 0;

	log_detect_journal();
	while (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v' &&
	    argv[1][strspn(argv[1] + 1, "v") + 1] == '\0') {
		verbose += (int)strlen(argv[1]) - 1;
		argv++;
		argc--;
	}
	if (argc > 1 && strcmp(argv[1], "--verbose") == 0) {
		verbose++;
		argv++;
		argc--;
	}
	if (verbose > 0)
		log_set_verbose(verbose);
	if (verbose >= 3)
		remote_debug_log(1);
	if (argc < 2) {
		cmd_list(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cmd_list(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version_entry.exec(&cmd_version_entry, 1, argv + 1);
	if ((c = cmd_find(argv[1])) == NULL) {
		fprintf(stderr,
		    "hostswap: unknown command '%s' (try "
		    "'hostswap help')\n",
		    argv[1]);
		return EXIT_USAGE;
	}
	return c->exec(c, argc - 1, argv + 1);
}

/* The known_hosts file a command reads: --known-hosts, else the user's. */
char *
cmd_known_hosts_path(const char *arg)
{
	const char *home = getenv("HOME");
	char *path;

	if (arg != NULL)
		return xstrdup(arg);
	xasprintf(&path, "%s/.ssh/known_hosts", home ? home : "");
	return path;
}
