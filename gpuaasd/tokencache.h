/* Tokens whose signature this daemon has already checked.
 *
 * Verifying an HS256 token through libjwt costs about 30 µs (base64, a JSON
 * parse in jansson, an HMAC with OpenSSL's algorithm fetch, and our own claim
 * parse): more than the rest of a submit or a 50-row list. A client sends the
 * same token on every request, so a small table remembers "this exact string
 * carries a valid signature and these claims". That fact cannot change while
 * the key stays the same, and the key is fixed for the daemon's life. What
 * can change is still checked on every request by the caller: expiry against
 * the clock (auth_claims_current), and the account, token version and role
 * against the database.
 *
 * Direct-mapped by a hash of the token; a collision evicts. Lookups compare
 * the whole token in constant time, so timing tells nothing about how much
 * of a guess matches a cached token. Pure: no I/O, no clock. */
#ifndef GPUAAS_TOKENCACHE_H
#define GPUAAS_TOKENCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuaasd/auth.h"

#define TOKEN_CACHE_SLOTS 128
#define TOKEN_CACHE_MAX_LEN 512 /* ours are ~200 bytes; longer ones are only verified */

struct token_cache_slot {
	size_t len; /* 0: empty */
	char token[TOKEN_CACHE_MAX_LEN];
	struct token_claims claims;
};

struct token_cache {
	struct token_cache_slot slots[TOKEN_CACHE_SLOTS];
};

/* True, with *claims filled, when exactly this token was put before. */
bool token_cache_get(const struct token_cache *c, const char *token, size_t len, struct token_claims *claims);
/* Remembers a token that auth_token_verify accepted. */
void token_cache_put(struct token_cache *c, const char *token, size_t len, const struct token_claims *claims);
/* Forgets every token and wipes their bytes. */
void token_cache_clear(struct token_cache *c);

#endif
