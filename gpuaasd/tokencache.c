/* Verified-token cache (see tokencache.h). */
#include "gpuaasd/tokencache.h"

#include <stdint.h>
#include <string.h>

/* FNV-1a over the token. Which slot a token lands in is no secret: a
 * chosen collision only evicts, and eviction costs one verification. */
static size_t slot_of(const char *token, size_t len)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)token[i];
		h *= 1099511628211u;
	}
	return (size_t)(h % TOKEN_CACHE_SLOTS);
}

/* Every byte is compared, whatever the first difference. */
static bool same_bytes(const char *a, const char *b, size_t len)
{
	unsigned char diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

bool token_cache_get(const struct token_cache *c, const char *token, size_t len, struct token_claims *claims)
{
	if (len == 0 || len > TOKEN_CACHE_MAX_LEN)
		return false;
	const struct token_cache_slot *s = &c->slots[slot_of(token, len)];
	if (s->len != len || !same_bytes(s->token, token, len))
		return false;
	*claims = s->claims;
	return true;
}

void token_cache_put(struct token_cache *c, const char *token, size_t len, const struct token_claims *claims)
{
	if (len == 0 || len > TOKEN_CACHE_MAX_LEN)
		return;
	struct token_cache_slot *s = &c->slots[slot_of(token, len)];
	explicit_bzero(s->token, sizeof s->token);
	memcpy(s->token, token, len);
	s->len = len;
	s->claims = *claims;
}

void token_cache_clear(struct token_cache *c)
{
	explicit_bzero(c, sizeof *c);
}
