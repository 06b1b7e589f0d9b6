/*
 * check.h: a check step (http, smtp, pop3, tcp) as a task on the
 * controller: its settings expanded, its probe run, what it saw kept.
 */
#ifndef HOSTSWAP_CHECK_H
#define HOSTSWAP_CHECK_H

struct run_task;

void check_start(struct run_task *);

#endif
