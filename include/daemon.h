/*
 * daemon.h: what `run` and `resume` share — the state file held as its one
 * writer, the plan's and inventory's hashes, and the loop that carries a
 * run to its end.
 */
#ifndef HOSTSWAP_DAEMON_H
#define HOSTSWAP_DAEMON_H

#include "digest.h"

struct plan;
struct run;
struct store;

/* The default endpoint (the state file's default is STORE_DEFAULT). */
#define DAEMON_LISTEN "127.0.0.1:8470"

/* Where the HTTP endpoint listens. */
struct daemon_listen {
	char addr[64];
	int port; /* 0: any free port */
	int none; /* --listen none: no endpoint; decisions via the state file */
	int fd;   /* bound and listening (daemon_listen_open), or -1 */
};

struct daemon_hashes {
	char plan[DIGEST_HEX];
	char *inventory_path; /* NULL: the plan's own inventory */
	char inventory[DIGEST_HEX];
	char *inventory_text;
};

int daemon_open_state(const char *, struct store **);
int daemon_hashes(const struct plan *, struct daemon_hashes *);
void daemon_hashes_free(struct daemon_hashes *);
int daemon_parse_listen(const char *, struct daemon_listen *, char **);
int daemon_listen_open(struct daemon_listen *);
void daemon_listen_close(struct daemon_listen *);
int daemon_loop(struct run *, int, struct daemon_listen *);

#endif
