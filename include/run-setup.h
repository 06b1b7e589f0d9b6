/*
 * run-setup.h: the one place a run (new or taken up again) is wired to
 * what watches it: its state file, the console and notifications.
 */
#ifndef HOSTSWAP_RUN_SETUP_H
#define HOSTSWAP_RUN_SETUP_H

struct run;
struct store;

void run_setup(struct run *, struct store *, int);

#endif
