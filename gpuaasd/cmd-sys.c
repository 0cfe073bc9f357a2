/* sys.ping and sys.stats. sys.stats gives the aggregates a metrics scraper
 * needs (no names, no ids), at a cost that does not grow with the number of
 * jobs: counts kept by the database's triggers, the scheduler's memory and
 * one indexed look-up per GPU type. */
#include <time.h>

#include "common/json.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/job-reply.h"
#include "gpuaasd/park.h"
#include "gpuaasd/sched.h"

static enum status sys_ping(struct op_ctx *ctx)
{
	cJSON *data = op_data(ctx);
	if (!data)
		return ST_INTERNAL;
	cJSON_AddTrueToObject(data, "pong");
	cJSON_AddStringToObject(data, "version", GPUAAS_VERSION);
	return ST_OK;
}

struct count_out {
	struct strbuf *b;
	int n;
};

static int count_cb(void *arg, const char *status, const char *gpu_type, int64_t n)
{
	struct count_out *o = arg;
	strbuf_adds(o->b, o->n++ ? ",{\"state\":" : "{\"state\":");
	strbuf_add_json_str(o->b, status);
	out_str(o->b, "type", gpu_type);
	out_int(o->b, "count", n);
	strbuf_addc(o->b, '}');
	return o->b->failed ? -1 : 0;
}

/* Per type: GPUs total/busy/free, and the queue: approved jobs waiting and
 * the age of the oldest pending request. */
static int write_types(struct op_ctx *ctx, struct strbuf *b, int64_t now)
{
	struct daemon *d = ctx->d;
	strbuf_adds(b, "{\"gpus\":[");
	for (int i = 0; i < d->inv.ntypes; i++) {
		int total = d->inv.types[i].total, busy = sched_busy(d->sched, i);
		int64_t oldest = 0;
		if (db_job_oldest_pending_of(d->db, d->inv.types[i].name, &oldest) < 0)
			return -1;
		strbuf_adds(b, i ? ",{\"type\":" : "{\"type\":");
		strbuf_add_json_str(b, d->inv.types[i].name);
		out_int(b, "total", total);
		out_int(b, "busy", busy);
		out_int(b, "free", total - busy);
		out_int(b, "queued", sched_queue_depth(d->sched, i));
		out_int(b, "oldest_pending_age", oldest > 0 && now > oldest ? now - oldest : 0);
		out_int(b, "weight", d->inv.types[i].weight);
		strbuf_addc(b, '}');
	}
	strbuf_addc(b, ']');
	return 0;
}

static enum status sys_stats(struct op_ctx *ctx)
{
	struct strbuf *b = op_raw(ctx);
	int64_t events = 0, now = (int64_t)time(NULL);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	if (write_types(ctx, b, now) < 0)
		return op_db_error(ctx);
	strbuf_adds(b, ",\"jobs\":[");
	struct count_out o = {.b = b};
	if (db_job_counts(ctx->d->db, count_cb, &o) < 0 || db_event_max_seq(ctx->d->db, &events) < 0)
		return op_db_error(ctx);
	strbuf_addc(b, ']');
	out_int(b, "events_total", events);
	out_int(b, "parked", (int64_t)park_count(ctx->d->park));
	out_str(b, "executor", ctx->d->executor->name);
	out_str(b, "version", GPUAAS_VERSION);
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

const struct op sys_ops[] = {
	{"sys.ping", sys_ping, OP_NO_AUTH},
	{"sys.stats", sys_stats, OP_NO_AUTH},
	{NULL, NULL, 0},
};
