/* libFuzzer: the gateway's own parsers on arbitrary bytes. The first byte
 * picks the method; the rest is used as a request target (routing, the
 * query string, the static-file path), as a request body (to protocol
 * arguments) and as a gpuaasd reply (replies, event arrays, sys.stats for
 * /metrics). Each result is checked for what the caller relies on. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "gpuaas-web/args.h"
#include "gpuaas-web/jspan.h"
#include "gpuaas-web/metrics.h"
#include "gpuaas-web/query.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/router.h"
#include "gpuaas-web/statics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_target(const char *s, size_t n, enum http_method m)
{
	struct route_match rm;
	size_t plen = strcspn(s, "?");
	router_match(s, plen < n ? plen : n, m, &rm);
	assert(rm.status == 0 || rm.status == 404 || rm.status == 405);
	assert(rm.status != 405 || rm.allow);
	assert(strlen(rm.name) <= ROUTE_NAME_MAX);
	struct query q;
	if (plen < n) {
		(void)query_parse(&q, s + plen + 1, n - plen - 1);
		for (int i = 0; i < q.n; i++)
			assert(q.p[i].key && q.p[i].value);
		int64_t v;
		bool b;
		(void)query_int(&q, "limit", 1, 1000, &v);
		(void)query_bool(&q, "all", &b);
		query_free(&q);
	}
	char rel[1100];
	if (statics_rel_path(s, plen < n ? plen : n, rel, sizeof rel) == 0) {
		/* Never a ".", ".." or hidden segment, never an absolute path. */
		for (const char *seg = rel; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
			assert(seg[0] != '.' && seg[0] != '/');
	}
}

static void fuzz_body(const char *s, size_t n)
{
	static const char *const keys[] = {"gpu_type", "gpu_count", "command", "dry_run", NULL};
	struct args a;
	char err[128];
	args_init(&a);
	if (args_from_body(&a, s, n, keys, err, sizeof err) == 0 && args_close(&a) == 0) {
		struct jspan v;
		assert(jspan_value(a.b.data, a.b.len) == a.b.len);
		(void)jspan_member((struct jspan){a.b.data, a.b.len}, "gpu_type", &v);
	}
	args_finish(&a);
}

static void fuzz_reply(const char *s, size_t n)
{
	struct reply rep;
	if (reply_parse(s, n, &rep) == 0) {
		(void)reply_retry_after(&rep, 1);
		struct jspan events, ev, v;
		size_t pos = 0;
		int64_t seq;
		if (rep.ok && jspan_member(rep.data, "events", &events) == 0)
			while (jspan_array_next(events, &pos, &ev) == 1)
				if (jspan_member(ev, "seq", &v) == 0)
					(void)jspan_int(v, &seq);
	}
	struct metrics *m = metrics_create();
	struct metrics_gauges g = {0};
	struct strbuf out;
	strbuf_init(&out, 0);
	if (m)
		(void)metrics_render(m, &g, s, n, &out);
	strbuf_finish(&out);
	metrics_destroy(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	static const enum http_method methods[] = {M_GET, M_HEAD, M_POST, M_DELETE, M_PUT, M_OPTIONS};
	enum http_method m = methods[data[0] % 6];
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	size_t n = strlen(s);
	fuzz_target(s, n, m);
	fuzz_body(s, n);
	fuzz_reply(s, n);
	free(s);
	return 0;
}
