/*
 * control-state.h: approve, reject and abort through the state file, for
 * a daemon that has no HTTP endpoint (`--listen none`).
 */
#ifndef HOSTSWAP_CONTROL_STATE_H
#define HOSTSWAP_CONTROL_STATE_H

int control_state_decide(const char *, const char *, const char *, int,
    const char *, const char *, const char *);

#endif
