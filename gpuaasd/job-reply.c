/* Job objects in replies (see job-reply.h). */
#include "gpuaasd/job-reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuaasd/estimate.h"
#include "gpuaasd/sched.h"

void out_key(struct strbuf *b, const char *key)
{
	/* Keys are this program's own names: nothing to escape. One capacity
	 * check: a listed job writes some 25 keys, and three appends per key
	 * were a fifth of the list path. */
	size_t n = strlen(key);
	char *o = strbuf_room(b, n + 4);
	if (!o)
		return;
	*o++ = ',';
	*o++ = '"';
	memcpy(o, key, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	strbuf_commit(b, o);
}

void out_str(struct strbuf *b, const char *key, const char *v)
{
	out_key(b, key);
	strbuf_add_json_str(b, v);
}

void out_int(struct strbuf *b, const char *key, int64_t v)
{
	out_key(b, key);
	strbuf_add_int(b, v);
}

/* An integer, or null when there is none. */
void out_opt_int(struct strbuf *b, const char *key, bool has, int64_t v)
{
	out_key(b, key);
	if (has)
		strbuf_add_int(b, v);
	else
		strbuf_adds(b, "null");
}

/* Writers into room taken once per job (strbuf_room): a listed job has
 * some twenty-five fields, and an append per key and per value was most of
 * a 50-row list's JSON cost. KEY gives a literal ,"key": and its length. */
#define KEY(k) (",\"" k "\":"), (sizeof(",\"" k "\":") - 1)
#define TIME_ROOM 40

static char *put_lit(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

static char *put_str(char *o, const char *key, size_t klen, const char *v, size_t vlen)
{
	o = put_lit(o, key, klen);
	return strbuf_put_json_str(o, v, vlen);
}

static char *put_int(char *o, const char *key, size_t klen, bool has, int64_t v)
{
	o = put_lit(o, key, klen);
	return has ? strbuf_put_int(o, v) : put_lit(o, "null", 4);
}

/* RFC 3339 UTC, or null when unset: nothing in it needs escaping. */
static char *put_time(char *o, const char *key, size_t klen, int64_t t)
{
	o = put_lit(o, key, klen);
	if (t <= 0)
		return put_lit(o, "null", 4);
	*o++ = '"';
	o += strlen(time_format_rfc3339(t, o, TIME_ROOM - 2));
	*o++ = '"';
	return o;
}

/* A time as RFC 3339 UTC, or null when unset. */
void out_time(struct strbuf *b, const char *key, int64_t t)
{
	size_t klen = strlen(key);
	char *o = strbuf_room(b, klen + 4 + TIME_ROOM);
	if (!o)
		return;
	*o++ = ',';
	*o++ = '"';
	o = put_lit(o, key, klen);
	*o++ = '"';
	strbuf_commit(b, put_time(o, ":", 1, t));
}

/* "14:20", or "Nov 28 14:20" when not today (the daemon's local time). */
static void clock_text(int64_t at_ms, char *buf, size_t size)
{
	time_t t = (time_t)(at_ms / 1000 + (at_ms % 1000 ? 1 : 0)), now = time(NULL);
	struct tm tm, today;
	localtime_r(&t, &tm);
	localtime_r(&now, &today);
	bool same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
	strftime(buf, size, same_day ? "%H:%M" : "%b %d %H:%M", &tm);
}

/* The devices a job holds, as the job and nvidia-smi number them (the
 * numbers gpu.list shows as index), from the slots stored with it. */
static const char *device_numbers(struct daemon *d, const struct job_row *j, char *buf, size_t size)
{
	int type_idx = inventory_find(&d->inv, j->gpu_type);
	size_t off = 0;
	buf[0] = '\0';
	for (const char *p = j->devices; *p && off < size;) {
		char *end;
		long slot = strtol(p, &end, 10);
		if (end == p)
			break;
		int n = snprintf(buf + off, size - off, "%s%d", off ? "," : "",
			type_idx >= 0 ? inventory_device_index(&d->inv, type_idx, (int)slot) : (int)slot);
		off += n > 0 ? (size_t)n : 0;
		p = *end == ',' ? end + 1 : end;
	}
	return buf;
}

/* Why a job is where it is. A waiting job's position and estimated start
 * change with every start, so they are computed now, not stored. */
static const char *job_reason(struct daemon *d, const struct job_row *j, int64_t est_ms, char *why, size_t size)
{
	if (strcmp(j->status, "APPROVED") == 0) {
		int idx = inventory_find(&d->inv, j->gpu_type);
		int pos = sched_queue_position(d->sched, idx, j->approve_seq);
		if (pos <= 0)
			return "starting";
		int n = snprintf(why, size, "waiting for %lld free %s (position %d)", (long long)j->gpu_count,
			j->gpu_type, pos);
		if (est_ms != ESTIMATE_NEVER && n > 0 && (size_t)n < size) {
			char at[32];
			clock_text(est_ms, at, sizeof at);
			snprintf(why + n, size - (size_t)n, ", start by %s", at);
		}
		return why;
	}
	if (strcmp(j->status, "RUNNING") == 0) {
		const char *cancel = sched_cancelling(d->sched, j->id);
		if (cancel) {
			snprintf(why, size, "cancelling (%s): stopping its processes", cancel);
			return why;
		}
		if (j->devices) {
			char devs[256];
			snprintf(why, size, "running on %s device%s %s", j->gpu_type, j->gpu_count > 1 ? "s" : "",
				device_numbers(d, j, devs, sizeof devs));
			return why;
		}
	}
	return j->reason;
}

/* Estimated start of a job that waits: an approved one from its place in
 * the queue, a pending one as if approved now; ESTIMATE_NEVER otherwise. */
static int64_t job_estimate(struct daemon *d, const struct job_row *j)
{
	bool approved = strcmp(j->status, "APPROVED") == 0;
	if (!approved && strcmp(j->status, "PENDING") != 0)
		return ESTIMATE_NEVER;
	int idx = inventory_find(&d->inv, j->gpu_type);
	return approved ? sched_estimate_queued(d->sched, idx, j->approve_seq)
			: sched_estimate_new(d->sched, idx, (int)j->gpu_count);
}

void job_write_open(struct strbuf *b, struct daemon *d, const struct job_row *j)
{
	char why[600], rule[32] = "rule:";
	int64_t est = job_estimate(d, j);
	const char *reason = job_reason(d, j, est, why, sizeof why);
	/* Not snprintf on every row: it was 4% of a list. */
	if (j->approved_rule > 0)
		*strbuf_put_int(rule + 5, j->approved_rule) = '\0';
	const char *by = j->approved_rule > 0 ? rule : j->approved_by;
	enum { NAME, OWNER, TYPE, STATUS, REASON, BY, EXTERNAL, NSTRS };
	const char *strs[NSTRS] = {j->name, j->owner, j->gpu_type, j->status, reason, by, j->external_id};
	size_t lens[NSTRS], cmd_len = j->command ? strlen(j->command) : 0;
	size_t room = 512 + 6 * TIME_ROOM + 8 * STRBUF_INT_MAX + cmd_len;
	for (size_t i = 0; i < NSTRS; i++) {
		lens[i] = strs[i] ? strlen(strs[i]) : 0;
		room += STRBUF_JSON_STR_MAX(lens[i]);
	}
	char *o = strbuf_room(b, room);
	if (!o)
		return;
	o = put_lit(o, "{\"id\":", 6);
	o = strbuf_put_int(o, j->id);
	o = put_str(o, KEY("name"), j->name, lens[NAME]);
	o = put_str(o, KEY("owner"), j->owner, lens[OWNER]);
	o = put_str(o, KEY("gpu_type"), j->gpu_type, lens[TYPE]);
	o = put_int(o, KEY("gpu_count"), true, j->gpu_count);
	o = put_int(o, KEY("time_limit"), true, j->time_limit);
	o = put_str(o, KEY("status"), j->status, lens[STATUS]);
	o = put_str(o, KEY("reason"), reason, lens[REASON]);
	o = put_time(o, KEY("created_at"), j->created_at);
	o = put_time(o, KEY("approved_at"), j->approved_at);
	o = put_str(o, KEY("approved_by"), by, lens[BY]);
	o = put_time(o, KEY("started_at"), j->started_at);
	o = put_time(o, KEY("finished_at"), j->finished_at);
	o = put_int(o, KEY("charged_seconds"), j->has_charged, j->charged_seconds);
	o = put_int(o, KEY("exit_code"), j->has_exit_code, j->exit_code);
	/* Stored as the compact JSON array we produced at submit. */
	o = put_lit(o, KEY("command"));
	o = j->command ? put_lit(o, j->command, cmd_len) : put_lit(o, "null", 4);
	/* Upper bound, rounded up to the second; null when unknown. */
	o = put_time(o, KEY("estimated_start"), est == ESTIMATE_NEVER ? 0 : (est + 999) / 1000);
	o = put_str(o, KEY("slurm_job_id"), j->external_id, lens[EXTERNAL]);
	/* Only where weights mean something: set now, or when it was submitted. */
	if (inventory_weighted(&d->inv) || j->weight > 1)
		o = put_int(o, KEY("weight"), true, j->weight > 0 ? j->weight : 1);
	strbuf_commit(b, o);
}

void job_write_expiry(struct strbuf *b, struct daemon *d, const struct job_row *j)
{
	bool pending = strcmp(j->status, "PENDING") == 0;
	out_time(b, "expires_at", pending && d->cfg.pending_ttl > 0 ? j->created_at + d->cfg.pending_ttl : 0);
}

void job_write(struct strbuf *b, struct daemon *d, const struct job_row *j)
{
	job_write_open(b, d, j);
	strbuf_addc(b, '}');
}

/* A row of a brief list: [id, name, owner, gpu_type, gpu_count, time_limit,
 * status, created_at], what gpuctl's table shows. */
void brief_write(struct strbuf *b, const struct job_row *row)
{
	/* One capacity check per row: a 10,000-row list spent a fifth of its
	 * time in per-field appends. */
	const char *strs[] = {row->name, row->owner, row->gpu_type, row->status};
	size_t lens[4], room = 8 + 4 * STRBUF_INT_MAX;
	for (size_t i = 0; i < 4; i++) {
		lens[i] = strs[i] ? strlen(strs[i]) : 0;
		room += STRBUF_JSON_STR_MAX(lens[i]) + 1;
	}
	char *o = strbuf_room(b, room);
	if (!o)
		return;
	*o++ = '[';
	o = strbuf_put_int(o, row->id);
	for (size_t i = 0; i < 3; i++) {
		*o++ = ',';
		o = strbuf_put_json_str(o, strs[i], lens[i]);
	}
	*o++ = ',';
	o = strbuf_put_int(o, row->gpu_count);
	*o++ = ',';
	o = strbuf_put_int(o, row->time_limit);
	*o++ = ',';
	o = strbuf_put_json_str(o, strs[3], lens[3]);
	*o++ = ',';
	o = strbuf_put_int(o, row->created_at);
	*o++ = ']';
	strbuf_commit(b, o);
}

struct job_read {
	struct op_ctx *ctx;
	enum job_reply reply;
	bool visible;
	bool final;
};

static int job_read_cb(void *arg, const struct job_row *row)
{
	struct job_read *r = arg;
	const struct user_row *caller = &r->ctx->user;
	enum job_state state;
	r->visible = caller->is_admin || row->owner_id == caller->id;
	r->final = job_state_parse(row->status, &state) == 0 && job_state_final(state);
	if (!r->visible || r->reply == JOB_REPLY_NONE || (r->reply == JOB_REPLY_IF_FINAL && !r->final))
		return 0;
	struct strbuf *b = op_raw(r->ctx);
	if (!b)
		return -1;
	job_write(b, r->ctx->d, row);
	return b->failed ? -1 : 0;
}

/* Reads job id; writes it as the reply data when `reply` says so. *final
 * (may be NULL): whether the job is in a final state. */
enum status job_read(struct op_ctx *ctx, int64_t id, enum job_reply reply, bool *final)
{
	struct job_read r = {.ctx = ctx, .reply = reply};
	int rc = db_job_get(ctx->d->db, id, job_read_cb, &r);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND || !r.visible)
		return op_fail(ctx, ST_NOT_FOUND, "no job %lld", (long long)id);
	if (final)
		*final = r.final;
	return ST_OK;
}

enum status reply_job(struct op_ctx *ctx, int64_t id)
{
	return job_read(ctx, id, JOB_REPLY_ALWAYS, NULL);
}

/* The reply to a transition that returned st: the job as it is now, or the
 * error (a database error is told apart from a refused transition). */
enum status reply_changed(struct op_ctx *ctx, enum status st, int64_t id)
{
	if (st == ST_INTERNAL)
		return op_db_error(ctx);
	return st == ST_OK ? reply_job(ctx, id) : st;
}

enum status arg_job_id(struct op_ctx *ctx, int64_t *id)
{
	return arg_int(ctx, "id", true, 1, JSON_INT_MAX, id);
}

