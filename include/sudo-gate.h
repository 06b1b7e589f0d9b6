/*
 * sudo-gate.h: starting a remote wrapper, with become: sudo's password
 * written only when sudo asks for it (sudo-gate.c).
 */
#ifndef HOSTSWAP_SUDO_GATE_H
#define HOSTSWAP_SUDO_GATE_H

#include <stddef.h>

#include "remote.h"
#include "wrapper.h"

/* One wrapper to start on a session. */
struct sudo_gate_job {
	int sudo;         /* become: sudo */
	const char *user; /* become_user, or NULL: root */
	enum wrapper_mode mode;
	const char *record; /* the attempt's record, RUN and DETACH */
	int verified;       /* this run checked the record's directories */
	const char *script;
	const char *pw; /* sudo's password line, or NULL */
	size_t pwlen;
	int flags; /* remote_exec()'s */
};

struct remote_job *sudo_gate_start(struct remote *,
    const struct sudo_gate_job *, const struct remote_job_cb *, void *);

#endif
