/*
 * api.h: the daemon's HTTP endpoint (SPEC §6): the status page, the status
 * JSON, the event stream, task logs, approve / reject / abort, metrics.
 */
#ifndef HOSTSWAP_API_H
#define HOSTSWAP_API_H

struct api;
struct http_server;
struct run;
struct store;

struct api *api_new(struct run *, struct store *, const char *, const char *,
    int, int, char **);
struct http_server *api_server(const struct api *);
void api_drain(struct api *, void (*)(void *), void *);
void api_free(struct api *);

#endif
