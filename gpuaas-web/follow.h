/* GET /api/v1/jobs/ID/logs?follow=1: job.logs with follow, which parks in
 * gpuaasd until the job writes, ends, or the timeout passes (?timeout=,
 * FOLLOW_TIMEOUT_DEFAULT seconds, at most FOLLOW_TIMEOUT_MAX: well under
 * the gateway's hung-upstream limit, so a follow gpuaasd does not answer
 * in time is taken for hung). Each waits on a connection to gpuaasd of its
 * own (parked.h); at most --max-sse-clients at once, the event streams'
 * cap counted apart: more get 503 with Retry-After. A client that hangs up
 * while its follow waits is closed at once, with that connection; gpuaasd
 * stopping cleanly answers 503 (it ends parked calls UNAVAILABLE), dying
 * or hanging 502. Without follow the route is an
 * ordinary call on the pool. */
#ifndef GPUAAS_WEB_FOLLOW_H
#define GPUAAS_WEB_FOLLOW_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#define FOLLOW_TIMEOUT_DEFAULT 25
#define FOLLOW_TIMEOUT_MAX 30

struct request;
struct web;

/* Whether the request asks to follow (?follow=1, true or yes). */
bool follow_wanted(const struct request *r);
/* The route's call: op with args, on a connection of its own when the
 * request follows, else on the pool. */
enum MHD_Result follow_send(struct request *r, const char *op, const char *args, size_t len);
/* Frees the request's follow (at the request's end). */
void follow_destroy(struct request *r);
/* Answers every waiting follow (503) and refuses new ones: the gateway
 * stops. */
void follow_end_all(struct web *w);

#endif
