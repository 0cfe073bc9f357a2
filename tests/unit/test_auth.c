/* JWT issue/verify against forged tokens, and the libjwt and bcrypt pitfalls
 * that touch our code (the threats table of docs/SECURITY.md): "alg": "none"
 * and other algorithms, huge tokens, expired and future-dated tokens, bcrypt's
 * 72-byte truncation and damaged stored hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuaasd/auth.h"

static struct auth_key key = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
	24, 25, 26, 27, 28, 29, 30, 31, 32}};
static const int64_t NOW = 1800000000;

static char *issue(int64_t iat, int64_t exp)
{
	struct token_claims c = {.uid = 7, .token_version = 3, .iat = iat, .exp = exp};
	snprintf(c.username, sizeof c.username, "alice");
	char *tok = NULL;
	assert_int_equal(auth_token_issue(&key, &c, &tok), 0);
	return tok;
}

static enum status verify(const char *tok)
{
	struct token_claims c;
	const char *why;
	return auth_token_verify(&key, tok, NOW, &c, &why);
}

/* Signs arbitrary grants with an arbitrary algorithm and key via libjwt. */
static char *forge(jwt_alg_t alg, const unsigned char *k, int klen, const char *grants_json)
{
	jwt_t *j = NULL;
	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_add_grants_json(j, grants_json), 0);
	assert_int_equal(jwt_set_alg(j, alg, k, klen), 0);
	char *t = jwt_encode_str(j);
	jwt_free(j);
	assert_non_null(t);
	return t;
}

#define GOOD_GRANTS "{\"sub\":\"alice\",\"uid\":7,\"tv\":3,\"iat\":1800000000,\"exp\":1800003600}"

static void test_roundtrip(void **state)
{
	(void)state;
	char *tok = issue(NOW, NOW + 3600);
	struct token_claims c;
	const char *why;
	assert_int_equal(auth_token_verify(&key, tok, NOW, &c, &why), ST_OK);
	assert_string_equal(c.username, "alice");
	assert_int_equal(c.uid, 7);
	assert_int_equal(c.token_version, 3);
	assert_int_equal(c.exp, NOW + 3600);
	/* The issued token always carries a signature segment. */
	const char *dot = strrchr(tok, '.');
	assert_non_null(dot);
	assert_true(strlen(dot + 1) > 20);
	free(tok);
}

static void test_expired_and_future(void **state)
{
	(void)state;
	char *tok = issue(NOW - 7200, NOW - 1);
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
	tok = issue(NOW - 7200, NOW); /* exp == now is expired */
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
	tok = issue(NOW + 3600, NOW + 7200); /* issued in the future */
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
}

static void test_alg_none_rejected(void **state)
{
	(void)state;
	char *tok = forge(JWT_ALG_NONE, NULL, 0, GOOD_GRANTS);
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
}

static void test_other_algorithms_rejected(void **state)
{
	(void)state;
	/* libjwt would accept HS512/HS384 signed with our own key: pinned. */
	char *tok = forge(JWT_ALG_HS512, key.bytes, AUTH_KEY_LEN, GOOD_GRANTS);
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
	tok = forge(JWT_ALG_HS384, key.bytes, AUTH_KEY_LEN, GOOD_GRANTS);
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
	/* A sanity check that the forge itself works: HS256 with our key passes. */
	tok = forge(JWT_ALG_HS256, key.bytes, AUTH_KEY_LEN, GOOD_GRANTS);
	assert_int_equal(verify(tok), ST_OK);
	free(tok);
}

static void test_wrong_key_rejected(void **state)
{
	(void)state;
	unsigned char other[32];
	memset(other, 0x42, sizeof other);
	char *tok = forge(JWT_ALG_HS256, other, 32, GOOD_GRANTS);
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
}

static void test_altered_payload_rejected(void **state)
{
	(void)state;
	char *tok = issue(NOW, NOW + 3600);
	char *p = strchr(tok, '.') + 1;
	p[3] = p[3] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
	/* Signature stripped. */
	tok = issue(NOW, NOW + 3600);
	*(strrchr(tok, '.') + 1) = '\0';
	assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
	free(tok);
}

static void test_bad_claim_types(void **state)
{
	(void)state;
	/* jwt_get_grant_int would read "7" as 0; we refuse it. */
	const char *bad[] = {
		"{\"sub\":\"alice\",\"uid\":\"7\",\"tv\":3,\"iat\":1800000000,\"exp\":1800003600}",
		"{\"sub\":\"alice\",\"uid\":7,\"tv\":3,\"iat\":1800000000,\"exp\":1.8e9}",
		"{\"sub\":\"alice\",\"uid\":7,\"tv\":3,\"iat\":1800000000}",
		"{\"sub\":5,\"uid\":7,\"tv\":3,\"iat\":1800000000,\"exp\":1800003600}",
		"{\"sub\":\"alice\",\"uid\":7.5,\"tv\":3,\"iat\":1800000000,\"exp\":1800003600}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *tok = forge(JWT_ALG_HS256, key.bytes, AUTH_KEY_LEN, bad[i]);
		assert_int_equal(verify(tok), ST_UNAUTHENTICATED);
		free(tok);
	}
}

static void test_garbage_tokens(void **state)
{
	(void)state;
	assert_int_equal(verify(""), ST_UNAUTHENTICATED);
	assert_int_equal(verify(NULL), ST_UNAUTHENTICATED);
	assert_int_equal(verify("a.b.c"), ST_UNAUTHENTICATED);
	assert_int_equal(verify("...."), ST_UNAUTHENTICATED);
	assert_int_equal(verify("not a token"), ST_UNAUTHENTICATED);
	/* Longer than the cap: refused before libjwt's alloca sees it. */
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	memset(big, 'A', n);
	big[10] = '.';
	big[20] = '.';
	big[n] = '\0';
	assert_int_equal(verify(big), ST_UNAUTHENTICATED);
	free(big);
}

static void test_password_policy(void **state)
{
	(void)state;
	const char *why;
	char pw[80];
	memset(pw, 'a', 72);
	pw[72] = '\0';
	assert_true(auth_password_acceptable(pw, &why));
	pw[72] = 'a';
	pw[73] = '\0';
	assert_false(auth_password_acceptable(pw, &why)); /* bcrypt would drop byte 73 */
	assert_false(auth_password_acceptable("", &why));
	assert_false(auth_password_acceptable("\xff\xfe", &why));
	assert_true(auth_username_valid("alice"));
	assert_true(auth_username_valid("_svc.gpu-1"));
	assert_false(auth_username_valid("Alice"));
	assert_false(auth_username_valid("1alice"));
	assert_false(auth_username_valid("a b"));
	assert_false(auth_username_valid(""));
	assert_false(auth_username_valid("abcdefghijklmnopqrstuvwxyzabcdefg")); /* 33 */
	assert_false(auth_username_valid("al'ice"));
}

static void test_bcrypt(void **state)
{
	(void)state;
	char h[128];
	assert_int_equal(auth_hash_password("s3cret", 4, h, sizeof h), 0);
	assert_memory_equal(h, "$2b$04$", 7);
	assert_true(auth_hash_sound(h));
	assert_int_equal(auth_verify_password("s3cret", h), 1);
	assert_int_equal(auth_verify_password("s3cre", h), 0);
	assert_int_equal(auth_verify_password("s3cret ", h), 0);
	/* Damaged hashes would fall back to DES inside crypt: never verified. */
	assert_int_equal(auth_verify_password("s3cret", "garbage"), 0);
	assert_int_equal(auth_verify_password("ab", "ab"), 0);
	assert_int_equal(auth_verify_password("x", ""), 0);
	char cut[128];
	snprintf(cut, sizeof cut, "%.50s", h);
	assert_false(auth_hash_sound(cut));
	assert_int_equal(auth_verify_password("s3cret", cut), 0);
	/* A $2a$ or $1$ hash is not ours. */
	char other[128];
	snprintf(other, sizeof other, "%s", h);
	other[2] = 'a';
	assert_false(auth_hash_sound(other));
	char pw[32];
	assert_int_equal(auth_random_password(pw, 20), 0);
	assert_int_equal(strlen(pw), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_expired_and_future),
		cmocka_unit_test(test_alg_none_rejected),
		cmocka_unit_test(test_other_algorithms_rejected),
		cmocka_unit_test(test_wrong_key_rejected),
		cmocka_unit_test(test_altered_payload_rejected),
		cmocka_unit_test(test_bad_claim_types),
		cmocka_unit_test(test_garbage_tokens),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_bcrypt),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
