/* The verified-token cache: only the exact string hits, in any slot
 * collision the newest wins, over-long tokens are never kept, and clear
 * forgets (and wipes) everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gpuaasd/tokencache.h"

static struct token_cache cache;

static struct token_claims claims_of(int64_t uid)
{
	struct token_claims c = {.uid = uid, .token_version = 2, .iat = 100, .exp = 200};
	snprintf(c.username, sizeof c.username, "user%lld", (long long)uid);
	return c;
}

static int reset(void **state)
{
	(void)state;
	token_cache_clear(&cache);
	return 0;
}

static void test_exact_token_hits(void **state)
{
	(void)state;
	const char *tok = "aaa.bbb.ccc";
	struct token_claims in = claims_of(7), out;
	assert_false(token_cache_get(&cache, tok, strlen(tok), &out));
	token_cache_put(&cache, tok, strlen(tok), &in);
	assert_true(token_cache_get(&cache, tok, strlen(tok), &out));
	assert_memory_equal(&in, &out, sizeof in);
}

static void test_near_misses_miss(void **state)
{
	(void)state;
	const char *tok = "aaa.bbb.ccc";
	struct token_claims in = claims_of(7), out;
	token_cache_put(&cache, tok, strlen(tok), &in);
	/* Same length, one byte off; a prefix; a longer string; empty. */
	assert_false(token_cache_get(&cache, "aaa.bbb.ccd", 11, &out));
	assert_false(token_cache_get(&cache, tok, strlen(tok) - 1, &out));
	assert_false(token_cache_get(&cache, "aaa.bbb.cccc", 12, &out));
	assert_false(token_cache_get(&cache, "", 0, &out));
}

/* With more tokens than slots some collide: each lookup returns the claims
 * put with that very token, or nothing, never another token's. */
static void test_collisions_never_mix_claims(void **state)
{
	(void)state;
	char tok[64];
	int n = TOKEN_CACHE_SLOTS * 4;
	for (int i = 0; i < n; i++) {
		int len = snprintf(tok, sizeof tok, "hdr.payload%d.sig", i);
		struct token_claims c = claims_of(i + 1);
		token_cache_put(&cache, tok, (size_t)len, &c);
	}
	int hits = 0;
	for (int i = 0; i < n; i++) {
		int len = snprintf(tok, sizeof tok, "hdr.payload%d.sig", i);
		struct token_claims out;
		if (token_cache_get(&cache, tok, (size_t)len, &out)) {
			assert_int_equal(out.uid, i + 1);
			hits++;
		}
	}
	assert_true(hits > 0 && hits <= TOKEN_CACHE_SLOTS);
	/* The last one put is always there. */
	int len = snprintf(tok, sizeof tok, "hdr.payload%d.sig", n - 1);
	struct token_claims out;
	assert_true(token_cache_get(&cache, tok, (size_t)len, &out));
}

static void test_long_tokens_not_kept(void **state)
{
	(void)state;
	char tok[TOKEN_CACHE_MAX_LEN + 2];
	memset(tok, 'x', sizeof tok - 1);
	tok[sizeof tok - 1] = '\0';
	struct token_claims in = claims_of(3), out;
	token_cache_put(&cache, tok, sizeof tok - 1, &in);
	assert_false(token_cache_get(&cache, tok, sizeof tok - 1, &out));
	/* At the limit it is kept. */
	token_cache_put(&cache, tok, TOKEN_CACHE_MAX_LEN, &in);
	assert_true(token_cache_get(&cache, tok, TOKEN_CACHE_MAX_LEN, &out));
}

static void test_clear_forgets_and_wipes(void **state)
{
	(void)state;
	const char *tok = "secret.token.bytes";
	struct token_claims in = claims_of(9), out;
	token_cache_put(&cache, tok, strlen(tok), &in);
	token_cache_clear(&cache);
	assert_false(token_cache_get(&cache, tok, strlen(tok), &out));
	const unsigned char *raw = (const unsigned char *)&cache;
	for (size_t i = 0; i < sizeof cache; i++)
		assert_int_equal(raw[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exact_token_hits, reset),
		cmocka_unit_test_setup(test_near_misses_miss, reset),
		cmocka_unit_test_setup(test_collisions_never_mix_claims, reset),
		cmocka_unit_test_setup(test_long_tokens_not_kept, reset),
		cmocka_unit_test_setup(test_clear_forgets_and_wipes, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
