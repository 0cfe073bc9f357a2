/* cJSON pitfalls as they touch our helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"

static cJSON *parse(const char *s)
{
	return json_parse_strict(s, strlen(s));
}

static void test_trailing_garbage(void **state)
{
	(void)state;
	cJSON *o = parse("{\"a\":1}");
	assert_non_null(o);
	cJSON_Delete(o);
	assert_null(parse("{}{}"));
	assert_null(parse("{} xyz"));
	assert_null(json_parse_strict("{}\0xx", 5)); /* a NUL byte inside */
	assert_null(parse("{\"a\":"));
	o = parse("  {\"a\":1}  \n");
	assert_non_null(o);
	cJSON_Delete(o);
}

static void test_escaped_nul_refused(void **state)
{
	(void)state;
	assert_null(parse("{\"password\":\"a\\u0000b\"}"));
	/* An escaped backslash followed by u0000 is text, not a NUL. */
	cJSON *o = parse("{\"p\":\"a\\\\u0000b\"}");
	assert_non_null(o);
	cJSON_Delete(o);
}

static void test_case_sensitive(void **state)
{
	(void)state;
	cJSON *o = parse("{\"Op\":\"x\",\"op\":\"y\"}");
	const char *s = NULL;
	assert_int_equal(json_get_str(o, "op", 10, true, &s), JSON_FIELD_OK);
	assert_string_equal(s, "y");
	cJSON_Delete(o);
	o = parse("{\"OP\":\"x\"}");
	assert_int_equal(json_get_str(o, "op", 10, true, &s), JSON_FIELD_MISSING);
	cJSON_Delete(o);
}

static void test_integers(void **state)
{
	(void)state;
	cJSON *o = parse("{\"a\":1e400,\"b\":1.5,\"c\":\"5\",\"d\":9007199254740992,\"e\":9007199254740994,"
			 "\"f\":-3,\"g\":2147483648,\"h\":null,\"i\":true}");
	assert_non_null(o);
	int64_t v;
	assert_int_equal(json_get_int(o, "a", 0, JSON_INT_MAX, &v), JSON_FIELD_BAD); /* saturates in valueint */
	assert_int_equal(json_get_int(o, "b", 0, 10, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "c", 0, 10, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "d", 0, JSON_INT_MAX, &v), JSON_FIELD_OK);
	assert_int_equal(v, JSON_INT_MAX);
	assert_int_equal(json_get_int(o, "e", 0, JSON_INT_MAX, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "f", 0, 10, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "f", -10, 10, &v), JSON_FIELD_OK);
	assert_int_equal(v, -3);
	assert_int_equal(json_get_int(o, "g", 0, JSON_INT_MAX, &v), JSON_FIELD_OK);
	assert_int_equal(v, 2147483648LL); /* beyond INT_MAX read exactly */
	assert_int_equal(json_get_int(o, "h", 0, 10, &v), JSON_FIELD_MISSING);
	assert_int_equal(json_get_int(o, "i", 0, 10, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "zz", 0, 10, &v), JSON_FIELD_MISSING);
	bool b;
	assert_int_equal(json_get_bool(o, "i", &b), JSON_FIELD_OK);
	assert_true(b);
	assert_int_equal(json_get_bool(o, "f", &b), JSON_FIELD_BAD);
	cJSON_Delete(o);
}

static void test_strings(void **state)
{
	(void)state;
	/* Invalid UTF-8 anywhere refuses the whole request. */
	assert_null(parse("{\"bad\":\"\xc3\x28\"}"));
	cJSON *o = parse("{\"ctl\":\"a\\nb\",\"ok\":\"gr\xc3\xbc\xc3\x9f\",\"long\":\"abcdef\"}");
	assert_non_null(o);
	const char *s;
	assert_int_equal(json_get_str(o, "ctl", 100, true, &s), JSON_FIELD_BAD);
	assert_int_equal(json_get_str(o, "ctl", 100, false, &s), JSON_FIELD_OK);
	assert_int_equal(json_get_str(o, "ok", 100, true, &s), JSON_FIELD_OK);
	assert_int_equal(json_get_str(o, "long", 5, true, &s), JSON_FIELD_BAD);
	cJSON_Delete(o);
	assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(utf8_valid("\xe2\x82", 2));         /* truncated */
	assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
}

/* What a gateway in front of the daemon must never see differently: keys
 * twice, at any depth or spelled with escapes, are refused; integers are
 * integer literals only, and go out as integers. */
static void test_duplicates_and_integers(void **state)
{
	(void)state;
	assert_null(parse("{\"a\":1,\"a\":2}"));
	assert_null(parse("{\"x\":{\"b\":1,\"b\":1}}"));
	assert_null(parse("{\"op\":\"a\",\"\\u006fp\":\"b\"}"));
	assert_null(parse("[{\"k\":1,\"k\":[]}]"));
	cJSON *o = parse("{\"a\":{\"b\":1},\"c\":{\"b\":2}}");
	assert_non_null(o); /* the same key in different objects is fine */
	cJSON_Delete(o);
	o = parse("{\"f\":3.0,\"e\":1e2,\"big\":9007199254740993,\"ok\":9007199254740992}");
	assert_non_null(o);
	int64_t v;
	assert_int_equal(json_get_int(o, "f", 0, JSON_INT_MAX, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "e", 0, JSON_INT_MAX, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "big", 0, INT64_MAX, &v), JSON_FIELD_BAD);
	assert_int_equal(json_get_int(o, "ok", 0, JSON_INT_MAX, &v), JSON_FIELD_OK);
	cJSON_Delete(o);
	o = cJSON_CreateObject();
	assert_non_null(json_add_int(o, "q", INT64_C(1000000000000000)));
	char *text = cJSON_PrintUnformatted(o);
	assert_string_equal(text, "{\"q\":1000000000000000}");
	free(text);
	cJSON_Delete(o);
	assert_int_equal(utf8_prefix("a\xc3\xa9", 2), 1);
	assert_int_equal(utf8_prefix("abc", 2), 2);
}

static void test_time(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(time_format_rfc3339(1795701267, b, sizeof b), "2026-11-26T13:54:27Z");
	int64_t t;
	assert_int_equal(time_parse_rfc3339("2026-11-26T13:54:27Z", &t), 0);
	assert_int_equal(t, 1795701267);
	assert_int_equal(time_parse_rfc3339("2026-11-26 13:54:27", &t), -1);
}

/* Against gmtime_r and strftime, in an order that keeps changing the day
 * (the formatter keeps the last day's date), both sides of midnight and of
 * 1970, and round trips through the parser. */
static void test_time_matches_gmtime(void **state)
{
	(void)state;
	srand(4242);
	const int64_t fixed[] = {0, 1, 86399, 86400, -1, -86400, -86401, 951782400, 4102444799, 253402300799};
	for (int i = 0; i < 20000; i++) {
		int64_t t = i < 10 ? fixed[i] : (int64_t)(rand() % 4102444800LL) - (i % 7 == 0 ? 2000000000 : 0);
		if (i % 3 == 1)
			t = t - t % 86400 + (i % 2 ? 86399 : 0);
		char want[32], got[32];
		time_t tt = (time_t)t;
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_string_equal(time_format_rfc3339(t, got, sizeof got), want);
		int64_t back;
		assert_int_equal(time_parse_rfc3339(got, &back), 0);
		assert_int_equal(back, t);
	}
	char b[32];
	assert_string_equal(time_format_rfc3339(253402300800, b, sizeof b), ""); /* year 10000 */
	assert_string_equal(time_format_rfc3339(1795701267, b, sizeof b), "2026-11-26T13:54:27Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_escaped_nul_refused),
		cmocka_unit_test(test_case_sensitive),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_duplicates_and_integers),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_time_matches_gmtime),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
