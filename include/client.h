/*
 * client.h: the control commands' side of the HTTP endpoint (libcurl):
 * where the daemon is and its token (from the state file, or --url and
 * HOSTSWAP_TOKEN), and one request to it.
 */
#ifndef HOSTSWAP_CLIENT_H
#define HOSTSWAP_CLIENT_H

struct buf;

struct client {
	char *url;   /* ends in '/' */
	char *token; /* or NULL */
};

int client_open(const char *, const char *, struct client *);
int client_request(struct client *, const char *, const char *, const char *,
    struct buf *, long *);
void client_close(struct client *);

#endif
