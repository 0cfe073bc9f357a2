/* The gateway's few persistent connections to gpuaasd, in two lanes.
 * Replies come back in request order on each connection, so ops that take
 * a password hash (login, password change, user creation: tens to
 * hundreds of milliseconds in the daemon's hasher) have a lane of their
 * own and never hold up the fast ops behind them. A call goes to the
 * lane's connection with the fewest calls in flight. Event streams, which
 * park in the daemon, use a connection of their own (upstream_create). */
#ifndef GPUAAS_WEB_POOL_H
#define GPUAAS_WEB_POOL_H

#include "gpuaas-web/upstream.h"

/* Calls in flight on one connection before the lane counts as full
 * (gpuaasd reads at most 128 at a time from one connection). */
#define POOL_CONN_INFLIGHT_MAX 96

enum pool_lane { LANE_FAST, LANE_SLOW };

struct pool;

/* nfast and nslow connections to the socket at path; nothing is connected
 * yet. NULL when out of memory. */
struct pool *pool_create(struct loop *loop, const char *path, int nfast, int nslow);
/* Fails what is in flight (ST_UNAVAILABLE) and frees. NULL is a no-op. */
void pool_destroy(struct pool *p);
/* upstream_call on the least busy connection of the lane. Also
 * ST_UNAVAILABLE when every connection of the lane is full. */
enum status pool_call(struct pool *p, enum pool_lane lane, const char *op, const char *token, const char *args,
	size_t args_len, upstream_reply_fn fn, void *arg, struct upstream_call **handle);
/* Closes every connection, failing what is in flight (ST_UNAVAILABLE);
 * later calls get ST_UNAVAILABLE. For the gateway's stop. */
void pool_close(struct pool *p);
/* gpuaasd answers every pool call at once or after a password hash: a
 * connection whose oldest call waited longer than limit_ms is taken for
 * hung, closed (its calls fail: 502) and opened again at the next call. */
void pool_check(struct pool *p, int64_t now_ms, int64_t limit_ms);
/* Writes out what every connection has queued. */
void pool_flush(struct pool *p);
/* Calls in flight on all connections. */
size_t pool_inflight(const struct pool *p);
/* The socket path. */
const char *pool_socket(const struct pool *p);

#endif
