/*
 * step.h: loading one step of a phase: its id, targets, kind and options.
 */
#ifndef HOSTSWAP_STEP_H
#define HOSTSWAP_STEP_H

#include <stddef.h>

struct loader;
struct node;
struct step;

char *step_slug(const char *);
int step_valid_id(const char *);
void step_load(struct loader *, const struct node *, struct step *);
void step_free(struct step *);

#endif
