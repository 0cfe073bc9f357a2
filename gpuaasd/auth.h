/* Authentication primitives: the JWT signing key, token issue and
 * verification (libjwt, HS256 pinned), and password/username policy. The
 * traps of libjwt 1.10.2 and bcrypt are handled here and covered by
 * tests/unit/test_auth.c: libjwt takes the algorithm from the token header,
 * accepts anything when given an empty key, signs nothing when no algorithm
 * is set, checks no time claims and allocas the token length; bcrypt ignores
 * bytes past 72 and crypt falls back to DES on a damaged hash. The threats
 * and their tests are listed in docs/SECURITY.md. */
#ifndef GPUAAS_GPUAASD_AUTH_H
#define GPUAAS_GPUAASD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define AUTH_KEY_LEN 32
#define AUTH_TOKEN_MAX 4096 /* longer tokens are refused before libjwt sees them */
#define AUTH_PASSWORD_MAX 72 /* bcrypt ignores bytes past 72: refuse them */

struct auth_key {
	unsigned char bytes[AUTH_KEY_LEN];
};

struct token_claims {
	char username[33];
	int64_t uid;
	int64_t token_version;
	int64_t iat;
	int64_t exp;
};

/* Loads <state_dir>/jwt.key, creating 32 random bytes (mode 0600) on first
 * start. A key file of the wrong size or mode is refused. */
int auth_key_load(const char *state_dir, struct auth_key *key, char *err, size_t errlen);

/* Issues an HS256 token; *out is malloc'd (free()). Returns 0 or -1. */
int auth_token_issue(const struct auth_key *key, const struct token_claims *claims, char **out);

/* Verifies signature (HS256 only, our key), structure, claim types and
 * expiry at now. ST_OK fills *claims; anything else is ST_UNAUTHENTICATED
 * with a reason in why. The caller still checks the user and token version
 * against the database. */
enum status auth_token_verify(const struct auth_key *key, const char *token, int64_t now,
	struct token_claims *claims, const char **why);

/* The time claims at now: exp is in the future, iat not more than 60 s
 * ahead. False with a reason in why. auth_token_verify applies it; a caller
 * holding claims verified earlier applies it again on each use. */
bool auth_claims_current(const struct token_claims *claims, int64_t now, const char **why);

/* Password policy: 1..72 bytes, valid UTF-8 (no NUL can reach here). */
bool auth_password_acceptable(const char *pw, const char **why);
/* Username policy: [a-z_][a-z0-9_.-]{0,31}. */
bool auth_username_valid(const char *name);

/* bcrypt. Both are slow by design: run them off the event loop (hasher.c).
 * auth_hash_password: new "$2b$" hash of pw at cost into out; 0 or -1.
 * auth_verify_password: 1 when pw matches stored, 0 when not (including a
 * stored hash that is not a sound bcrypt hash), -1 on error. */
int auth_hash_password(const char *pw, int cost, char *out, size_t outlen);
int auth_verify_password(const char *pw, const char *stored);
/* True when stored is a well-formed "$2b$" bcrypt hash that crypt accepts. */
bool auth_hash_sound(const char *stored);

/* Fills buf with a random password of len characters (letters and digits). */
int auth_random_password(char *buf, size_t len);

#endif
