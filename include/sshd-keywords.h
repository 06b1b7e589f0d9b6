/*
 * sshd-keywords.h: the sshd_config keywords (and the few values) each
 * OpenSSH release knows, the version a server's banner gives, and the
 * keywords a text writes (sshd-keywords.c).
 */
#ifndef HOSTSWAP_SSHD_KEYWORDS_H
#define HOSTSWAP_SSHD_KEYWORDS_H

#include <stddef.h>

/* An OpenSSH release as a number: 6.7 is 607, 10.0 is 1000. */
#define SSHD_VERSION(major, minor) ((major)*100 + (minor))
/* The oldest release the table tells apart: "3.0 or earlier". */
#define SSHD_BASELINE SSHD_VERSION(3, 0)

struct sshd_keyword {
	const char *name;  /* as sshd_config(5) spells it */
	const char *value; /* NULL: the keyword itself */
	int since;         /* the release that introduced it */
};

/* A keyword (with its value, if the value came later) a text writes. */
typedef void (*sshd_keywords_cb)(
    const struct sshd_keyword *, const char *, void *);

const struct sshd_keyword *sshd_keyword_find(const char *, const char *);
int sshd_version_of_banner(const char *);
void sshd_version_string(int, char *, size_t);
int sshd_keywords_mentioned(const char *);
void sshd_keywords_scan(const char *, sshd_keywords_cb, void *);

#endif
