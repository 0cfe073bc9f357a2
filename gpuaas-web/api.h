/* The request pipeline, in one place and one order: route (404, 405,
 * OPTIONS) -> the route's handler: caller's token (401) -> CSRF for a
 * cookie-authenticated change (403) -> body (413, 415, 400) -> arguments
 * (400) -> one call to gpuaasd -> the reply, mapped to a status. A request
 * waiting for gpuaasd is suspended, so nothing else waits for it. */
#ifndef GPUAAS_WEB_API_H
#define GPUAAS_WEB_API_H

#include <microhttpd.h>
#include <stddef.h>

#include "gpuaas-web/pool.h"

struct request;
struct reply;
struct upstream;

/* The headers are in: reads the method, route and query; a body announced
 * over 1 MiB is refused at once (413; the rest is not read). */
enum MHD_Result api_begin(struct request *r, const char *method);
/* The access handler's work once the request is whole, and again each
 * time it is resumed. */
enum MHD_Result api_handle(struct request *r);
/* Sends op for r on a pool connection and suspends r; when the reply (or
 * a failure) arrives r->call_done is set and r is resumed. On a failure to
 * send, answers the request at once. */
enum MHD_Result api_call(struct request *r, enum pool_lane lane, const char *op, const char *token, const char *args,
	size_t args_len);
/* Like api_call, but a failure to send answers nothing: the status says
 * why (ST_OK: r is suspended and will be resumed). */
enum status api_try_call(struct request *r, enum pool_lane lane, const char *op, const char *token, const char *args,
	size_t args_len);
/* The same on a given connection. */
enum MHD_Result api_call_on(struct request *r, struct upstream *u, const char *op, const char *token,
	const char *args, size_t args_len);
/* Frees the reply of the last call and clears call_done. */
void api_drop_reply(struct request *r);
/* The reply of the last call read as a gpuaasd reply; if the call failed
 * or the text is no reply, answers r (502/503/500) and returns -1. */
int api_reply(struct request *r, struct reply *rep, enum MHD_Result *ret);
/* A JSON response whose body is the reply's data, not copied: it takes
 * over r->reply. NULL when out of memory. */
struct MHD_Response *api_data_response(struct request *r, const struct reply *rep);

#endif
