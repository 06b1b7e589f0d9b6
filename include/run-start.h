/*
 * run-start.h: a run's start and its end (run-start.c).
 */
#ifndef HOSTSWAP_RUN_START_H
#define HOSTSWAP_RUN_START_H

struct run;

void run_start(struct run *, void (*)(struct run *));
void run_start_resumed(struct run *, void (*)(struct run *));
void run_free(struct run *);

#endif
