/*
 * console.h: what the operator sees of a run on the terminal (console.c):
 * transitions, notes, the live lines; or one JSON object per line.
 */
#ifndef HOSTSWAP_CONSOLE_H
#define HOSTSWAP_CONSOLE_H

struct run;
struct run_phase;
struct run_task;

void console_task(const struct run *, const struct run_task *);
void console_phase(const struct run *, const struct run_phase *);
void console_run(const struct run *);
void console_note(const struct run *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif
