/*
 * remote-config.h: what the operator's own ~/.ssh/config says about a
 * host (an inventory host with ssh_config: true).
 */
#ifndef HOSTSWAP_REMOTE_CONFIG_H
#define HOSTSWAP_REMOTE_CONFIG_H

struct remote_config {
	char *hostname; /* HostName, or NULL */
	int port;       /* Port, or 0 */
	char *user;     /* User, or NULL */
	char *identity; /* the first IdentityFile, expanded, or NULL */
};

int remote_config_read(const char *, struct remote_config *, char **);
void remote_config_clear(struct remote_config *);

#endif
