/*
 * hostkey.h: the keys hosts must present. An expected key is a public key
 * ("TYPE BASE64") or only a fingerprint ("SHA256:..."); it comes from the
 * inventory's pin or a known_hosts file, is fixed when a run is created,
 * and follows the machine across the swap. A fingerprint is completed to
 * the full key by the first connection that presents a matching key.
 */
#ifndef HOSTSWAP_HOSTKEY_H
#define HOSTSWAP_HOSTKEY_H

#include <stddef.h>

struct hostkey {
	char *type;        /* "ssh-ed25519", or NULL for a fingerprint */
	char *base64;      /* the key, or NULL for a fingerprint */
	char *fingerprint; /* "SHA256:..." always */
};

int hostkey_from_pin(const char *, struct hostkey *);
int hostkey_from_known_hosts(
    const char *, const char *, int, struct hostkey *, char **);
int hostkey_from_blob(const char *, const char *, struct hostkey *);
int hostkey_equal(const struct hostkey *, const struct hostkey *);
int hostkey_revoked(const struct hostkey *);
char *hostkey_revoked_text(void);
void hostkey_revoked_load(const char *);
char *hostkey_line(const struct hostkey *);
char *hostkey_text(const struct hostkey *);
int hostkey_is_full(const struct hostkey *);
int hostkey_completes(const struct hostkey *, const struct hostkey *);
const char *hostkey_algorithms(const struct hostkey *);
void hostkey_copy(struct hostkey *, const struct hostkey *);
void hostkey_clear(struct hostkey *);
char *hostkey_known_hosts_name(const char *, int);

#endif
