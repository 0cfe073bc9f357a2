/* What each route does (handlers.c): the gpuaasd op it maps to, the
 * arguments it takes from its path, query and body, and how the reply
 * becomes a response. Routes the gateway answers itself (healthz, metrics,
 * the OpenAPI document, logout, static files, the event stream) have a
 * handler function of their own. */
#ifndef GPUAAS_WEB_HANDLERS_H
#define GPUAAS_WEB_HANDLERS_H

#include <microhttpd.h>
#include <stddef.h>

#include "gpuaas-web/router.h"

struct request;
struct reply;
struct args;

enum handler_flags {
	H_AUTH = 1 << 0,    /* needs the caller's token */
	H_BODY = 1 << 1,    /* takes a JSON body */
	H_SLOW = 1 << 2,    /* hashes a password in gpuaasd: the slow lane */
};

struct handler {
	enum route_id route;
	const char *op;                /* NULL: handled by own */
	unsigned flags;
	const char *const *body_keys;  /* body members passed on (H_BODY) */
	/* Path and query arguments: 0, or -1 with a message in err. */
	int (*args)(struct request *r, struct args *a, char *err, size_t errlen);
	/* Before the call (0 to go on), e.g. the login throttle; it may answer
	 * the request itself and return 1 with *ret set. */
	int (*before)(struct request *r, enum MHD_Result *ret);
	/* After an error reply (e.g. counting a failed login). */
	void (*failed)(struct request *r, const struct reply *rep);
	/* A successful reply; NULL: 200 with the data. */
	enum MHD_Result (*finish)(struct request *r, const struct reply *rep);
	/* Sends the call (NULL: on a pool connection), e.g. one that parks in
	 * gpuaasd on a connection of its own; answers r when it cannot. */
	enum MHD_Result (*send)(struct request *r, const char *op, const char *args, size_t len);
	/* Routes the gateway answers itself. */
	enum MHD_Result (*own)(struct request *r);
};

/* The handler of a route; NULL for R_NONE. */
const struct handler *handler_for(enum route_id id);

#endif
