#include "gpuaas-web/own.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

#include "common/strbuf.h"
#include "gpuaas-web/api.h"
#include "gpuaas-web/auth.h"
#include "gpuaas-web/metrics.h"
#include "gpuaas-web/pool.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"
#include "gpuaas-web/statics.h"
#include "gpuaas-web/web.h"

/* docs/openapi.yaml, compiled in (meson.build). */
extern const char web_openapi_yaml[];

enum MHD_Result own_healthz(struct request *r)
{
	if (!r->call_done && api_try_call(r, LANE_FAST, "sys.ping", NULL, NULL, 0) == ST_OK)
		return MHD_YES;
	struct reply rep;
	if (!r->call_done || r->call_status != ST_OK || reply_parse(r->reply, r->reply_len, &rep) < 0 || !rep.ok)
		return respond_error(r, 503, ST_UNAVAILABLE, "gpuaasd does not answer at %s", r->w->opt.socket_path);
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_adds(&b, "{\"status\":\"ok\",\"gpuaasd\":");
	strbuf_add(&b, rep.data.p, rep.data.n);
	strbuf_addc(&b, '}');
	if (b.failed) {
		strbuf_finish(&b);
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	}
	return respond_json_owned(r, 200, b.data, b.len);
}

/* With --metrics-token: "Authorization: Bearer <it>". */
static bool metrics_allowed(const struct request *r)
{
	const char *want = r->w->opt.metrics_token, *h = want ? request_header(r, "Authorization") : NULL;
	if (!want)
		return true;
	return h && strncasecmp(h, "Bearer ", 7) == 0 && auth_equal(h + 7, want);
}

enum MHD_Result own_metrics(struct request *r)
{
	if (!metrics_allowed(r))
		return respond_error(r, 401, ST_UNAUTHENTICATED, "/metrics needs 'Authorization: Bearer' with the metrics token");
	if (!r->call_done && api_try_call(r, LANE_FAST, "sys.stats", NULL, NULL, 0) == ST_OK)
		return MHD_YES;
	struct reply rep;
	bool up = r->call_done && r->call_status == ST_OK && reply_parse(r->reply, r->reply_len, &rep) == 0 && rep.ok;
	struct web *w = r->w;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	struct metrics_gauges g = {.connections = di ? (int64_t)di->num_connections : 0,
		.sse_clients = w->streams.n, .log_follows = w->follows.n,
		.upstream_inflight = (int64_t)pool_inflight(w->pool)};
	struct strbuf b;
	strbuf_init(&b, 0);
	metrics_render(w->metrics, &g, up ? rep.data.p : NULL, up ? rep.data.n : 0, &b);
	struct MHD_Response *resp = b.failed ? NULL : MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 200, resp);
}

enum MHD_Result own_openapi(struct request *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(web_openapi_yaml), (void *)web_openapi_yaml,
		MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, "Content-Type", "application/yaml") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 200, resp);
}

enum MHD_Result own_static(struct request *r)
{
	return statics_serve(r->w->statics, r);
}
