/*
 * captured.h: captured values are data, never code (SPEC v3 §2). A value
 * is substituted into a script as text only when it is one line of
 * letters, digits, spaces and "+-./:=@_,%"; every script also starts with
 * the run's captures as quoted shell variables, HOSTSWAP_CAPTURED_<NAME>
 * and HOSTSWAP_CAPTURED_<NAME>_<HOST>.
 */
#ifndef HOSTSWAP_CAPTURED_H
#define HOSTSWAP_CAPTURED_H

#include <stddef.h>

struct plan;
struct run_capture;

const char *captured_unsafe(const char *);
char *captured_describe(const char *);
char *captured_var(const char *, const char *);
char *captured_refusal(const char *, const char *, const char *);
char *captured_assign(const char *, const char *);
char *captured_preamble(
    const struct plan *, const struct run_capture *, size_t, size_t);

#endif
