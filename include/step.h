/*
 * step.h: loading one step of a phase (its id, targets, kind and
 * options), and what a step's kind means: its name, whether it runs on
 * the controller, an attempt's time limit (step.c).
 */
#ifndef HOSTSWAP_STEP_H
#define HOSTSWAP_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

struct loader;
struct node;

char *step_slug(const char *);
int step_valid_id(const char *);
void step_load(struct loader *, const struct node *, struct step *);
void step_free(struct step *);
const char *step_kind_name(enum step_kind);
int step_kind_on_controller(enum step_kind);
uint64_t step_attempt_timeout_ms(const struct step *);

#endif
