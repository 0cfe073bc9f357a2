#include "gpuaas-web/api.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpuaas-web/args.h"
#include "gpuaas-web/auth.h"
#include "gpuaas-web/handlers.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"
#include "gpuaas-web/upstream.h"
#include "gpuaas-web/web.h"

static void on_reply(void *arg, enum status st, char *reply, size_t len)
{
	struct request *r = arg;
	r->call = NULL;
	r->call_done = true;
	r->call_status = st;
	free(r->reply);
	r->reply = reply;
	r->reply_len = len;
	request_resume(r);
}

enum status api_try_call(struct request *r, enum pool_lane lane, const char *op, const char *token, const char *args,
	size_t args_len)
{
	enum status st = pool_call(r->w->pool, lane, op, token, args, args_len, on_reply, r, &r->call);
	if (st == ST_OK)
		request_suspend(r);
	return st;
}

enum MHD_Result api_call(struct request *r, enum pool_lane lane, const char *op, const char *token, const char *args,
	size_t args_len)
{
	enum status st = api_try_call(r, lane, op, token, args, args_len);
	return st == ST_OK ? MHD_YES : respond_call_failed(r, st);
}

enum MHD_Result api_call_on(struct request *r, struct upstream *u, const char *op, const char *token,
	const char *args, size_t args_len)
{
	enum status st = upstream_call(u, op, token, args, args_len, on_reply, r, &r->call);
	if (st != ST_OK)
		return respond_call_failed(r, st);
	request_suspend(r);
	return MHD_YES;
}

void api_drop_reply(struct request *r)
{
	free(r->reply);
	r->reply = NULL;
	r->reply_len = 0;
	r->call_done = false;
}

int api_reply(struct request *r, struct reply *rep, enum MHD_Result *ret)
{
	if (r->call_status != ST_OK) {
		*ret = respond_call_failed(r, r->call_status);
		return -1;
	}
	if (reply_parse(r->reply, r->reply_len, rep) < 0) {
		*ret = respond_error(r, 502, ST_UNAVAILABLE, "gpuaasd sent something that is not a reply");
		return -1;
	}
	return 0;
}

struct MHD_Response *api_data_response(struct request *r, const struct reply *rep)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(rep->data.n,
		(void *)rep->data.p, free, r->reply);
	if (!resp)
		return NULL;
	r->reply = NULL; /* freed with the response */
	if (MHD_add_response_header(resp, "Content-Type", "application/json") != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

/* The caller's token, and the CSRF check of a cookie-authenticated change.
 * 0, or -1 with the request answered. */
static int check_caller(struct request *r, enum MHD_Result *ret)
{
	enum auth_result a = auth_find(r);
	if (a == AUTH_NONE) {
		*ret = respond_error(r, 401, ST_UNAUTHENTICATED,
			"not logged in: send 'Authorization: Bearer TOKEN' or log in at POST /api/v1/login");
		return -1;
	}
	if (a == AUTH_MALFORMED) {
		*ret = respond_error(r, 401, ST_UNAUTHENTICATED, "malformed credentials: expected 'Authorization: Bearer TOKEN'");
		return -1;
	}
	if (r->cookie_auth && (r->method == M_POST || r->method == M_DELETE) && !auth_csrf_ok(r)) {
		*ret = respond_error(r, 403, ST_FORBIDDEN,
			"a change made with the session cookie needs the X-CSRF-Token header (csrf_token of the login or of GET /api/v1/me)");
		return -1;
	}
	return 0;
}

/* A body is JSON: 415 for another type, 400 when it does not parse. */
static int read_body(struct request *r, const struct handler *h, struct args *a, enum MHD_Result *ret)
{
	char err[256];
	if (r->body.failed) { /* a body cut short must not reach gpuaasd as if whole */
		*ret = respond_error(r, 500, ST_INTERNAL, "out of memory reading the request body");
		return -1;
	}
	if (!r->body.len)
		return 0;
	const char *ct = request_header(r, "Content-Type");
	size_t n = ct ? strcspn(ct, "; \t") : 0;
	if (!ct || n != 16 || strncasecmp(ct, "application/json", 16) != 0) {
		*ret = respond_error(r, 415, ST_BAD_REQUEST, "the body must be JSON (Content-Type: application/json)");
		return -1;
	}
	if (args_from_body(a, r->body.data, r->body.len, h->body_keys, err, sizeof err) < 0) {
		*ret = respond_error(r, 400, ST_BAD_REQUEST, "%s", err);
		return -1;
	}
	return 0;
}

/* Gates, arguments and the call. */
static enum MHD_Result start_op(struct request *r, const struct handler *h)
{
	enum MHD_Result ret = MHD_NO;
	char err[256] = "";
	struct args a;
	if ((h->flags & H_AUTH) && check_caller(r, &ret) < 0)
		return ret;
	if (h->before && h->before(r, &ret) != 0)
		return ret;
	args_init(&a);
	if ((h->flags & H_BODY) && read_body(r, h, &a, &ret) < 0)
		goto out;
	if (h->args && h->args(r, &a, err, sizeof err) < 0) {
		ret = respond_error(r, 400, ST_BAD_REQUEST, "%s", err);
		goto out;
	}
	if (args_close(&a) < 0) {
		ret = respond_error(r, 500, ST_INTERNAL, "out of memory");
		goto out;
	}
	if (h->send)
		ret = h->send(r, h->op, a.b.data, a.b.len);
	else
		ret = api_call(r, (h->flags & H_SLOW) ? LANE_SLOW : LANE_FAST, h->op, r->token, a.b.data, a.b.len);
out:
	args_finish(&a);
	return ret;
}

/* The reply of the route's op. */
static enum MHD_Result finish_op(struct request *r, const struct handler *h)
{
	struct reply rep;
	enum MHD_Result ret;
	if (api_reply(r, &rep, &ret) < 0)
		return ret;
	if (!rep.ok) {
		if (h->failed)
			h->failed(r, &rep);
		return respond_daemon_error(r, &rep);
	}
	if (h->finish)
		return h->finish(r, &rep);
	return respond_queue(r, 200, api_data_response(r, &rep));
}

enum MHD_Result api_handle(struct request *r)
{
	if (r->client_gone)
		return MHD_NO; /* it hung up while its call waited: close the connection */
	if (r->answered)
		return MHD_YES;
	if (r->method == M_OPTIONS && r->route.allow)
		return respond_options(r);
	if (r->route.status == 404)
		return respond_error(r, 404, ST_NOT_FOUND, "no such route (see /api/v1/openapi.yaml)");
	if (r->route.status == 405)
		return respond_method_not_allowed(r);
	if (r->body_too_large)
		return respond_error(r, 413, ST_BAD_REQUEST, "the request body is over 1 MiB");
	if (r->query_bad)
		return respond_error(r, 400, ST_BAD_REQUEST, "malformed query string");
	const struct handler *h = handler_for(r->route.id);
	if (!h)
		return respond_error(r, 404, ST_NOT_FOUND, "no such route");
	if (h->own)
		return h->own(r);
	return r->call_done ? finish_op(r, h) : start_op(r, h);
}

enum MHD_Result api_begin(struct request *r, const char *method)
{
	r->method = router_method(method);
	size_t plen = strcspn(r->target, "?#");
	router_match(r->target, plen, r->method, &r->route);
	if (r->target[plen] == '?') {
		const char *q = r->target + plen + 1;
		r->query_bad = query_parse(&r->query, q, strcspn(q, "#")) < 0;
	}
	const char *cl = request_header(r, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > REQUEST_BODY_MAX)
		return respond_error(r, 413, ST_BAD_REQUEST, "the request body is over 1 MiB");
	return MHD_YES;
}
