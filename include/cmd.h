/*
 * cmd.h: hostswap's subcommands, one file each (cmd-NAME.c), behind the
 * one table in cmd.c.
 */
#ifndef HOSTSWAP_CMD_H
#define HOSTSWAP_CMD_H

#include <stdio.h>

#include "log.h"

struct option;
struct plan;
struct preflight_opts;
struct store;
struct uv_loop_s;
struct store_run_info;

struct cmd_entry {
	const char *name;
	const char *usage;   /* arguments after the name */
	const char *summary; /* one line */
	const char *help;    /* the options, one a line, or NULL */
	int (*exec)(const struct cmd_entry *, int, char **);
};

extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_preflight_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_approve_entry;
extern const struct cmd_entry cmd_reject_entry;
extern const struct cmd_entry cmd_abort_entry;
extern const struct cmd_entry cmd_mark_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_events_entry;
extern const struct cmd_entry cmd_known_hosts_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_version_entry;

int cmd_main(int, char **);
const struct cmd_entry *cmd_find(const char *);
void cmd_usage(const struct cmd_entry *, FILE *);
int cmd_usage_error(const struct cmd_entry *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
int cmd_getopt(const struct cmd_entry *, int, char **, const char *,
    const struct option *, int *);

int cmd_load_plan(const char *, const char *, struct plan **);
int cmd_open_state(const char *, struct store **, struct store_run_info *);
int cmd_parse_task(const struct cmd_entry *, const char *, int *, char **);
int cmd_log_format_arg(
    const struct cmd_entry *, const char *, enum log_format *);
char *cmd_known_hosts_path(const char *);
int show_plan_text(struct plan *, FILE *, int, int);
int cmd_preflight_checks(const struct plan *, const struct preflight_opts *,
    struct uv_loop_s *, FILE *, const char *, enum log_format);

/* cmd_getopt() returns this after printing the help for --help. */
#define CMD_HELP -2

#endif
