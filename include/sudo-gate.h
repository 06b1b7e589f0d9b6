/*
 * sudo-gate.h: starting a remote wrapper, with become: sudo's password
 * written only when sudo asks for it (sudo-gate.c).
 */
#ifndef HOSTSWAP_SUDO_GATE_H
#define HOSTSWAP_SUDO_GATE_H

#include <stddef.h>

#include "remote.h"
#include "wrapper.h"

struct remote_job *sudo_gate_start(struct remote *, int, enum wrapper_mode,
    const char *, const char *, const char *, size_t, int,
    const struct remote_job_cb *, void *);

#endif
