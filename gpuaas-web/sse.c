#include "gpuaas-web/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "gpuaas-web/api.h"
#include "gpuaas-web/args.h"
#include "gpuaas-web/auth.h"
#include "gpuaas-web/parked.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"
#include "gpuaas-web/upstream.h"
#include "gpuaas-web/web.h"

#define WATCH_TIMEOUT 600  /* seconds a watch parks in gpuaasd before it is asked again */
#define WATCH_LIMIT 1000   /* events per watch reply */
#define RETRY_MS 1000      /* reconnecting to gpuaasd */
#define SSE_BUFFER_MAX (4u << 20) /* a client this far behind is cut off */

enum step { STEP_START, STEP_STATS, STEP_FIRST, STEP_STREAMING };

struct sse_stream {
	struct parked p; /* first: the set's members are streams */
	struct web *w;
	struct request *r;
	struct upstream_call *call;
	char *token;
	char *filter; /* the watch's arguments besides since and timeout: "" or ,"k":v... */
	int64_t seq;  /* the last event sent */
	struct strbuf out;
	size_t out_off;
	bool ended;
	int64_t last_write_ms, retry_at_ms;
};

void sse_destroy(struct request *r)
{
	struct sse_stream *s = r->sse;
	if (!s)
		return;
	upstream_cancel(s->call);
	parked_leave(&s->p);
	strbuf_finish(&s->out);
	free(s->token);
	free(s->filter);
	free(s);
	r->sse = NULL;
}

/* The libmicrohttpd body reader: what is buffered, else suspend until
 * there is more (returning 0 without suspending would spin). */
static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_stream *s = cls;
	(void)pos;
	size_t avail = s->out.len - s->out_off;
	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(buf, s->out.data + s->out_off, n);
		s->out_off += n;
		if (s->out_off == s->out.len)
			s->out.len = s->out_off = 0;
		return (ssize_t)n;
	}
	if (s->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	request_suspend(s->r);
	return 0;
}

/* New bytes are buffered: let the reader run. */
static void wake(struct sse_stream *s)
{
	s->last_write_ms = loop_now_ms();
	if (s->out.len - s->out_off > SSE_BUFFER_MAX || s->out.failed) {
		s->out.len = s->out_off = 0;
		s->out.failed = false;
		s->ended = true; /* too slow a reader: it reconnects with Last-Event-ID */
	}
	request_resume(s->r);
}

/* The client hung up while the stream waited for events. */
static void on_hangup(struct parked *p)
{
	struct sse_stream *s = (struct sse_stream *)p;
	s->ended = true;
	wake(s);
}

/* One event per array element: id, event (its kind) and data lines. */
static void append_events(struct sse_stream *s, struct jspan data)
{
	struct jspan events, ev, v, kind;
	size_t pos = 0;
	int64_t seq;
	if (jspan_member(data, "events", &events) < 0)
		return;
	while (jspan_array_next(events, &pos, &ev) == 1) {
		if (jspan_member(ev, "seq", &v) < 0 || jspan_int(v, &seq) < 0)
			continue;
		if (jspan_member(ev, "kind", &v) < 0 || jspan_plain_str(v, &kind) < 0 || memchr(kind.p, '\n', kind.n))
			kind = (struct jspan){"message", 7};
		strbuf_adds(&s->out, "id: ");
		strbuf_add_int(&s->out, seq);
		strbuf_adds(&s->out, "\nevent: ");
		strbuf_add(&s->out, kind.p, kind.n);
		strbuf_adds(&s->out, "\ndata: ");
		size_t at = s->out.len;
		strbuf_add(&s->out, ev.p, ev.n);
		for (size_t i = at; i < s->out.len && !s->out.failed; i++) /* blanks between tokens only */
			if (s->out.data[i] == '\n' || s->out.data[i] == '\r')
				s->out.data[i] = ' ';
		strbuf_adds(&s->out, "\n\n");
		if (seq > s->seq)
			s->seq = seq;
	}
	if (jspan_member(data, "last_seq", &v) == 0 && jspan_int(v, &seq) == 0 && seq > s->seq)
		s->seq = seq;
}

/* The watch's arguments: {"since", "timeout", "limit"} and the filter. */
static int watch_args(const struct sse_stream *s, int timeout, struct strbuf *b)
{
	strbuf_init(b, 0);
	strbuf_adds(b, "{\"since\":");
	strbuf_add_int(b, s->seq);
	strbuf_adds(b, ",\"timeout\":");
	strbuf_add_int(b, timeout);
	strbuf_adds(b, ",\"limit\":");
	strbuf_add_int(b, WATCH_LIMIT);
	strbuf_adds(b, s->filter);
	strbuf_addc(b, '}');
	return b->failed ? -1 : 0;
}

static void on_watch(void *arg, enum status st, char *reply, size_t len);

/* Parks the next watch in gpuaasd; on failure a retry is scheduled. */
static void watch_next(struct sse_stream *s)
{
	struct strbuf b;
	enum status st = watch_args(s, WATCH_TIMEOUT, &b) < 0 ? ST_INTERNAL :
		upstream_call(s->p.up, "event.watch", s->token, b.data, b.len, on_watch, s, &s->call);
	strbuf_finish(&b);
	if (st != ST_OK) {
		s->retry_at_ms = loop_now_ms() + RETRY_MS;
		return;
	}
	upstream_flush(s->p.up);
}

/* An error gpuaasd will not get over by itself (token expired or revoked,
 * account deleted) ends the stream with an "error" event. */
static void end_with_error(struct sse_stream *s, const struct reply *rep)
{
	strbuf_adds(&s->out, "event: error\ndata: {\"error\":");
	strbuf_add(&s->out, rep->error.p, rep->error.n);
	strbuf_adds(&s->out, "}\n\n");
	s->ended = true;
}

static void on_watch(void *arg, enum status st, char *reply, size_t len)
{
	struct sse_stream *s = arg;
	struct reply rep;
	size_t before = s->out.len;
	s->call = NULL;
	if (st != ST_OK || reply_parse(reply, len, &rep) < 0) {
		if (!s->ended)
			strbuf_adds(&s->out, ": gpuaasd is unavailable; the stream goes on when it is back\n\n");
		s->retry_at_ms = loop_now_ms() + RETRY_MS;
	} else if (!rep.ok && (rep.st == ST_RATE_LIMITED || rep.st == ST_UNAVAILABLE || rep.st == ST_INTERNAL)) {
		s->retry_at_ms = loop_now_ms() + 1000 * reply_retry_after(&rep, 1);
	} else if (!rep.ok) {
		end_with_error(s, &rep);
	} else {
		append_events(s, rep.data);
		watch_next(s);
	}
	free(reply);
	if (s->out.len != before || s->ended)
		wake(s);
}

/* The filter from the query: kinds, job, user. -1 with err. */
static int read_filter(struct request *r, struct sse_stream *s, char *err, size_t errlen)
{
	struct args a;
	int64_t job = 0;
	const char *kinds = query_get(&r->query, "kinds"), *user = query_get(&r->query, "user");
	args_init(&a);
	a.n = 1; /* every member follows "since" and "timeout": each gets its comma */
	if (query_int(&r->query, "job", 1, INT64_C(1) << 53, &job) < 0) {
		snprintf(err, errlen, "job must be a job id");
		args_finish(&a);
		return -1;
	}
	if (job)
		args_int(&a, "job", job);
	if (kinds && *kinds)
		args_str(&a, "kinds", kinds);
	if (user && *user)
		args_str(&a, "user", user);
	args_close(&a);
	s->filter = a.b.failed ? NULL : strndup(a.b.data + 1, a.b.len - 2);
	args_finish(&a);
	return s->filter ? 0 : -1;
}

/* Where the stream starts: Last-Event-ID, else ?since=, else -1 (now). */
static int start_seq(struct request *r, int64_t *seq)
{
	const char *last = request_header(r, "Last-Event-ID");
	int64_t id;
	*seq = -1;
	if (last && jspan_int((struct jspan){last, strlen(last)}, &id) == 0 && id >= 0) {
		*seq = id; /* a malformed one is ignored, as EventSource clients expect */
		return 0;
	}
	return query_int(&r->query, "since", 0, INT64_C(1) << 53, seq) < 0 ? -1 : 0;
}

/* The first watch answers at once (timeout 0): it checks the token before
 * the stream's 200 is sent. */
static enum MHD_Result first_watch(struct request *r)
{
	struct sse_stream *s = r->sse;
	struct strbuf b;
	r->step = STEP_FIRST;
	if (watch_args(s, 0, &b) < 0) {
		strbuf_finish(&b);
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	}
	enum MHD_Result ret = api_call_on(r, s->p.up, "event.watch", s->token, b.data, b.len);
	strbuf_finish(&b);
	upstream_flush(s->p.up);
	return ret;
}

static enum MHD_Result start(struct request *r)
{
	struct web *w = r->w;
	char err[128];
	int64_t since;
	if (auth_find(r) != AUTH_OK)
		return respond_error(r, 401, ST_UNAUTHENTICATED, "not logged in: send 'Authorization: Bearer TOKEN' or the session cookie");
	if (w->streams.closed)
		return respond_call_failed(r, ST_UNAVAILABLE);
	if (!parked_room(&w->streams, w->opt.max_sse_clients))
		return respond_error(r, 503, ST_UNAVAILABLE, "too many event streams open (%lld)",
			(long long)w->opt.max_sse_clients);
	if (start_seq(r, &since) < 0)
		return respond_error(r, 400, ST_BAD_REQUEST, "since must be an event sequence number");
	struct sse_stream *s = calloc(1, sizeof *s);
	if (!s)
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	s->w = w;
	s->r = r;
	r->sse = s;
	strbuf_init(&s->out, 0);
	s->token = strdup(r->token);
	if (parked_join(&w->streams, &s->p, w->loop, r, w->opt.socket_path, on_hangup) < 0 || !s->token)
		return respond_error(r, 500, ST_INTERNAL, "out of memory");
	if (read_filter(r, s, err, sizeof err) < 0)
		return respond_error(r, 400, ST_BAD_REQUEST, "%s", err);
	if (since >= 0) {
		s->seq = since;
		return first_watch(r);
	}
	r->step = STEP_STATS; /* start from the newest event: sys.stats knows its number */
	return api_call(r, LANE_FAST, "sys.stats", NULL, NULL, 0);
}

static enum MHD_Result after_stats(struct request *r)
{
	struct reply rep;
	struct jspan v;
	enum MHD_Result ret;
	if (api_reply(r, &rep, &ret) < 0)
		return ret;
	if (!rep.ok)
		return respond_daemon_error(r, &rep);
	if (jspan_member(rep.data, "events_total", &v) < 0 || jspan_int(v, &r->sse->seq) < 0)
		return respond_error(r, 502, ST_UNAVAILABLE, "gpuaasd's sys.stats has no events_total");
	api_drop_reply(r);
	return first_watch(r);
}

static enum MHD_Result after_first(struct request *r)
{
	struct sse_stream *s = r->sse;
	struct reply rep;
	enum MHD_Result ret;
	if (api_reply(r, &rep, &ret) < 0)
		return ret;
	if (!rep.ok)
		return respond_daemon_error(r, &rep);
	strbuf_adds(&s->out, "retry: 2000\n\n");
	append_events(s, rep.data);
	api_drop_reply(r);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_events, s, NULL);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, "Content-Type", "text/event-stream") != MHD_YES ||
	    MHD_add_response_header(resp, "X-Accel-Buffering", "no") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = respond_queue(r, 200, resp);
	if (ret != MHD_YES)
		return ret;
	r->step = STEP_STREAMING;
	s->last_write_ms = loop_now_ms();
	parked_watch_client(&s->p);
	watch_next(s);
	return MHD_YES;
}

enum MHD_Result sse_handle(struct request *r)
{
	switch (r->step) {
	case STEP_START:
		return start(r);
	case STEP_STATS:
		return after_stats(r);
	case STEP_FIRST:
		return after_first(r);
	default:
		return MHD_YES;
	}
}

void sse_tick(struct web *w, int64_t now_ms)
{
	for (struct parked *p = w->streams.head; p; p = p->next) {
		struct sse_stream *s = (struct sse_stream *)p;
		if (s->r->step != STEP_STREAMING || s->ended)
			continue;
		if (s->retry_at_ms && now_ms >= s->retry_at_ms && !s->call) {
			s->retry_at_ms = 0;
			watch_next(s);
		}
		if (now_ms - s->last_write_ms >= w->opt.sse_heartbeat * 1000) {
			strbuf_adds(&s->out, ": heartbeat\n\n");
			wake(s);
		}
	}
}

void sse_end_all(struct web *w)
{
	w->streams.closed = true;
	for (struct parked *p = w->streams.head; p; p = p->next) {
		struct sse_stream *s = (struct sse_stream *)p;
		s->ended = true;
		upstream_cancel(s->call);
		s->call = NULL;
		if (s->r->step == STEP_STREAMING)
			wake(s);
		else
			upstream_reset(s->p.up, ST_UNAVAILABLE); /* answers the request waiting on it */
	}
}
