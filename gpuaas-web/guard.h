/* Deadlines libmicrohttpd does not keep. Its timeout counts inactivity, so
 * a client sending one header byte every few seconds (slowloris) would
 * hold a connection for ever. The guard gives each request --request-timeout
 * for its headers (counted from the connection's start or the end of the
 * previous response, so it is also the keep-alive idle limit) and as much
 * again for its body, and cuts connections that overrun it (shutdown(2):
 * libmicrohttpd then sees the end and closes them itself). */
#ifndef GPUAAS_WEB_GUARD_H
#define GPUAAS_WEB_GUARD_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct guard;

/* NULL when out of memory. */
struct guard *guard_create(int64_t request_timeout_ms);
/* Frees the guard and its records; NULL is a no-op. */
void guard_destroy(struct guard *g);
/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard). */
void guard_notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code);
/* The connection's request has its headers: its body is due. */
void guard_headers_done(struct MHD_Connection *c, int64_t now_ms);
/* The request is whole: no deadline while it is answered. */
void guard_busy(struct MHD_Connection *c);
/* The response is done: the next request's headers are due. */
void guard_idle(struct MHD_Connection *c, int64_t now_ms);
/* Cuts the connections past their deadline; returns how many. */
int guard_tick(struct guard *g, int64_t now_ms);
/* Connections open. */
size_t guard_count(const struct guard *g);

#endif
