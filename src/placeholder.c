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
/* Whether the four bytes are in an IPv4 documentation range. */
static int
placeholder_v4(const unsigned char *a)
{
	return (a[0] == 192 && a[1] == 0 && a[2] == 2) ||
	    (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
	    (a[0] == 203 && a[1] == 0 && a[2] == 113);
}

const char *
placeholder_address(const char *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	unsigned char a[16];
	char name[256];
	size_t i, n;

	if (addr == NULL || addr[0] == '\0')
		return "empty";
	if (inet_pton(AF_INET, addr, a) == 1)
		return placeholder_v4(a) ? "a documentation address (RFC 5737)"
					 : NULL;
	if (inet_pton(AF_INET6, addr, a) == 1) {
		if (memcmp(a, mapped, sizeof mapped) == 0)
			return placeholder_v4(a + 12)
			    ? "a documentation address (RFC 5737)"
			    : NULL;
		return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d &&
			a[3] == 0xb8
		    ? "a documentation address (RFC 3849)"
		    : NULL;
	}
	/* A name, less the root's trailing dot. */
	n = strlen(addr);
	if (n >= sizeof name)
		return NULL;
	memcpy(name, addr, n + 1);
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	for (i = 0; placeholder_suffixes[i] != NULL; i++)
		if (placeholder_in_domain(name, placeholder_suffixes[i]))
			return "a name reserved for examples (RFC 2606)";
	return NULL;
}
