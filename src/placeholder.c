/*
 * placeholder.c: whether an inventory address is a stand-in rather than a
 * host. The shipped production inventory keeps one for a host whose
 * address the wiki does not give (dennou): preflight names it, and
 * nothing ever connects to it (a documentation address may be routed
 * somewhere, or nowhere, and either is wrong on the night).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "placeholder.h"

/* Names reserved for examples and tests (RFC 2606, RFC 6761). */
static const char *const placeholder_suffixes[] = { ".example", ".invalid",
	".test", ".example.com", ".example.net", ".example.org", NULL };

/*
 * A name below the suffix's domain, or the domain itself when it is not
 * a bare top-level name (a host may well be called "test").
 */
static int
placeholder_in_domain(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n == s - 1 && strchr(suffix + 1, '.') != NULL &&
	    strcasecmp(name, suffix + 1) == 0)
		return 1;
	return n > s && strcasecmp(name + n - s, suffix) == 0;
}

/*
 * Why ADDR is a placeholder ("a documentation address (RFC 5737)"), or
 * NULL for an address that may be a real host.
 */
const char *
placeholder_address(const char *addr)
{
	unsigned char a[16];
	size_t i;

	if (addr == NULL || addr[0] == '\0')
		return "empty";
	if (inet_pton(AF_INET, addr, a) == 1) {
		if ((a[0] == 192 && a[1] == 0 && a[2] == 2) ||
		    (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
		    (a[0] == 203 && a[1] == 0 && a[2] == 113))
			return "a documentation address (RFC 5737)";
		return NULL;
	}
	if (inet_pton(AF_INET6, addr, a) == 1)
		return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d &&
			a[3] == 0xb8
		    ? "a documentation address (RFC 3849)"
		    : NULL;
	for (i = 0; placeholder_suffixes[i] != NULL; i++)
		if (placeholder_in_domain(addr, placeholder_suffixes[i]))
			return "a name reserved for examples (RFC 2606)";
	return NULL;
}
