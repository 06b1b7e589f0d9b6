/*
 * clock.h: wall-clock times as hostswap prints and stores them (clock.c).
 */
#ifndef HOSTSWAP_CLOCK_H
#define HOSTSWAP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Room for "2026-12-05T09:00:00.000Z" and its NUL. */
#define CLOCK_RFC3339_LEN 32

uint64_t clock_now_ms(void);
void clock_rfc3339(char *, size_t, uint64_t);

#endif
