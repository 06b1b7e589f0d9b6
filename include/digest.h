/*
 * digest.h: SHA-256 of files and strings, as lowercase hex, for the plan
 * and inventory hashes a run records (SPEC §4).
 */
#ifndef HOSTSWAP_DIGEST_H
#define HOSTSWAP_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX 65 /* 64 hex digits and a NUL */

int digest_file(const char *, char *);
void digest_data(const void *, size_t, char *);

#endif
