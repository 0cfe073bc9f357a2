#include "gpuaas-web/follow.h"

#include <stdlib.h>

#include "gpuaas-web/api.h"
#include "gpuaas-web/parked.h"
#include "gpuaas-web/query.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"
#include "gpuaas-web/upstream.h"
#include "gpuaas-web/web.h"

bool follow_wanted(const struct request *r)
{
	bool v = false;
	return query_bool(&r->query, "follow", &v) == 0 && v;
}

/* The client hung up while its follow waited: the call is dropped and its
 * connection closed now (gpuaasd forgets a parked call whose connection
 * closes); the request is resumed only to be closed (api_handle). */
static void on_hangup(struct parked *p)
{
	struct request *r = p->r;
	if (!r->call)
		return; /* answered already: libmicrohttpd sees the end itself */
	upstream_cancel(r->call);
	r->call = NULL;
	upstream_reset(p->up, ST_UNAVAILABLE);
	r->client_gone = true;
	request_resume(r);
}

enum MHD_Result follow_send(struct request *r, const char *op, const char *args, size_t len)
{
	struct web *w = r->w;
	if (!follow_wanted(r))
		return api_call(r, LANE_FAST, op, r->token, args, len);
	if (w->follows.closed)
		return respond_call_failed(r, ST_UNAVAILABLE);
	if (!parked_room(&w->follows, w->opt.max_sse_clients))
		return respond_error(r, 503, ST_UNAVAILABLE, "too many log follows waiting (%lld); try again",
			(long long)w->opt.max_sse_clients);
	r->follow = calloc(1, sizeof *r->follow);
	if (!r->follow || parked_join(&w->follows, r->follow, w->loop, r, w->opt.socket_path, on_hangup) < 0)
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	enum MHD_Result ret = api_call_on(r, r->follow->up, op, r->token, args, len);
	upstream_flush(r->follow->up);
	if (r->call) /* sent, and r waits for the reply */
		parked_watch_client(r->follow);
	return ret;
}

void follow_destroy(struct request *r)
{
	if (!r->follow)
		return;
	upstream_cancel(r->call);
	r->call = NULL;
	parked_leave(r->follow);
	free(r->follow);
	r->follow = NULL;
}

void follow_end_all(struct web *w)
{
	parked_close_all(&w->follows, ST_UNAVAILABLE);
}
