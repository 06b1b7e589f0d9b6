/*
 * duration.h: durations as plans write them: 500ms, 90s, 10m, 1h, 1h30m.
 */
#ifndef HOSTSWAP_DURATION_H
#define HOSTSWAP_DURATION_H

#include <stddef.h>
#include <stdint.h>

int duration_parse(const char *, uint64_t *);
void duration_format(uint64_t, char *, size_t);

#endif
