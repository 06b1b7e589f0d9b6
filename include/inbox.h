/*
 * inbox.h: the decisions a daemon without an HTTP endpoint takes from its
 * state file (`hostswap approve|reject|abort --state FILE`).
 */
#ifndef HOSTSWAP_INBOX_H
#define HOSTSWAP_INBOX_H

struct inbox;
struct run;
struct store;

struct inbox *inbox_new(struct run *, struct store *);
void inbox_free(struct inbox *);

#endif
