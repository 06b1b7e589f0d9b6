/*
 * exitcode.h: the exit statuses of SPEC §5, in one place.
 */
#ifndef HOSTSWAP_EXITCODE_H
#define HOSTSWAP_EXITCODE_H

enum exitcode {
	EXIT_OK = 0,        /* the run succeeded, or the command did its job */
	EXIT_FAILED = 1,    /* a task failed, preflight failed, rejected */
	EXIT_RESUMABLE = 3, /* waiting, interrupted or aborted */
	EXIT_USAGE = 64,    /* usage error */
	EXIT_INVALID = 65,  /* invalid plan or inventory */
	EXIT_NOINPUT = 66,  /* a named file does not exist */
	EXIT_UNAVAILABLE = 69, /* the daemon cannot be reached */
	EXIT_SOFTWARE = 70,    /* internal error */
	EXIT_REFUSED = 75,     /* refused because of the state file */
};

#endif
