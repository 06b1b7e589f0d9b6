/*
 * log.h: messages for the operator, in OpenSMTPD's shape. Human text to
 * stderr, or one JSON object a line with log_init(LOG_JSON).
 */
#ifndef HOSTSWAP_LOG_H
#define HOSTSWAP_LOG_H

#include <stdarg.h>

enum log_format {
	LOG_TEXT,
	LOG_JSON,
};

void log_detect_journal(void);
void log_init(enum log_format, int);
void log_set_verbose(int);
enum log_format log_get_format(void);
void log_conceal(const char *);
char *log_scrub(const char *);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
