/* Requests that wait in gpuaasd (an event watch, a followed log), each on a
 * connection to gpuaasd of its own: replies on one connection come back in
 * request order (upstream.h), so a call parked on a shared pool connection
 * would hold up every reply behind it. A set of them (the event streams,
 * the log follows) is counted against its cap. While one waits, its
 * client's socket is watched, since libmicrohttpd does not look at a
 * suspended connection: a client that hangs up is noticed at once, not
 * when gpuaasd answers or the next write fails. */
#ifndef GPUAAS_WEB_PARKED_H
#define GPUAAS_WEB_PARKED_H

#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "gpuaas-web/loop.h"

struct request;
struct upstream;
struct parked;

typedef void (*parked_hangup_fn)(struct parked *p);

struct parked {
	struct parked *prev, *next;
	struct parked_set *set;
	struct loop *loop;
	struct request *r;
	struct upstream *up;      /* the request's own connection to gpuaasd */
	struct loop_watch client; /* the client's socket; fd -1 while not watched */
	parked_hangup_fn hung_up;
};

struct parked_set {
	struct parked *head;
	int n;
	bool closed; /* the gateway stops: no new ones */
};

/* Whether one more fits under cap. */
bool parked_room(const struct parked_set *set, int64_t cap);
/* Adds p to set for r, with a connection to the socket at path of its own
 * (nothing is connected before its first call). -1 when out of memory: p
 * is in the set all the same, and parked_leave must still be called. */
int parked_join(struct parked_set *set, struct parked *p, struct loop *loop, struct request *r, const char *path,
	parked_hangup_fn hung_up);
/* Watches the client's socket: hung_up is called once, when it closes. */
void parked_watch_client(struct parked *p);
/* Closes p's connection (the caller cancelled its calls first), stops
 * watching the client and takes p out of its set. */
void parked_leave(struct parked *p);
/* Fails every call of the set with st (their callbacks run) and closes the
 * set to new members: for the gateway's stop. */
void parked_close_all(struct parked_set *set, enum status st);
/* gpuaasd answers a parked call by its timeout: a connection whose oldest
 * call waited longer than limit_ms is taken for hung and closed (its call
 * fails with ST_UNREACHABLE: 502). */
void parked_check(struct parked_set *set, int64_t now_ms, int64_t limit_ms);

#endif
