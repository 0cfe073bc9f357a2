/* The protocol layer: the listening socket, client connections, framing,
 * in-order replies and the limits that keep hostile clients from stalling the
 * daemon or growing its memory. It never touches the database: each complete
 * frame goes to the request callback, and the reply comes back later through
 * server_request_complete (synchronously or after async work). */
#ifndef GPUAAS_GPUAASD_SERVER_H
#define GPUAAS_GPUAASD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuaasd/loop.h"

struct server;
struct client;

/* One request and the slot of its reply in the client's ordered queue. */
struct request {
	struct request *next;
	struct client *client; /* NULL once the client is gone */
	bool done;
	char *out; /* the encoded reply frame (header + JSON) at out + out_skip, owned */
	size_t out_skip, out_len;
	/* Owned by the request's handler while it is not done. */
	void *ctx;
	/* Set by the handler while the request is parked (e.g. job.wait): called
	 * when its client goes away; it must end with server_request_complete. */
	void (*abandon)(struct request *r);
};

struct server_limits {
	int max_connections;    /* open connections at once */
	int max_inflight;       /* requests read but not yet answered, per client */
	size_t out_cap;         /* reply bytes queued before reading pauses */
	int64_t idle_timeout_ms;  /* no request, nothing pending: closed */
	int64_t frame_timeout_ms; /* a half-sent frame older than this: closed */
	int64_t write_timeout_ms; /* queued replies with no write progress: closed */
};

typedef void (*server_request_cb)(void *data, struct request *r, const char *payload, size_t len);

/* Binds path (refusing when a live daemon answers there, replacing a stale
 * socket file) or, when listen_fd >= 0, adopts that socket (systemd). socket
 * mode: the file's permission bits. Returns the listening fd or -1 with err. */
int server_listen(const char *path, unsigned mode, char *err, size_t errlen);

/* Creates the server on a listening fd it then owns. NULL on failure. */
struct server *server_create(struct loop *loop, int listen_fd, const struct server_limits *limits,
	server_request_cb cb, void *cb_data);
/* Closes every connection and the listening socket; requests still parked
 * are abandoned first. NULL is a no-op. */
void server_destroy(struct server *srv);
/* Stops accepting new connections (first step of a clean stop). */
void server_stop_accepting(struct server *srv);
/* Replaces the limits (SIGHUP reload). */
void server_set_limits(struct server *srv, const struct server_limits *limits);

/* Finishes a request with its reply payload (a JSON text the server takes
 * ownership of; it must be malloc'd with FRAME_HEADER spare bytes in front,
 * see server_reply_alloc). With a NULL payload the request is dropped without
 * a reply (only for requests whose client is gone). */
void server_request_complete(struct request *r, char *frame, size_t payload_len);
/* The same for a frame that starts skip bytes into the malloc'd buf (the
 * reply text written behind room for the header it did not need). */
void server_request_complete_at(struct request *r, char *buf, size_t skip, size_t payload_len);
/* Allocates a buffer for a reply of len payload bytes; the payload goes at
 * buf + FRAME_HEADER. */
char *server_reply_alloc(size_t len);

/* Writes finished replies out and processes frames that waited for room.
 * Returns true when new requests were processed (their replies may need
 * another round). Called from the daemon's before-wait hook. */
bool server_flush(struct server *srv);

#endif
