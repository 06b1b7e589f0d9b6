/*
 * wrapper.h: the commands hostswap sends to hosts. Every remote task runs
 * under a small POSIX-shell wrapper whose script travels on the channel's
 * standard input, never on a command line, and which keeps a record of the
 * task on the host (SPEC §3).
 */
#ifndef HOSTSWAP_WRAPPER_H
#define HOSTSWAP_WRAPPER_H

#include <stddef.h>

/*
 * The record base on a host: root's (user root, or become: sudo), and
 * any other effective user's below their $HOME (a login user's, or
 * become_user's: sudo -H sets HOME to that user's home). Never a
 * world-writable directory.
 */
#define WRAPPER_BASE_ROOT "/var/lib/hostswap"
#define WRAPPER_BASE_USER ".local/state/hostswap"

/* What the shell under sudo prints first (then the job's nonce). */
#define WRAPPER_READY "hostswap-ready-"

/* sudo's prompt for the password (then the job's nonce and a colon). */
#define WRAPPER_PROMPT "hostswap-sudo-"

/* The wrapper's own failure: an unsafe record directory, no record. */
#define WRAPPER_EXIT_RECORD   254
#define WRAPPER_EXIT_RECORD_S "254"

/* What the check of a run's record directories says when they passed. */
#define WRAPPER_PREPARED "hostswap-records-ok"

/* The message of that failure, as the wrapper prints it on stderr. */
#define WRAPPER_UNSAFE "unsafe record directory "

/* The script arrived without its end line: it was not run. */
#define WRAPPER_EXIT_INCOMPLETE 253

/* The line that ends every script sent to a wrapper. */
#define WRAPPER_END "#hostswap-end-of-script"

enum wrapper_mode {
	WRAPPER_RUN,    /* run the script, stream its output */
	WRAPPER_DETACH, /* start it detached, output to the record */
	WRAPPER_PLAIN,  /* no record: `unless`, probes */
};

struct wrapper_become {
	int sudo;
	const char *user; /* sudo -u this user -H, or NULL: root */
	int password;     /* sudo may ask for one: prompt and gate */
	char nonce[33];   /* unique to the job: its prompt and ready line */
};

char *wrapper_record_dir(const char *, const char *, int, const char *, int);
char *wrapper_command(
    enum wrapper_mode, const char *, const struct wrapper_become *, int);
char *wrapper_script(const char *, const char *, size_t *);
char *wrapper_prepare_script(const char *, const char *const *, size_t);
char *wrapper_kill_script(const char *);
char *wrapper_probe_script(const char *);
char *wrapper_cleanup_script(const char *);
char *wrapper_base_check_script(void);
char *wrapper_put_script(const char *, const char *, size_t, int, unsigned,
    const char *, int, const char *);
char *sh_quote(const char *);

#endif
