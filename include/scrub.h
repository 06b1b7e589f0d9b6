/*
 * scrub.h: text with given values hidden (scrub.c); what the log and a
 * run's secrets both use to keep secrets out of what hostswap prints.
 */
#ifndef HOSTSWAP_SCRUB_H
#define HOSTSWAP_SCRUB_H

#include <stddef.h>

char *scrub(char *const *, size_t, const char *, size_t);

#endif
