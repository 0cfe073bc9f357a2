/* job.queue: every live job, as squeue shows a cluster's queue: per GPU
 * type the running jobs, then the approved ones in queue order with their
 * position and estimated start, then the pending ones. Another user's job
 * never shows its name or command; with --queue-visibility anonymous (the
 * default) it also hides its id and owner, as gpu.list does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuaasd/estimate.h"
#include "gpuaasd/job-reply.h"
#include "gpuaasd/sched.h"

#define QUEUE_MAX 100000

struct queue_row {
	int64_t id, owner_id, gpu_count, time_limit, started_at, approve_seq;
	int type_idx;
	int state_rank; /* 0 running, 1 approved, 2 pending */
	int position;   /* approved: 1-based place in its type's queue */
	char status[12];
	char owner[USERNAME_MAX + 1];
	char name[129];
};

struct queue_rows {
	struct daemon *d;
	int only_type; /* -1: every type */
	struct queue_row *rows;
	size_t n, cap;
};

static int collect_row(void *arg, const struct job_row *j)
{
	struct queue_rows *q = arg;
	int type_idx = inventory_find(&q->d->inv, j->gpu_type);
	if (q->only_type >= 0 && type_idx != q->only_type)
		return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		struct queue_row *rows = cap <= QUEUE_MAX ? realloc(q->rows, cap * sizeof *rows) : NULL;
		if (!rows)
			return cap > QUEUE_MAX ? 1 : -1;
		q->rows = rows;
		q->cap = cap;
	}
	struct queue_row *r = &q->rows[q->n++];
	*r = (struct queue_row){.id = j->id, .owner_id = j->owner_id, .gpu_count = j->gpu_count,
		.time_limit = j->time_limit, .started_at = j->started_at, .approve_seq = j->approve_seq,
		.type_idx = type_idx};
	r->state_rank = strcmp(j->status, "RUNNING") == 0 ? 0 : strcmp(j->status, "APPROVED") == 0 ? 1 : 2;
	r->position = r->state_rank == 1 ? sched_queue_position(q->d->sched, type_idx, j->approve_seq) : 0;
	snprintf(r->status, sizeof r->status, "%s", j->status);
	snprintf(r->owner, sizeof r->owner, "%s", j->owner);
	snprintf(r->name, sizeof r->name, "%s", j->name);
	return 0;
}

static int row_order(const void *a, const void *b)
{
	const struct queue_row *x = a, *y = b;
	if (x->type_idx != y->type_idx)
		return x->type_idx < y->type_idx ? -1 : 1;
	if (x->state_rank != y->state_rank)
		return x->state_rank < y->state_rank ? -1 : 1;
	int64_t kx = x->state_rank == 1 ? x->position : x->id, ky = y->state_rank == 1 ? y->position : y->id;
	return kx < ky ? -1 : kx > ky;
}

static void row_write(struct op_ctx *ctx, struct strbuf *b, const struct queue_row *r, bool first)
{
	struct daemon *d = ctx->d;
	bool mine = r->owner_id == ctx->user.id;
	bool shown = mine || ctx->user.is_admin || strcmp(d->cfg.queue_visibility, "full") == 0;
	strbuf_adds(b, first ? "{\"id\":" : ",{\"id\":");
	if (shown)
		strbuf_add_int(b, r->id);
	else
		strbuf_adds(b, "null");
	out_str(b, "owner", shown ? r->owner : "(other)");
	strbuf_adds(b, mine ? ",\"mine\":true" : ",\"mine\":false");
	out_str(b, "name", mine ? r->name : NULL);
	out_str(b, "gpu_type", r->type_idx >= 0 ? d->inv.types[r->type_idx].name : "?");
	out_int(b, "gpu_count", r->gpu_count);
	out_str(b, "status", r->status);
	out_opt_int(b, "position", r->position > 0, r->position);
	out_int(b, "time_limit", r->time_limit);
	out_time(b, "started_at", r->started_at);
	int64_t est = r->state_rank == 1 ? sched_estimate_queued(d->sched, r->type_idx, r->approve_seq)
		: r->state_rank == 2 ? sched_estimate_new(d->sched, r->type_idx, (int)r->gpu_count) : ESTIMATE_NEVER;
	out_time(b, "estimated_start", est == ESTIMATE_NEVER ? 0 : (est + 999) / 1000);
	strbuf_addc(b, '}');
}

static enum status job_queue(struct op_ctx *ctx)
{
	const char *type = NULL;
	char clip[48];
	enum status st = arg_str(ctx, "gpu_type", false, 64, true, &type);
	if (st != ST_OK)
		return st;
	struct queue_rows q = {.d = ctx->d, .only_type = type ? inventory_find(&ctx->d->inv, type) : -1};
	if (type && q.only_type < 0)
		return op_fail(ctx, ST_BAD_REQUEST, "unknown GPU type '%s'", op_clip(type, 32, clip, sizeof clip));
	struct job_filter f = {.limit = QUEUE_MAX, .state_mask = (1u << JOB_PENDING) | (1u << JOB_APPROVED) |
		(1u << JOB_RUNNING)};
	if (db_job_list(ctx->d->db, &f, collect_row, &q) < 0) {
		free(q.rows);
		return op_db_error(ctx);
	}
	qsort(q.rows, q.n, sizeof *q.rows, row_order);
	struct strbuf *b = op_raw(ctx);
	int ahead = -1;
	if (b)
		strbuf_adds(b, "{\"jobs\":[");
	for (size_t i = 0; b && i < q.n; i++) {
		row_write(ctx, b, &q.rows[i], i == 0);
		if (q.rows[i].owner_id == ctx->user.id && q.rows[i].position > 0 &&
		    (ahead < 0 || q.rows[i].position - 1 < ahead))
			ahead = q.rows[i].position - 1;
	}
	free(q.rows);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "]");
	out_opt_int(b, "ahead_of_you", ahead >= 0, ahead);
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

const struct op queue_ops[] = {
	{"job.queue", job_queue, 0},
	{NULL, NULL, 0},
};
