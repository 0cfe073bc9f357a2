/* event.list and event.watch: the event log, as far as the caller may see
 * it (users: events about themselves and their jobs; admins: all).
 * event.watch parks until there is something after `since`. */
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "gpuaasd/job-reply.h"
#include "gpuaasd/park.h"

#define EVENT_LIST_MAX 1000

/* args.kinds (an array of names, or one comma-separated string) as
 * ",a,b," in buf; "" when absent. */
static enum status read_kinds(struct op_ctx *ctx, char *buf, size_t size)
{
	const cJSON *k = json_get(ctx->args, "kinds");
	size_t off = 0;
	buf[0] = '\0';
	if (!k || cJSON_IsNull(k))
		return ST_OK;
	const cJSON *one = cJSON_IsString(k) ? k : NULL, *it = cJSON_IsArray(k) ? k->child : NULL;
	if (!one && !cJSON_IsArray(k))
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'kinds' must be an array of event kinds");
	for (const cJSON *cur = one ? one : it; cur; cur = one ? NULL : cur->next) {
		const char *v = cJSON_IsString(cur) ? cur->valuestring : NULL;
		for (const char *p = v; p && *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '_' || *p == ','))
				v = NULL;
		int n = v ? snprintf(buf + off, size - off, "%s%s,", off ? "" : ",", v) : -1;
		if (n < 0 || (size_t)n >= size - off)
			return op_fail(ctx, ST_BAD_REQUEST, "argument 'kinds' must be event kinds like job.approved");
		off += (size_t)n;
	}
	return ST_OK;
}

/* Reads the filter of a list or watch; kinds is its storage. */
static enum status read_filter(struct op_ctx *ctx, struct event_filter *f, char *kinds, size_t ksize)
{
	enum status st;
	*f = (struct event_filter){.limit = 100};
	if ((st = arg_int(ctx, "since", false, 0, JSON_INT_MAX, &f->since)) != ST_OK ||
	    (st = arg_int(ctx, "limit", false, 1, EVENT_LIST_MAX, &f->limit)) != ST_OK ||
	    (st = arg_int(ctx, "job", false, 1, JSON_INT_MAX, &f->job_id)) != ST_OK ||
	    (st = arg_int(ctx, "since_time", false, 0, JSON_INT_MAX, &f->at_or_after)) != ST_OK ||
	    (st = arg_str(ctx, "user", false, 64, true, &f->user)) != ST_OK || (st = read_kinds(ctx, kinds, ksize)) != ST_OK)
		return st;
	f->kinds = kinds;
	if (f->user && !ctx->user.is_admin)
		return op_fail(ctx, ST_FORBIDDEN, "only admins can see other users' events");
	f->visible_to = ctx->user.is_admin ? 0 : ctx->user.id;
	return ST_OK;
}

struct event_out {
	struct strbuf *b;
	int n;
	int64_t last;
};

static int event_cb(void *arg, const struct event_row *e)
{
	struct event_out *o = arg;
	strbuf_adds(o->b, o->n++ ? ",{\"seq\":" : "{\"seq\":");
	strbuf_add_int(o->b, e->seq);
	out_time(o->b, "at", e->at);
	out_str(o->b, "actor", e->actor);
	out_str(o->b, "kind", e->kind);
	out_opt_int(o->b, "job_id", e->job_id > 0, e->job_id);
	out_str(o->b, "user", e->user);
	/* Written by events.c as a JSON object. */
	out_key(o->b, "detail");
	strbuf_adds(o->b, e->detail ? e->detail : "{}");
	strbuf_addc(o->b, '}');
	o->last = e->seq;
	return o->b->failed ? -1 : 0;
}

/* {"events": [...], "last_seq": N}; with wait, OP_PENDING when there is
 * nothing yet. */
static enum status events_answer(struct op_ctx *ctx, bool wait)
{
	struct event_filter f;
	char kinds[1024];
	enum status st = read_filter(ctx, &f, kinds, sizeof kinds);
	if (st != ST_OK)
		return st;
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	op_raw_clear(b); /* a watch asked again starts afresh */
	strbuf_adds(b, "{\"events\":[");
	struct event_out o = {.b = b, .last = f.since};
	if (db_event_list(ctx->d->db, &f, event_cb, &o) < 0)
		return op_db_error(ctx);
	if (o.n == 0 && wait)
		return OP_PENDING;
	strbuf_adds(b, "],\"last_seq\":");
	strbuf_add_int(b, o.last);
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

static enum status event_list(struct op_ctx *ctx)
{
	return events_answer(ctx, false);
}

static enum status watch_answer(struct op_ctx *ctx, bool timed_out)
{
	return events_answer(ctx, !timed_out);
}

static enum status event_watch(struct op_ctx *ctx)
{
	int64_t timeout = 30;
	enum status st = arg_int(ctx, "timeout", false, 0, 3600, &timeout);
	if (st != ST_OK)
		return st;
	st = events_answer(ctx, timeout > 0);
	if (st != OP_PENDING)
		return st;
	return park_add(ctx->d->park, ctx, PARK_EVENTS, 0, timeout * 1000, watch_answer);
}

const struct op event_ops[] = {
	{"event.list", event_list, 0},
	{"event.watch", event_watch, 0},
	{NULL, NULL, 0},
};
