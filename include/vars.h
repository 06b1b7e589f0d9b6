/*
 * vars.h: ${name} templates. "$${" writes a literal "${" (for the shell's
 * own ${VAR}); a lone "$" or "$$" is left alone. Names are made of
 * letters, digits, '_', '-' and '.'.
 */
#ifndef HOSTSWAP_VARS_H
#define HOSTSWAP_VARS_H

#include <stddef.h>

/* Called for the k-th reference (name, its length, offset of "${"). */
typedef int (*vars_ref_cb)(const char *, size_t, size_t, size_t, void *);

/* Returns the value of a name (allocated), or NULL if it is unknown. */
typedef char *(*vars_lookup_cb)(const char *, void *);

/* How vars_scan() ends. */
#define VARS_OK           0
#define VARS_UNTERMINATED -1 /* "${" with no "}" on the same line */
#define VARS_BADNAME      -2 /* "${}" or a character not allowed */

int vars_scan(const char *, size_t, vars_ref_cb, void *, size_t *);
char *vars_expand(const char *, vars_lookup_cb, void *, char **);
int vars_valid_name(const char *, size_t);
const char *vars_strerror(int);

#endif
