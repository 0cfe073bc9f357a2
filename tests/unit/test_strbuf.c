/* The JSON writer under the hot reply paths: integers at their limits,
 * every byte that needs an escape, NULL as null, and a round trip through
 * cJSON of random byte strings (the reply must decode to what was stored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

static void test_ints_at_limits(void **state)
{
	(void)state;
	struct strbuf b;
	strbuf_init(&b, 0);
	const int64_t v[] = {0, -1, 7, INT64_MAX, INT64_MIN, 1000000};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		strbuf_add_int(&b, v[i]);
		strbuf_addc(&b, ' ');
	}
	assert_false(b.failed);
	assert_string_equal(b.data, "0 -1 7 9223372036854775807 -9223372036854775808 1000000 ");
	strbuf_finish(&b);
}

/* Every digit count, both sides of each power of ten, and both signs,
 * against snprintf. */
static void test_ints_match_printf(void **state)
{
	(void)state;
	for (int digits = 1; digits <= 19; digits++) {
		int64_t p = 1;
		for (int k = 1; k < digits; k++)
			p *= 10;
		const int64_t around[] = {p - 1, p, p + 1, p * 5 + 3, p <= INT64_MAX / 10 ? p * 10 - 1 : INT64_MAX};
		for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
			for (int sign = 1; sign >= -1; sign -= 2) {
				int64_t v = around[i] * sign;
				char want[32], got[STRBUF_INT_MAX + 1];
				snprintf(want, sizeof want, "%lld", (long long)v);
				*strbuf_put_int(got, v) = '\0';
				assert_string_equal(got, want);
			}
		}
	}
}

static void test_escapes_and_null(void **state)
{
	(void)state;
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_add_json_str(&b, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f é");
	strbuf_addc(&b, ',');
	strbuf_add_json_str(&b, NULL);
	strbuf_addc(&b, ',');
	strbuf_add_json_str(&b, "");
	assert_false(b.failed);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f é\",null,\"\"");
	strbuf_finish(&b);
}

/* Reserved front bytes stay, and room/commit append in place. */
static void test_room_commit_and_reserve(void **state)
{
	(void)state;
	struct strbuf b;
	strbuf_init(&b, 4);
	char *o = strbuf_room(&b, 10000);
	assert_non_null(o);
	memset(o, 'x', 10000);
	strbuf_commit(&b, o + 10000);
	assert_int_equal(b.len, 10004);
	assert_int_equal(b.data[b.len], '\0');
	o = strbuf_room(&b, STRBUF_INT_MAX);
	strbuf_commit(&b, strbuf_put_int(o, -42));
	assert_memory_equal(b.data + 10004, "-42", 4);
	strbuf_finish(&b);
}

static void test_random_bytes_round_trip(void **state)
{
	(void)state;
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		char in[64];
		size_t n = (size_t)(rand() % 63);
		for (size_t i = 0; i < n; i++)
			in[i] = (char)(1 + rand() % 127); /* ASCII, controls included: no NUL */
		in[n] = '\0';
		struct strbuf b;
		strbuf_init(&b, 0);
		strbuf_add_json_str(&b, in);
		assert_false(b.failed);
		cJSON *j = cJSON_Parse(b.data);
		assert_non_null(j);
		assert_true(cJSON_IsString(j));
		assert_string_equal(j->valuestring, in);
		cJSON_Delete(j);
		strbuf_finish(&b);
	}
}

/* The reference: a byte at a time, as JSON wants it. */
static size_t escape_ref(char *o, const unsigned char *s, size_t n)
{
	char *start = o;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n') {
			o += sprintf(o, "\\n");
		} else if (c == '\r') {
			o += sprintf(o, "\\r");
		} else if (c == '\t') {
			o += sprintf(o, "\\t");
		} else if (c == '\b') {
			o += sprintf(o, "\\b");
		} else if (c == '\f') {
			o += sprintf(o, "\\f");
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\u%04x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	return (size_t)(o - start);
}

/* Every byte value at every offset, UTF-8 and high bytes among them,
 * against the reference. */
static void test_escapes_match_reference(void **state)
{
	(void)state;
	srand(777);
	for (int round = 0; round < 20000; round++) {
		unsigned char in[80];
		size_t n = (size_t)(rand() % 80);
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(round % 3 == 0 ? 0x20 + rand() % 0x5f : rand() % 256);
		if (n && round % 5 == 0)
			in[rand() % n] = (unsigned char)(rand() % 256); /* one odd byte among plain ones */
		char want[80 * 6 + 3], got[STRBUF_JSON_STR_MAX(80)];
		size_t wn = escape_ref(want, in, n);
		size_t gn = (size_t)(strbuf_put_json_str(got, (const char *)in, n) - got);
		assert_int_equal(gn, wn);
		assert_memory_equal(got, want, wn);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints_at_limits),
		cmocka_unit_test(test_ints_match_printf),
		cmocka_unit_test(test_escapes_and_null),
		cmocka_unit_test(test_room_commit_and_reserve),
		cmocka_unit_test(test_random_bytes_round_trip),
		cmocka_unit_test(test_escapes_match_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
