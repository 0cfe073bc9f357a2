/* The gateway's shared state: data only, handed to the modules that need
 * more than their own. One thread: everything runs on the loop. */
#ifndef GPUAAS_WEB_WEB_H
#define GPUAAS_WEB_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuaas-web/forwarded.h"
#include "gpuaas-web/loop.h"
#include "gpuaas-web/options.h"
#include "gpuaas-web/parked.h"

struct MHD_Daemon;
struct pool;
struct metrics;
struct throttle;
struct statics;
struct guard;

struct web {
	struct web_options opt;
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_watch mhd_watch;    /* libmicrohttpd's epoll descriptor */
	struct loop_watch signal_watch; /* signalfd: TERM, INT, HUP */
	struct pool *pool;
	struct metrics *metrics;
	struct throttle *throttle;
	struct proxy_set proxies; /* --trusted-proxy: X-Forwarded-For believed from these */
	struct statics *statics; /* NULL without --web-root */
	struct guard *guard;
	struct parked_set streams; /* open event streams (sse.c) */
	struct parked_set follows; /* log follows waiting for output (follow.c) */
	size_t suspended; /* connections suspended, waiting for gpuaasd */
	int listen_fd;
	bool tls;
	bool stop;
	int64_t next_tick_ms;
	char listen_addr[128]; /* what was bound, for logs */
	char *tls_cert_pem, *tls_key_pem;
};

#endif
