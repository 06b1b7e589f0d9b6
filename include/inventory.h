/*
 * inventory.h: loading the inventory (where the hosts are and how to log
 * in), either inline in the plan or from its own file, and its model:
 * hosts, vars, resolve, notify.
 */
#ifndef HOSTSWAP_INVENTORY_H
#define HOSTSWAP_INVENTORY_H

#include <stddef.h>

/* The name `on: local` uses for the controller: no host may take it. */
#define PLAN_LOCAL "local"

struct loader;
struct node;

/* A name and its value, where it was written (a plan's or inventory's
 * vars, the inventory's resolve). */
struct kv {
	char *key;
	char *value; /* a template */
	unsigned line, col;
};

struct host {
	char *name;
	char *address;
	int port;
	char *user;
	char *identity;
	int become_sudo;
	char *become_password; /* template, usually a secret */
	char *become_user;     /* sudo -u this user, or NULL: root */
	char *host_key;        /* "TYPE BASE64", "SHA256:..." or NULL */
	int max_channels;
	int ssh_config;   /* the operator's ~/.ssh/config filled the gaps */
	char *proxy_jump; /* the bastion's inventory name, or NULL */
	const struct host *bastion; /* that host, once the inventory is read */
	unsigned line, col;
};

/*
 * The run states a notification is sent for (the inventory's notify.on);
 * bit i is the i-th name of inventory_notify_events.
 */
#define NOTIFY_ON_FAILED      0x01u
#define NOTIFY_ON_WAITING     0x02u
#define NOTIFY_ON_SUCCEEDED   0x04u
#define NOTIFY_ON_INTERRUPTED 0x08u
#define NOTIFY_ON_ABORTED     0x10u
#define NOTIFY_ON_ALL         0x1fu

/* Where the run's messages go: the inventory's notify: key. */
struct notify_spec {
	char *smtp_url;  /* template, or NULL: no mail */
	char *smtp_from; /* template */
	char **smtp_to;  /* templates */
	size_t nsmtp_to;
	char *webhook_url; /* template, or NULL: no webhook */
	unsigned on;       /* NOTIFY_ON_* */
};

struct inventory {
	char *path;  /* file it came from */
	int inline_; /* came from the plan's inventory: map */
	struct host *hosts;
	size_t nhosts;
	struct kv *vars;
	size_t nvars;
	struct kv *resolve; /* name -> address, for checks */
	size_t nresolve;
	char *ca_file;
	struct notify_spec *notify; /* NULL: no notifications */
};

int inventory_valid_host_name(const char *);
const char *inventory_nearest_host(const struct inventory *, const char *);
void inventory_load(struct loader *, const struct node *, struct inventory *);
void inventory_free(struct inventory *);

#endif
