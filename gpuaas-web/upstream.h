/* One connection to gpuaasd: nonblocking, pipelined (requests are written
 * as they come; the daemon answers in order, so each reply belongs to the
 * oldest call still waiting), driven by the gateway's loop. It connects on
 * first use and again after it was lost; a lost connection fails every call
 * it carried. */
#ifndef GPUAAS_WEB_UPSTREAM_H
#define GPUAAS_WEB_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct loop;
struct upstream;
struct upstream_call;

/* A reply, or a failure. st == ST_OK: reply is the reply frame's JSON text,
 * malloc'd and NUL-terminated, len bytes; the callee owns it. Otherwise
 * reply is NULL and st says why: ST_UNREACHABLE (no connection, or it was
 * lost with the call in flight) or ST_UNAVAILABLE (the gateway stops). */
typedef void (*upstream_reply_fn)(void *arg, enum status st, char *reply, size_t len);

/* A connection to the socket at path (copied); nothing is connected yet.
 * NULL when out of memory. */
struct upstream *upstream_create(struct loop *loop, const char *path);
/* Fails the calls still waiting (ST_UNAVAILABLE), closes and frees. Safe
 * inside one of its own reply callbacks. NULL is a no-op. */
void upstream_destroy(struct upstream *u);
/* Sends op with token (NULL: none) and args (a JSON object text, NULL:
 * none). The request is queued; it goes out at the next upstream_flush.
 * ST_OK, and fn is called exactly once later unless the call is
 * cancelled; or ST_UNREACHABLE (cannot connect), ST_BAD_REQUEST (over the
 * frame limit) or ST_INTERNAL (no memory), and fn is never called. *handle
 * (may be NULL) identifies the call for upstream_cancel. */
enum status upstream_call(struct upstream *u, const char *op, const char *token, const char *args, size_t args_len,
	upstream_reply_fn fn, void *arg, struct upstream_call **handle);
/* Forgets the caller of a pending call: its reply is read and dropped. */
void upstream_cancel(struct upstream_call *c);
/* Writes what is queued, as far as the socket takes it. */
void upstream_flush(struct upstream *u);
/* Calls sent and not yet answered. */
size_t upstream_inflight(const struct upstream *u);
/* Milliseconds the oldest call has waited for its reply (0: none waits). */
int64_t upstream_oldest_ms(const struct upstream *u, int64_t now_ms);
/* Closes the connection now, failing its calls with st. */
void upstream_reset(struct upstream *u, enum status st);

#endif
