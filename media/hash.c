/* SHA-256 of file contents (libcrypto EVP). */
#include <errno.h>

#include <openssl/evp.h>

#include "media/media_internal.h"

int media_sha256_init(struct media_sha256 *hash)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	hash->ctx = ctx;
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		hash->ctx = NULL;
		return -EIO;
	}
	return 0;
}

int media_sha256_update(struct media_sha256 *hash, const void *bytes, size_t size)
{
	return EVP_DigestUpdate(hash->ctx, bytes, size) == 1 ? 0 : -EIO;
}

int media_sha256_final(struct media_sha256 *hash, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int size = 0, i;

	if (EVP_DigestFinal_ex(hash->ctx, digest, &size) != 1 || size != 32)
		return -EIO;
	for (i = 0; i < size; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

void media_sha256_free(struct media_sha256 *hash)
{
	EVP_MD_CTX_free(hash->ctx);
	hash->ctx = NULL;
}
