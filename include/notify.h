/*
 * notify.h: messages about a run to the people the inventory's notify:
 * key names (a mail, a webhook) when the run fails, waits for a human,
 * is interrupted or aborted, or succeeds. A message never changes the
 * run's outcome: one that cannot be sent is logged and noted.
 */
#ifndef HOSTSWAP_NOTIFY_H
#define HOSTSWAP_NOTIFY_H

struct notify;
struct run;

/* How long one message may take; the daemon waits this long at most. */
#define NOTIFY_TIMEOUT_MS 10000

struct notify *notify_new(struct run *);
void notify_run(struct notify *, struct run *);
void notify_drain(struct notify *, void (*)(void *), void *);
void notify_free(struct notify *);

#endif
