/* Every response the gateway queues goes through here, so that each one
 * carries the security headers (a strict CSP, nosniff, no referrer, no
 * framing; HSTS under TLS), the CORS headers when the request's Origin is
 * the one --cors-origin names, and "Cache-Control: no-store" unless the
 * response set its own. Errors are {"error": {"code", "message"}} with the
 * status of the code (docs/openapi.yaml, "Errors"). */
#ifndef GPUAAS_WEB_RESPOND_H
#define GPUAAS_WEB_RESPOND_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct request;
struct reply;

/* The HTTP status of a protocol status (ST_UNREACHABLE: 502). */
unsigned respond_http_status(enum status st);
/* Adds the common headers to resp, queues it with status and drops our
 * reference. MHD_NO when it could not be queued (the connection closes). */
enum MHD_Result respond_queue(struct request *r, unsigned status, struct MHD_Response *resp);
/* A JSON body: body is copied. */
enum MHD_Result respond_json(struct request *r, unsigned status, const char *body, size_t len);
/* A JSON body the response takes over (freed with free()). */
enum MHD_Result respond_json_owned(struct request *r, unsigned status, char *body, size_t len);
/* An error of the gateway's own: {"error": {"code": code, "message": ...}}
 * with http; the headers the code asks for (WWW-Authenticate,
 * Retry-After) are added. */
enum MHD_Result respond_error(struct request *r, unsigned http, enum status code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* respond_error with Retry-After: retry_after seconds. */
enum MHD_Result respond_error_retry(struct request *r, unsigned http, enum status code, int64_t retry_after,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* An error reply of gpuaasd, passed on as it was written. */
enum MHD_Result respond_daemon_error(struct request *r, const struct reply *rep);
/* A failed call (no reply): 502 when gpuaasd cannot be reached, 503 when
 * the gateway is busy or stopping, 413 for a request over the frame limit. */
enum MHD_Result respond_call_failed(struct request *r, enum status st);
/* 405 with Allow. */
enum MHD_Result respond_method_not_allowed(struct request *r);
/* 204 to OPTIONS (with Allow, and the CORS preflight answer). */
enum MHD_Result respond_options(struct request *r);

#endif
