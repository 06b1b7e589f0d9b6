/*
 * resume.h: takes up an unfinished run (resume.c): learns what its
 * running tasks did from their records, decides, then hands the phase to
 * the scheduler.
 */
#ifndef HOSTSWAP_RESUME_H
#define HOSTSWAP_RESUME_H

struct run;
struct run_task;

void resume_start(struct run *);
void resume_lost(struct run_task *, const char *);

#endif
