/* GET /api/v1/events/stream: Server-Sent Events of what the caller may
 * see, over event.watch. Each stream has its own connection to gpuaasd (a
 * watch parks there, and replies on one connection come in order, so a
 * shared one would hold the others up). Each event is sent as
 * "id: SEQ / event: KIND / data: EVENT-JSON"; a client that reconnects
 * with Last-Event-ID (or ?since=SEQ) gets what it missed. A comment is sent
 * when the stream has been quiet for --sse-heartbeat; when gpuaasd goes
 * away the stream stays open and resumes from the last event once it is
 * back. At most --max-sse-clients streams: more get 503. */
#ifndef GPUAAS_WEB_SSE_H
#define GPUAAS_WEB_SSE_H

#include <microhttpd.h>
#include <stdint.h>

struct request;
struct web;

/* The route's handler: each step until the stream is running. */
enum MHD_Result sse_handle(struct request *r);
/* Frees the request's stream (at the request's end). */
void sse_destroy(struct request *r);
/* Heartbeats and reconnections due at now_ms. */
void sse_tick(struct web *w, int64_t now_ms);
/* Ends every stream (the gateway stops). */
void sse_end_all(struct web *w);

#endif
