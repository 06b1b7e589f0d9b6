/*
 * local.h: scripts that run on the controller (`on: local`), through
 * uv_spawn, with the same shape as a remote job: script on stdin, output,
 * exit status.
 */
#ifndef HOSTSWAP_LOCAL_H
#define HOSTSWAP_LOCAL_H

#include <stddef.h>

#include <uv.h>

/* Scripts running at once on the controller; more wait their turn. */
#define LOCAL_MAX_RUNNING 32

struct remote_job_cb;
struct local_job;

struct local_job *local_run(
    uv_loop_t *, const char *, size_t, const struct remote_job_cb *, void *);
void local_job_abandon(struct local_job *);

#endif
