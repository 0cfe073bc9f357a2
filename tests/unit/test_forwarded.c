/* X-Forwarded-For believed only from trusted proxies, and only as far as
 * they go: what a client writes into the header itself never counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "gpuaas-web/forwarded.h"

static struct net_addr addr(const char *text)
{
	struct net_addr a;
	assert_true(net_addr_parse(text, strlen(text), &a));
	return a;
}

static void client_is(const struct proxy_set *set, const char *peer, const char *xff, const char *want)
{
	struct net_addr p = addr(peer), got = forwarded_client(set, &p, xff);
	char text[64];
	net_addr_format(&got, text, sizeof text);
	assert_string_equal(text, want);
}

static void test_parse_lists(void **state)
{
	(void)state;
	struct proxy_set set;
	char err[128];
	assert_int_equal(proxy_set_parse(&set, "127.0.0.1, ::1,10.0.0.2", err, sizeof err), 0);
	assert_int_equal(set.n, 3);
	struct net_addr a = addr("10.0.0.2"), b = addr("10.0.0.3");
	assert_true(proxy_set_has(&set, &a));
	assert_false(proxy_set_has(&set, &b));
	assert_int_equal(proxy_set_parse(&set, "127.0.0.1,", err, sizeof err), -1);
	assert_int_equal(proxy_set_parse(&set, "localhost", err, sizeof err), -1);
	assert_non_null(strstr(err, "localhost"));
	assert_int_equal(proxy_set_parse(&set, "1.2.3.4/24", err, sizeof err), -1);
	assert_int_equal(proxy_set_parse(&set, ",", err, sizeof err), -1);
}

static void test_untrusted_peer_header_ignored(void **state)
{
	(void)state;
	struct proxy_set set;
	char err[128];
	assert_int_equal(proxy_set_parse(&set, "10.0.0.1", err, sizeof err), 0);
	client_is(&set, "192.0.2.7", "203.0.113.9", "192.0.2.7");
	client_is(&set, "10.0.0.1", NULL, "10.0.0.1");
}

static void test_rightmost_untrusted_hop(void **state)
{
	(void)state;
	struct proxy_set set;
	char err[128];
	assert_int_equal(proxy_set_parse(&set, "10.0.0.1,10.0.0.2", err, sizeof err), 0);
	client_is(&set, "10.0.0.1", "203.0.113.9", "203.0.113.9");
	/* The client wrote a fake address first: the proxy appended the real one. */
	client_is(&set, "10.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9");
	/* Two proxies in a row: skipped, the one before them is the client. */
	client_is(&set, "10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.2", "203.0.113.9");
	client_is(&set, "10.0.0.1", "2001:db8::5", "2001:db8::5");
	/* Only proxies: the leftmost proxy is as far as anything is known. */
	client_is(&set, "10.0.0.1", "10.0.0.2", "10.0.0.2");
}

static void test_garbage_stops_the_walk(void **state)
{
	(void)state;
	struct proxy_set set;
	char err[128];
	assert_int_equal(proxy_set_parse(&set, "10.0.0.1,10.0.0.2", err, sizeof err), 0);
	client_is(&set, "10.0.0.1", "unknown", "10.0.0.1");
	client_is(&set, "10.0.0.1", "", "10.0.0.1");
	client_is(&set, "10.0.0.1", "203.0.113.9, junk, 10.0.0.2", "10.0.0.2");
	client_is(&set, "10.0.0.1", "203.0.113.9,", "10.0.0.1");
	client_is(&set, "10.0.0.1", "[2001:db8::1]:443", "10.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lists),
		cmocka_unit_test(test_untrusted_peer_header_ignored),
		cmocka_unit_test(test_rightmost_untrusted_hop),
		cmocka_unit_test(test_garbage_stops_the_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
