/*
 * check.h: a check step (http, smtp, pop3, tcp) as a task on the
 * controller: its settings expanded, its probe run, what it saw kept.
 */
#ifndef HOSTSWAP_CHECK_H
#define HOSTSWAP_CHECK_H

struct run_task;

/* How a check ends its task: ok, error (or NULL), the evidence. */
typedef void (*check_finish)(
    struct run_task *, int, const char *, const char *);

void check_start(struct run_task *, check_finish);

#endif
