/*
 * waiter.h: the step kinds that wait for a host to come back: detach (a
 * script that may cut the connection), reboot (a new boot id) and wait
 * (reachable under the expected key).
 */
#ifndef HOSTSWAP_WAITER_H
#define HOSTSWAP_WAITER_H

struct run_host;
struct run_task;

void waiter_start(struct run_task *);
void waiter_resume(struct run_task *);
void waiter_cancel(struct run_task *);
struct run_host *waiter_record_host(const struct run_task *);
char *waiter_describe(const struct run_task *);

#endif
