/* One HTTP request from the request line to the end of its response:
 * created when libmicrohttpd has the request line (its raw target is kept,
 * undecoded), freed when libmicrohttpd reports the request complete. */
#ifndef GPUAAS_WEB_REQUEST_H
#define GPUAAS_WEB_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "common/strbuf.h"
#include "gpuaas-web/query.h"
#include "gpuaas-web/router.h"

struct MHD_Connection;
struct upstream_call;
struct sse_stream;
struct parked;
struct web;

/* Request bodies over this are refused with 413. */
#define REQUEST_BODY_MAX (1024u * 1024u)

struct request {
	struct web *w;
	struct MHD_Connection *conn;
	char *target; /* raw request target: path and query, undecoded */
	enum http_method method;
	struct route_match route;
	struct query query;
	bool query_bad; /* the query string could not be decoded */
	bool headers_done; /* the access handler saw the headers */
	bool suspended;
	bool answered; /* a response is queued */
	unsigned status;
	/* the body, up to REQUEST_BODY_MAX */
	struct strbuf body;
	bool body_too_large;
	uint64_t body_discarded;
	/* the caller */
	const char *token; /* in libmicrohttpd's header memory, or NULL */
	bool cookie_auth;
	/* the gpuaasd call in flight, then its outcome */
	struct upstream_call *call;
	bool call_done;
	enum status call_status;
	char *reply; /* owned */
	size_t reply_len;
	bool client_gone; /* it hung up while its call waited: closed when resumed */
	int step; /* for handlers of several steps */
	struct sse_stream *sse;
	struct parked *follow; /* a log follow's own connection to gpuaasd (follow.c) */
	int64_t t0_ns;
};

/* A request for the raw target (copied); NULL when out of memory. */
struct request *request_create(struct web *w, struct MHD_Connection *conn, const char *target);
/* Frees r; NULL is a no-op. */
void request_destroy(struct request *r);
/* Suspends the connection until request_resume. */
void request_suspend(struct request *r);
/* Resumes it; its access handler runs again. A no-op when not suspended. */
void request_resume(struct request *r);
/* Appends an upload chunk (past REQUEST_BODY_MAX it is dropped and the
 * request marked too large). */
void request_take_body(struct request *r, const char *data, size_t len);
/* A request header (case-insensitive name), or NULL. */
const char *request_header(const struct request *r, const char *name);
/* The client address as text ("127.0.0.1", "::1"); "" when unknown. */
void request_client(const struct request *r, char *buf, size_t size);
/* The client address as a 16-byte key: IPv4 as ::ffff:a.b.c.d, IPv6 cut
 * to its /64 (one user usually holds a whole /64). 0, or -1 when unknown. */
int request_client_key(const struct request *r, unsigned char key[16]);

#endif
