/*
 * run-record.h: the run as the state file records it (run-record.c).
 */
#ifndef HOSTSWAP_RUN_RECORD_H
#define HOSTSWAP_RUN_RECORD_H

struct run;
struct run_listener;
struct store;

void run_record_listener(struct store *, struct run_listener *);
void run_record_note(const struct run *, const char *);
int run_record_restore(struct store *, struct run *, char **);
void run_record_create(struct store *, struct run *, const char *, const char *,
    const char *, const char *);

#endif
