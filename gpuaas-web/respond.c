#include "gpuaas-web/respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/web.h"

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
			  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
			  "form-action 'self'; frame-ancestors 'none'";

unsigned respond_http_status(enum status st)
{
	switch (st) {
	case ST_OK:
		return 200;
	case ST_BAD_REQUEST:
	case ST_BAD_FRAME:
	case ST_USAGE:
		return 400;
	case ST_UNAUTHENTICATED:
		return 401;
	case ST_FORBIDDEN:
	case ST_QUOTA_EXCEEDED:
		return 403;
	case ST_NOT_FOUND:
		return 404;
	case ST_CONFLICT:
		return 409;
	case ST_RATE_LIMITED:
		return 429;
	case ST_UNAVAILABLE:
	case ST_TIMEOUT:
		return 503;
	case ST_UNREACHABLE:
		return 502;
	case ST_INTERNAL:
	case ST__COUNT:
		break;
	}
	return 500;
}

/* The Origin header when it is exactly the one allowed; NULL otherwise. */
static const char *cors_origin(const struct request *r)
{
	const char *allowed = r->w->opt.cors_origin, *origin = allowed ? request_header(r, "Origin") : NULL;
	return origin && strcmp(origin, allowed) == 0 ? allowed : NULL;
}

/* Adds the headers every response carries. -1 when one could not be added. */
static int common_headers(struct request *r, struct MHD_Response *resp)
{
	int bad = 0;
	bad |= MHD_add_response_header(resp, "Content-Security-Policy", csp) != MHD_YES;
	bad |= MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff") != MHD_YES;
	bad |= MHD_add_response_header(resp, "Referrer-Policy", "no-referrer") != MHD_YES;
	bad |= MHD_add_response_header(resp, "X-Frame-Options", "DENY") != MHD_YES;
	bad |= MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin") != MHD_YES;
	if (!MHD_get_response_header(resp, "Cache-Control"))
		bad |= MHD_add_response_header(resp, "Cache-Control", "no-store") != MHD_YES;
	if (r->w->tls)
		bad |= MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000") != MHD_YES;
	const char *origin = cors_origin(r);
	if (origin) {
		bad |= MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin) != MHD_YES;
		bad |= MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true") != MHD_YES;
		bad |= MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Location, Retry-After, ETag") !=
		       MHD_YES;
	}
	if (r->w->opt.cors_origin)
		bad |= MHD_add_response_header(resp, "Vary", "Origin") != MHD_YES;
	return bad ? -1 : 0;
}

enum MHD_Result respond_queue(struct request *r, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	enum MHD_Result ret = MHD_NO;
	if (common_headers(r, resp) == 0)
		ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		r->answered = true;
		r->status = status;
	}
	return ret;
}

static struct MHD_Response *json_response(const char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (resp && MHD_add_response_header(resp, "Content-Type", "application/json") != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

enum MHD_Result respond_json(struct request *r, unsigned status, const char *body, size_t len)
{
	return respond_queue(r, status, json_response(body, len, MHD_RESPMEM_MUST_COPY));
}

enum MHD_Result respond_json_owned(struct request *r, unsigned status, char *body, size_t len)
{
	struct MHD_Response *resp = json_response(body, len, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(body);
	return respond_queue(r, status, resp);
}

/* The headers an error status needs. */
static int error_headers(struct MHD_Response *resp, unsigned http, int64_t retry_after)
{
	char buf[32];
	if (http == 401 && MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"gpuaas\"") != MHD_YES)
		return -1;
	if (http == 429 || http == 503 || http == 502) {
		snprintf(buf, sizeof buf, "%lld", (long long)(retry_after > 0 ? retry_after : 1));
		if (MHD_add_response_header(resp, "Retry-After", buf) != MHD_YES)
			return -1;
	}
	return 0;
}

/* Queues {"error": <error object text>}. */
static enum MHD_Result queue_error(struct request *r, unsigned http, const char *obj, size_t len, int64_t retry)
{
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_adds(&b, "{\"error\":");
	strbuf_add(&b, obj, len);
	strbuf_addc(&b, '}');
	if (b.failed) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	struct MHD_Response *resp = json_response(b.data, b.len, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	if (error_headers(resp, http, retry) < 0) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, http, resp);
}

__attribute__((format(printf, 5, 0))) static enum MHD_Result error_v(struct request *r, unsigned http,
	enum status code, int64_t retry_after, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_adds(&b, "{\"code\":");
	strbuf_add_json_str(&b, status_code(code));
	strbuf_adds(&b, ",\"message\":");
	strbuf_add_json_str(&b, msg);
	strbuf_addc(&b, '}');
	enum MHD_Result ret = b.failed ? MHD_NO : queue_error(r, http, b.data, b.len, retry_after);
	strbuf_finish(&b);
	return ret;
}

enum MHD_Result respond_error(struct request *r, unsigned http, enum status code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result ret = error_v(r, http, code, http == 429 ? 60 : 1, fmt, ap);
	va_end(ap);
	return ret;
}

enum MHD_Result respond_error_retry(struct request *r, unsigned http, enum status code, int64_t retry_after,
	const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result ret = error_v(r, http, code, retry_after, fmt, ap);
	va_end(ap);
	return ret;
}

enum MHD_Result respond_daemon_error(struct request *r, const struct reply *rep)
{
	unsigned http = respond_http_status(rep->st);
	int64_t retry = reply_retry_after(rep, rep->st == ST_RATE_LIMITED ? 60 : 1);
	return queue_error(r, http, rep->error.p, rep->error.n, retry);
}

enum MHD_Result respond_call_failed(struct request *r, enum status st)
{
	switch (st) {
	case ST_UNREACHABLE:
		return respond_error(r, 502, ST_UNAVAILABLE, "gpuaasd cannot be reached at %s", r->w->opt.socket_path);
	case ST_BAD_REQUEST:
		return respond_error(r, 413, ST_BAD_REQUEST, "the request is over gpuaasd's 1 MiB limit");
	case ST_UNAVAILABLE:
		return respond_error(r, 503, ST_UNAVAILABLE, "the gateway is busy or stopping; try again");
	default:
		return respond_error(r, 500, ST_INTERNAL, "the gateway failed (%s)", status_message(st));
	}
}

enum MHD_Result respond_method_not_allowed(struct request *r)
{
	char allow[128];
	router_allow_text(r->route.allow, allow, sizeof allow);
	struct strbuf b;
	strbuf_init(&b, 0);
	strbuf_adds(&b, "{\"error\":{\"code\":\"BAD_REQUEST\",\"message\":");
	char msg[200];
	snprintf(msg, sizeof msg, "method not allowed here; allowed: %s", allow);
	strbuf_add_json_str(&b, msg);
	strbuf_adds(&b, "}}");
	struct MHD_Response *resp = b.failed ? NULL : json_response(b.data, b.len, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, "Allow", allow) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 405, resp);
}

enum MHD_Result respond_options(struct request *r)
{
	char allow[128];
	router_allow_text(r->route.allow | M_OPTIONS, allow, sizeof allow);
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	int bad = MHD_add_response_header(resp, "Allow", allow) != MHD_YES;
	if (cors_origin(r)) {
		bad |= MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow) != MHD_YES;
		bad |= MHD_add_response_header(resp, "Access-Control-Allow-Headers",
			       "Authorization, Content-Type, X-CSRF-Token, Last-Event-ID") != MHD_YES;
		bad |= MHD_add_response_header(resp, "Access-Control-Max-Age", "600") != MHD_YES;
	}
	if (bad) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 204, resp);
}
