/*
 * buf.h: a growable byte buffer, always NUL-terminated.
 */
#ifndef HOSTSWAP_BUF_H
#define HOSTSWAP_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *);
void buf_add(struct buf *, const void *, size_t);
void buf_adds(struct buf *, const char *);
void buf_addc(struct buf *, char);
void buf_add_visible(struct buf *, const char *, size_t);
void buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
char *buf_release(struct buf *);
void buf_free(struct buf *);
char *buf_read_file(const char *);

#endif
