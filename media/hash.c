/* SHA-256 of file contents (libmd, the BSD digest functions: a small library,
 * so the station's resident size does not carry a whole crypto toolkit). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <sha2.h>

#include "media/media_internal.h"

int media_sha256_init(struct media_sha256 *hash)
{
	SHA2_CTX *ctx = malloc(sizeof *ctx);

	hash->ctx = ctx;
	if (!ctx)
		return -ENOMEM;
	SHA256Init(ctx);
	return 0;
}

int media_sha256_update(struct media_sha256 *hash, const void *bytes, size_t size)
{
	if (!hash->ctx)
		return -EINVAL;
	SHA256Update(hash->ctx, bytes, size);
	return 0;
}

int media_sha256_final(struct media_sha256 *hash, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_LENGTH];

	if (!hash->ctx)
		return -EINVAL;
	SHA256Final(digest, hash->ctx);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

void media_sha256_free(struct media_sha256 *hash)
{
	free(hash->ctx);
	hash->ctx = NULL;
}
