/*
 * placeholder.h: addresses that stand for "not filled in yet" in an
 * inventory (documentation ranges and reserved names).
 */
#ifndef HOSTSWAP_PLACEHOLDER_H
#define HOSTSWAP_PLACEHOLDER_H

const char *placeholder_address(const char *);

#endif
