/*
 * inventory.h: loading the inventory (where the hosts are and how to log
 * in), either inline in the plan or from its own file (SPEC §2).
 */
#ifndef HOSTSWAP_INVENTORY_H
#define HOSTSWAP_INVENTORY_H

struct loader;
struct node;
struct inventory;

int inventory_valid_host_name(const char *);
const char *inventory_nearest_host(const struct inventory *, const char *);
void inventory_load(struct loader *, const struct node *, struct inventory *);
void inventory_check_vars(struct loader *, const struct node *);
void inventory_free(struct inventory *);

#endif
