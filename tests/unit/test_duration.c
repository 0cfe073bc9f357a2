/* Durations (the daemon's parser and gpuctl's) and the status mappings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/duration.h"
#include "common/status.h"

static void test_parse_valid(void **state)
{
	(void)state;
	struct {
		const char *in;
		int64_t out;
	} cases[] = {
		{"90", 90}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"1h30m", 5400}, {"1d", 86400},
		{"1d2h3m4s", 93784}, {"0", 0}, {"3153600000", DURATION_MAX},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = -1;
		assert_int_equal(duration_parse(cases[i].in, &v), 0);
		assert_int_equal(v, cases[i].out);
	}
}

static void test_parse_junk(void **state)
{
	(void)state;
	const char *bad[] = {"", "-5", "-1h", "1x", "h", "1h1h", "1m1h", "1.5h", " 1h", "1h ", "1hh",
		"99999999999999999999", "3153600001", "36500000d", "1e3", "+5", "1h30m10", "1m30", "abc"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v = 0;
		assert_int_equal(duration_parse(bad[i], &v), -1);
	}
	int64_t v;
	assert_int_equal(duration_parse(NULL, &v), -1);
}

static void test_format(void **state)
{
	(void)state;
	char b[32];
	assert_string_equal(duration_format(0, b, sizeof b), "0s");
	assert_string_equal(duration_format(90, b, sizeof b), "1m30s");
	assert_string_equal(duration_format(5400, b, sizeof b), "1h30m");
	assert_string_equal(duration_format(86400 + 1, b, sizeof b), "1d1s");
	int64_t back;
	assert_int_equal(duration_parse(duration_format(93784, b, sizeof b), &back), 0);
	assert_int_equal(back, 93784);
}

static void test_cli_valid(void **state)
{
	(void)state;
	struct {
		const char *in;
		int64_t out;
	} cases[] = {
		{"90s", 90}, {"15m", 900}, {"2h", 7200}, {"1h30m", 5400}, {"1.5h", 5400}, {"1d", 86400},
		{"0.5m", 30}, {"1.25h", 4500}, {"2.5d", 216000}, {"1d2h3m4s", 93784}, {"0s", 0},
		{"90:00", 5400}, {"1:30", 90}, {"01:02:03", 3723}, {"100:00:00", 360000}, {"2-0", 172800},
		{"1-12", 129600}, {"1-12:30", 131400}, {"1-12:30:15", 131415}, {"0:05", 5}, {"36500d", DURATION_MAX},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = -1;
		assert_int_equal(duration_parse_cli(cases[i].in, &v), DURATION_OK);
		assert_int_equal(v, cases[i].out);
	}
}

static void test_cli_refused(void **state)
{
	(void)state;
	struct {
		const char *in;
		enum duration_error why;
	} cases[] = {
		{"90", DURATION_BARE}, {"0", DURATION_BARE}, {"1h30", DURATION_BARE}, {"1.5", DURATION_BARE},
		{"0.5s", DURATION_NOT_WHOLE}, {"0.01m", DURATION_NOT_WHOLE}, {"36501d", DURATION_TOO_BIG},
		{"99999999999h", DURATION_TOO_BIG}, {"1:60", DURATION_FIELD}, {"1:60:00", DURATION_FIELD},
		{"1-24", DURATION_FIELD}, {"1-1:60", DURATION_FIELD}, {"", DURATION_JUNK}, {"-5m", DURATION_JUNK},
		{"1x", DURATION_JUNK}, {"1m1h", DURATION_JUNK}, {"1h1h", DURATION_JUNK}, {".5h", DURATION_JUNK},
		{"1.h", DURATION_JUNK}, {"1:2:3:4", DURATION_JUNK}, {"1:", DURATION_JUNK}, {":30", DURATION_JUNK},
		{"1-", DURATION_JUNK}, {"-1", DURATION_JUNK}, {"1:123", DURATION_JUNK}, {" 1h", DURATION_JUNK},
		{"1h ", DURATION_JUNK}, {"1e3s", DURATION_JUNK}, {"+5m", DURATION_JUNK}, {"1.0000000001h", DURATION_JUNK},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = -7;
		assert_int_equal(duration_parse_cli(cases[i].in, &v), cases[i].why);
		assert_int_equal(v, -7);
	}
	int64_t v;
	assert_int_equal(duration_parse_cli(NULL, &v), DURATION_JUNK);
	/* The daemon's parser keeps its rules: a bare number is seconds there. */
	assert_int_equal(duration_parse("90", &v), 0);
	assert_int_equal(v, 90);
}

static void test_status_mapping(void **state)
{
	(void)state;
	assert_string_equal(status_code(ST_BAD_REQUEST), "BAD_REQUEST");
	static const struct {
		enum status status;
		int exit_code;
	} exits[] = {
		{ST_OK, 0}, {ST_CONFLICT, 1}, {ST_INTERNAL, 1}, {ST_BAD_REQUEST, 2}, {ST_USAGE, 2},
		{ST_UNAUTHENTICATED, 3}, {ST_FORBIDDEN, 4}, {ST_NOT_FOUND, 5}, {ST_QUOTA_EXCEEDED, 6},
		{ST_UNREACHABLE, 7}, {ST_TIMEOUT, 8}, {ST_RATE_LIMITED, 9}, {ST_UNAVAILABLE, 9},
	};
	for (size_t i = 0; i < sizeof exits / sizeof exits[0]; i++)
		assert_int_equal(status_exit_code(exits[i].status), exits[i].exit_code);
	/* Every wire code parses back to itself. */
	for (int s = ST_BAD_FRAME; s <= ST_INTERNAL; s++)
		assert_int_equal(status_from_code(status_code((enum status)s)), s);
	assert_int_equal(status_from_code("NOPE"), ST_INTERNAL);
	assert_int_equal(status_from_code(NULL), ST_INTERNAL);
	assert_non_null(status_message(ST_FORBIDDEN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_junk),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_cli_valid),
		cmocka_unit_test(test_cli_refused),
		cmocka_unit_test(test_status_mapping),
	};
	return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
