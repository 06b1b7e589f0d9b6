/*
 * wrapper.h: the commands hostswap sends to hosts. Every remote task runs
 * under a small POSIX-shell wrapper whose script travels on the channel's
 * standard input, never on a command line, and which keeps a record of the
 * task on the host (SPEC §3).
 */
#ifndef HOSTSWAP_WRAPPER_H
#define HOSTSWAP_WRAPPER_H

#include <stddef.h>

/* The root of the records on a host. */
#define WRAPPER_ROOT "/var/tmp/hostswap"

/* The line the shell under sudo prints once sudo accepted the password. */
#define WRAPPER_READY "HOSTSWAP-SUDO-READY"

/* The wrapper's own failure (it could not create the record). */
#define WRAPPER_EXIT_RECORD 254

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
	int password; /* a password goes first on stdin */
};

char *wrapper_record_dir(const char *, const char *, int, const char *, int);
char *wrapper_command(
    enum wrapper_mode, const char *, const struct wrapper_become *);
char *wrapper_script(const char *, size_t *);
char *wrapper_prepare_script(char *const *, size_t);
char *wrapper_kill_script(const char *);
char *wrapper_probe_script(const char *);
char *wrapper_cleanup_script(const char *);
char *wrapper_put_script(const char *, const char *, size_t, int, unsigned,
    const char *, int, const char *);
char *sh_quote(const char *);

#endif
