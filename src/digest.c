/*
 * digest.c: SHA-256 through OpenSSL's libcrypto (already a dependency of
 * libssh), so that a resume can tell whether the plan file changed.
 */
#include <stdio.h>

#include <openssl/evp.h>

#include "digest.h"
#include "log.h"

/* Hex of a finished digest. */
static void
digest_hex(const unsigned char *md, unsigned len, char *out)
{
	unsigned i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* SHA-256 of a file's bytes into out (DIGEST_HEX); -1 if unreadable. */
int
digest_file(const char *path, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE], chunk[16384];
	unsigned len = 0;
	EVP_MD_CTX *ctx;
	FILE *fp;
	size_t n;
	int rc = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("out of memory");
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		EVP_DigestUpdate(ctx, chunk, n);
	if (ferror(fp))
		rc = -1;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	fclose(fp);
	digest_hex(md, len, out);
	return rc;
}

/* SHA-256 of bytes into out (DIGEST_HEX). */
void
digest_data(const void *data, size_t n, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256 failed");
	digest_hex(md, len, out);
}
