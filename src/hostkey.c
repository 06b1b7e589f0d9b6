/*
 * hostkey.c: expected host keys — from an inventory pin, or from a
 * known_hosts file through libssh's own line matcher (which understands
 * hashed entries and [address]:port) — their fingerprints, comparison, and
 * the key-exchange algorithms to ask for so that the server presents the
 * key of the expected type.
 *
 * Markers. A known_hosts line marked @cert-authority holds a CA's key,
 * never a host's: it is skipped. A line marked @revoked lists a key that
 * must never be accepted, whatever its host patterns say: every such key
 * of every known_hosts file read is kept for the whole process, and
 * hostkey_revoked() refuses it at every connection (a known key, a pin,
 * trust on first use alike).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "buf.h"
#include "hostkey.h"
#include "xmalloc.h"

/* Free a key's strings. */
void
hostkey_clear(struct hostkey *k)
{
	free(k->type);
	free(k->base64);
	free(k->fingerprint);
	k->type = k->base64 = k->fingerprint = NULL;
}

/* Copy a key. */
void
hostkey_copy(struct hostkey *dst, const struct hostkey *src)
{
	dst->type = src->type ? xstrdup(src->type) : NULL;
	dst->base64 = src->base64 ? xstrdup(src->base64) : NULL;
	dst->fingerprint = src->fingerprint ? xstrdup(src->fingerprint) : NULL;
}

/* Fill k from a libssh key. */
static int
hostkey_from_ssh_key(ssh_key key, struct hostkey *k)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *b64 = NULL, *fp;

	memset(k, 0, sizeof *k);
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	if (ssh_get_publickey_hash(
		key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK) {
		ssh_string_free_char(b64);
		return -1;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL) {
		ssh_string_free_char(b64);
		return -1;
	}
	k->type = xstrdup(ssh_key_type_to_char(ssh_key_type(key)));
	k->base64 = xstrdup(b64);
	k->fingerprint = xstrdup(fp);
	ssh_string_free_char(b64);
	ssh_string_free_char(fp);
	return 0;
}

/* A key from its type and base64 blob; -1 if libssh cannot read it. */
int
hostkey_from_blob(const char *type, const char *b64, struct hostkey *k)
{
	ssh_key key = NULL;
	int rc;

	if (ssh_pki_import_pubkey_base64(
		b64, ssh_key_type_from_name(type), &key) != SSH_OK)
		return -1;
	rc = hostkey_from_ssh_key(key, k);
	ssh_key_free(key);
	return rc;
}

/* A key from an inventory pin: "TYPE BASE64 [comment]" or "SHA256:...". */
int
hostkey_from_pin(const char *pin, struct hostkey *k)
{
	char *type, *b64, *sp;
	int rc;

	memset(k, 0, sizeof *k);
	if (strncmp(pin, "SHA256:", 7) == 0) {
		k->fingerprint = xstrdup(pin);
		return 0;
	}
	type = xstrdup(pin);
	if ((sp = strchr(type, ' ')) == NULL) {
		free(type);
		return -1;
	}
	*sp = '\0';
	b64 = sp + 1;
	if ((sp = strchr(b64, ' ')) != NULL)
		*sp = '\0';
	rc = hostkey_from_blob(type, b64, k);
	free(type);
	return rc;
}

/* Every @revoked key of the known_hosts files read (see the top). */
static struct hostkey *hostkey_revoked_keys;
static size_t hostkey_nrevoked;

/* Keep the key of a "@revoked PATTERNS TYPE BASE64 [comment]" line. */
static void
hostkey_add_revoked(const char *line)
{
	char *copy, *save = NULL, *type = NULL, *b64 = NULL;
	struct hostkey k;

	copy = xstrdup(line);
	if (strtok_r(copy, " \t", &save) != NULL && /* @revoked */
	    strtok_r(NULL, " \t", &save) != NULL && /* host patterns */
	    (type = strtok_r(NULL, " \t", &save)) != NULL)
		b64 = strtok_r(NULL, " \t", &save);
	if (b64 == NULL || hostkey_from_blob(type, b64, &k) == -1) {
		free(copy);
		return;
	}
	free(copy);
	if (hostkey_revoked(&k)) {
		hostkey_clear(&k);
		return;
	}
	hostkey_revoked_keys = xreallocarray(hostkey_revoked_keys,
	    hostkey_nrevoked + 1, sizeof *hostkey_revoked_keys);
	hostkey_revoked_keys[hostkey_nrevoked++] = k;
}

/*
 * The revoked keys read so far, a "TYPE BASE64" line each (NULL: none),
 * for a run to keep in its state file: a resume reads no known_hosts
 * file, yet a key revoked when the run began stays refused.
 */
char *
hostkey_revoked_text(void)
{
	struct buf b;
	size_t i;

	if (hostkey_nrevoked == 0)
		return NULL;
	buf_init(&b);
	for (i = 0; i < hostkey_nrevoked; i++)
		buf_printf(&b, "%s %s\n", hostkey_revoked_keys[i].type,
		    hostkey_revoked_keys[i].base64);
	return buf_release(&b);
}

/* Take back what hostkey_revoked_text() gave (a resume). */
void
hostkey_revoked_load(const char *text)
{
	const char *p = text, *nl;
	char *line;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		line = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		if (line[0] != '\0') {
			char *full;

			xasprintf(&full, "@revoked * %s", line);
			hostkey_add_revoked(full);
			free(full);
		}
		free(line);
		p = nl ? nl + 1 : NULL;
	}
}

/* Whether a key was listed @revoked in a known_hosts file read so far. */
int
hostkey_revoked(const struct hostkey *k)
{
	size_t i;

	for (i = 0; i < hostkey_nrevoked; i++)
		if (hostkey_equal(&hostkey_revoked_keys[i], k))
			return 1;
	return 0;
}

/* The name known_hosts uses: "address", or "[address]:port" off port 22. */
char *
hostkey_known_hosts_name(const char *address, int port)
{
	char *s;

	if (port == 22)
		return xstrdup(address);
	xasprintf(&s, "[%s]:%d", address, port);
	return s;
}

/*
 * The key a known_hosts file has for address:port. Returns 0 with *k set,
 * 1 if the file has none (or does not exist), -1 with *err on a read
 * error. CA lines are skipped; revoked keys are kept for hostkey_revoked()
 * (the whole file is read for them), which refuses them at connection.
 * A NULL address reads the revoked keys alone (a pinned host's key is not
 * looked up in the file, but a key revoked there is refused for it too).
 */
int
hostkey_from_known_hosts(const char *file, const char *address, int port,
    struct hostkey *k, char **err)
{
	struct ssh_knownhosts_entry *entry = NULL;
	char *name, *line = NULL, *p;
	struct hostkey found;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int rc = 1;

	*err = NULL;
	if (file == NULL)
		return 1;
	if ((fp = fopen(file, "r")) == NULL) {
		if (errno == ENOENT)
			return 1;
		xasprintf(err, "%s: %s", file, strerror(errno));
		return -1;
	}
	name = address ? hostkey_known_hosts_name(address, port) : NULL;
	while ((n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		p = line + strspn(line, " \t");
		if (strncmp(p, "@revoked", 8) == 0 &&
		    (p[8] == ' ' || p[8] == '\t')) {
			hostkey_add_revoked(p);
			continue;
		}
		if (p[0] == '@' || p[0] == '#' || p[0] == '\0' || rc == 0 ||
		    name == NULL)
			continue;
		if (ssh_known_hosts_parse_line(name, p, &entry) != SSH_OK)
			continue;
		if (entry->publickey != NULL &&
		    hostkey_from_ssh_key(entry->publickey, &found) == 0) {
			*k = found;
			rc = 0;
		}
		ssh_knownhosts_entry_free(entry);
		entry = NULL;
	}
	free(line);
	free(name);
	fclose(fp);
	return rc;
}

/* Whether a seen key (always full) matches an expected one. */
int
hostkey_equal(const struct hostkey *expected, const struct hostkey *seen)
{
	if (expected->base64 != NULL && seen->base64 != NULL)
		return strcmp(expected->type, seen->type) == 0 &&
		    strcmp(expected->base64, seen->base64) == 0;
	return expected->fingerprint != NULL && seen->fingerprint != NULL &&
	    strcmp(expected->fingerprint, seen->fingerprint) == 0;
}

/* Whether a key is known in full, not only by its fingerprint. */
int
hostkey_is_full(const struct hostkey *k)
{
	return k->type != NULL && k->base64 != NULL;
}

/*
 * Whether a seen key completes an expected one known only by its
 * fingerprint (a "SHA256:" pin): the fingerprints are the same.
 */
int
hostkey_completes(const struct hostkey *expected, const struct hostkey *seen)
{
	return !hostkey_is_full(expected) && hostkey_is_full(seen) &&
	    hostkey_equal(expected, seen);
}

/*
 * How the state file keeps a key: "TYPE BASE64", or "SHA256:..." while
 * only the fingerprint is known (hostkey_from_pin() reads both back).
 */
char *
hostkey_text(const struct hostkey *k)
{
	if (hostkey_is_full(k))
		return hostkey_line(k);
	return k->fingerprint != NULL ? xstrdup(k->fingerprint) : NULL;
}

/* "TYPE BASE64" for ${hosts.NAME.host_key}; NULL for a bare fingerprint. */
char *
hostkey_line(const struct hostkey *k)
{
	char *s;

	if (k->base64 == NULL)
		return NULL;
	xasprintf(&s, "%s %s", k->type, k->base64);
	return s;
}

/*
 * The host key algorithms to offer so the server shows the expected key's
 * type (a server with several keys would otherwise pick its favourite);
 * NULL to keep libssh's defaults when only a fingerprint is known.
 */
const char *
hostkey_algorithms(const struct hostkey *k)
{
	if (k->type == NULL)
		return NULL;
	if (strcmp(k->type, "ssh-rsa") == 0)
		return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
	return k->type;
}
