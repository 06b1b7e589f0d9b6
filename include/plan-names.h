/*
 * plan-names.h: the names a plan defines and the check of every ${...}
 * reference to them (plan-names.c).
 */
#ifndef HOSTSWAP_PLAN_NAMES_H
#define HOSTSWAP_PLAN_NAMES_H

struct capture;
struct host;
struct loader;
struct node;
struct plan;
struct secret;

const struct host *plan_host(const struct plan *, const char *);
const char *plan_var(const struct plan *, const char *);
const struct secret *plan_secret(const struct plan *, const char *);
const struct capture *plan_capture(const struct plan *, const char *);
void plan_check_refs(struct loader *, const struct node *);
void plan_check_inventory_refs(struct loader *, const struct node *);

#endif
