/*
 * xmalloc.h: allocation that cannot fail. Out of memory is fatal in
 * hostswap (STYLE.md): a daemon half way through a swap must not limp on.
 */
#ifndef HOSTSWAP_XMALLOC_H
#define HOSTSWAP_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));
void xfatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void xfatal_format(int, int);

#endif
