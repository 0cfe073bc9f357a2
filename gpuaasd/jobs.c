/* Job transitions and their quota effects (the quota rules are in
 * docs/PROTOCOL.md: a submit reserves count x time x weight, an end charges
 * count x seconds run x weight and releases the reservation). Each runs
 * inside the caller's transaction, appends its event and signals the job's
 * key to the parking service. */
#include "gpuaasd/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/log.h"
#include "gpuaasd/db.h"
#include "gpuaasd/events.h"
#include "gpuaasd/park.h"
#include "gpuaasd/state.h"

static int facts_cb(void *arg, const struct job_row *row)
{
	struct job_facts *f = arg;
	if (job_state_parse(row->status, &f->state) < 0)
		return -1;
	f->owner_id = row->owner_id;
	f->gpu_count = row->gpu_count;
	f->time_limit = row->time_limit;
	f->reserved = row->reserved;
	f->started_at = row->started_at;
	f->approve_seq = row->approve_seq;
	f->weight = row->weight > 0 ? row->weight : 1;
	snprintf(f->gpu_type, sizeof f->gpu_type, "%s", row->gpu_type);
	return 0;
}

int jobs_facts(struct daemon *d, int64_t id, struct job_facts *f)
{
	memset(f, 0, sizeof *f);
	int rc = db_job_get(d->db, id, facts_cb, f);
	f->type_idx = rc == 0 ? inventory_find(&d->inv, f->gpu_type) : -1;
	return rc;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* Appends a job event, with the job's owner as its subject. */
static int job_event(struct daemon *d, const char *actor, const char *kind, int64_t id, int64_t owner_id,
	struct event_detail *detail)
{
	int rc = events_add(d, actor, kind, id, owner_id, detail);
	if (detail)
		event_detail_finish(detail);
	park_signal(d->park, PARK_JOB_STATE, id);
	return rc;
}

enum status jobs_reservation(struct daemon *d, const struct job_request *req, int64_t *need, char *msg,
	size_t msglen)
{
	int64_t per_gpu;
	if (!quota_need(req->time_limit, d->inv.types[req->type_idx].weight, &per_gpu) ||
	    !quota_need(req->gpu_count, per_gpu, need)) {
		snprintf(msg, msglen, "gpu_count x time_limit overflows");
		return ST_BAD_REQUEST;
	}
	return ST_OK;
}

/* The quota error, with the arithmetic a user needs to act on it. */
static enum status quota_exceeded(struct daemon *d, const struct user_row *u, int64_t need, char *msg,
	size_t msglen)
{
	char a[32], b[32];
	int64_t avail = quota_available(u->quota, u->reserved);
	snprintf(msg, msglen,
		"quota exceeded: the job reserves %s GPU-time (%lld %sGPU-seconds) but %s (%lld) is available; "
		"ask an admin for more (gpuctl admin quota %s --add DURATION)",
		duration_format(need, a, sizeof a), (long long)need, inventory_weighted(&d->inv) ? "weighted " : "",
		duration_format(avail, b, sizeof b), (long long)avail, u->username);
	return ST_QUOTA_EXCEEDED;
}

enum status jobs_quota_check(struct daemon *d, int64_t owner_id, int64_t need, int64_t *available_after, char *msg,
	size_t msglen)
{
	struct user_row u;
	if (db_user_by_id(d->db, owner_id, &u) != 0)
		return ST_INTERNAL;
	int64_t avail = quota_available(u.quota, u.reserved);
	if (need > avail)
		return quota_exceeded(d, &u, need, msg, msglen);
	*available_after = avail - need;
	return ST_OK;
}

enum status jobs_submit(struct daemon *d, const struct job_request *req, int64_t *id_out, char *msg, size_t msglen)
{
	int64_t need;
	enum status st = jobs_reservation(d, req, &need, msg, msglen);
	if (st != ST_OK)
		return st;
	int rc = db_user_reserve(d->db, req->owner_id, need);
	if (rc == DB_CONFLICT) {
		struct user_row u;
		if (db_user_by_id(d->db, req->owner_id, &u) != 0)
			return ST_INTERNAL;
		return quota_exceeded(d, &u, need, msg, msglen);
	}
	const struct gpu_type_info *t = &d->inv.types[req->type_idx];
	struct job_insert ins = {.owner_id = req->owner_id, .name = req->name, .gpu_type = t->name,
		.count = req->gpu_count, .time_limit = req->time_limit, .command_json = req->command_json,
		.now = now_s(), .reserved = need, .weight = t->weight, .workdir = req->workdir, .env = req->env_json,
		.sim_run = req->sim_run};
	if (rc < 0 || db_job_insert(d->db, &ins, id_out) < 0)
		return ST_INTERNAL;
	struct event_detail e;
	event_detail_init(&e);
	event_detail_str(&e, "gpu_type", t->name);
	event_detail_int(&e, "gpu_count", req->gpu_count);
	event_detail_int(&e, "time_limit", req->time_limit);
	event_detail_int(&e, "reserved", need);
	event_detail_int(&e, "weight", t->weight);
	if (job_event(d, req->actor, "job.submitted", *id_out, req->owner_id, &e) < 0)
		return ST_INTERNAL;
	log_event(LOG_DEBUG, "job.submitted", "job=%lld owner=%lld type=%s count=%lld time=%lld", (long long)*id_out,
		(long long)req->owner_id, t->name, (long long)req->gpu_count, (long long)req->time_limit);
	return ST_OK;
}

static enum status not_allowed(const struct job_facts *f, int64_t id, const char *what, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "cannot %s job %lld: it is %s", what, (long long)id, job_state_name(f->state));
	return ST_CONFLICT;
}

/* Loads the job for the transition to `to` (named `what` in messages):
 * NOT_FOUND, CONFLICT when the lifecycle forbids it, INTERNAL. */
static enum status load_for(struct daemon *d, int64_t id, enum job_state to, const char *what, struct job_facts *f,
	char *msg, size_t msglen)
{
	int rc = jobs_facts(d, id, f);
	if (rc == DB_NOTFOUND) {
		snprintf(msg, msglen, "no job %lld", (long long)id);
		return ST_NOT_FOUND;
	}
	if (rc != 0)
		return ST_INTERNAL;
	return job_transition_allowed(f->state, to) ? ST_OK : not_allowed(f, id, what, msg, msglen);
}

enum status jobs_approve(struct daemon *d, int64_t id, const struct approver *by, int64_t seq, struct job_facts *f,
	char *msg, size_t msglen)
{
	enum status st = load_for(d, id, JOB_APPROVED, "approve", f, msg, msglen);
	if (st != ST_OK)
		return st;
	if (f->type_idx < 0) {
		snprintf(msg, msglen, "job %lld asks for GPU type %s, which this daemon no longer has", (long long)id,
			f->gpu_type);
		return ST_CONFLICT;
	}
	int rc = db_job_approve(d->db, id, now_s(), by->user_id, by->rule_id, seq, "waiting for free GPUs");
	if (rc < 0)
		return ST_INTERNAL;
	if (rc == DB_CONFLICT)
		return not_allowed(f, id, "approve", msg, msglen);
	struct event_detail e;
	event_detail_init(&e);
	event_detail_int(&e, "seq", seq);
	if (by->rule_id > 0)
		event_detail_int(&e, "rule", by->rule_id);
	if (job_event(d, by->actor, "job.approved", id, f->owner_id, &e) < 0)
		return ST_INTERNAL;
	log_event(LOG_INFO, "job.approved", "job=%lld by=%s", (long long)id, by->actor);
	return ST_OK;
}

/* Ends a job that never ran: no charge, reservation released, an event of
 * kind "job.<to in lower case>" with the reason. */
static int close_unstarted(struct daemon *d, int64_t id, const struct job_facts *f, enum job_state to,
	const char *actor, const char *reason)
{
	int rc = db_job_close(d->db, id, job_state_name(f->state), job_state_name(to), reason, now_s(), 0, -1);
	if (rc != 0)
		return rc;
	rc = db_user_charge(d->db, f->owner_id, 0, f->reserved, id, now_s());
	if (rc != 0)
		return rc;
	char kind[32];
	snprintf(kind, sizeof kind, "job.%s", job_state_name(to));
	for (char *p = kind; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	struct event_detail e;
	event_detail_init(&e);
	event_detail_str(&e, "reason", reason);
	event_detail_int(&e, "released", f->reserved);
	return job_event(d, actor, kind, id, f->owner_id, &e);
}

enum status jobs_reject(struct daemon *d, int64_t id, const char *actor, const char *reason, char *msg,
	size_t msglen)
{
	struct job_facts f;
	enum status st = load_for(d, id, JOB_REJECTED, "reject", &f, msg, msglen);
	if (st != ST_OK)
		return st;
	char why[600];
	snprintf(why, sizeof why, "rejected%s%s", reason && *reason ? ": " : "", reason ? reason : "");
	int rc = close_unstarted(d, id, &f, JOB_REJECTED, actor, why);
	if (rc == DB_CONFLICT)
		return not_allowed(&f, id, "reject", msg, msglen);
	if (rc != 0)
		return ST_INTERNAL;
	log_event(LOG_INFO, "job.rejected", "job=%lld by=%s", (long long)id, actor);
	return ST_OK;
}

enum status jobs_cancel(struct daemon *d, int64_t id, const char *actor, const char *reason, struct job_facts *f,
	char *msg, size_t msglen)
{
	enum status st = load_for(d, id, JOB_CANCELLED, "cancel", f, msg, msglen);
	if (st != ST_OK)
		return st;
	if (f->state == JOB_RUNNING)
		return ST_OK; /* its executor stops it and reports the end (with its charge) */
	int rc = close_unstarted(d, id, f, JOB_CANCELLED, actor, reason);
	if (rc == DB_CONFLICT)
		return not_allowed(f, id, "cancel", msg, msglen);
	if (rc != 0)
		return ST_INTERNAL;
	log_event(LOG_INFO, "job.cancelled", "job=%lld why=\"%s\"", (long long)id, reason);
	return ST_OK;
}

enum status jobs_expire(struct daemon *d, int64_t id, const char *reason, char *msg, size_t msglen)
{
	struct job_facts f;
	enum status st = load_for(d, id, JOB_EXPIRED, "expire", &f, msg, msglen);
	if (st != ST_OK)
		return st;
	int rc = close_unstarted(d, id, &f, JOB_EXPIRED, EVENTS_DAEMON, reason);
	if (rc == DB_CONFLICT)
		return not_allowed(&f, id, "expire", msg, msglen);
	if (rc != 0)
		return ST_INTERNAL;
	log_event(LOG_INFO, "job.expired", "job=%lld", (long long)id);
	return ST_OK;
}

int jobs_mark_running(struct daemon *d, int64_t id, int64_t now, int64_t run_until_ms, const char *devices,
	bool backfilled)
{
	struct job_facts f;
	int rc = jobs_facts(d, id, &f);
	if (rc != 0)
		return rc;
	rc = db_job_start(d->db, id, now, run_until_ms, devices);
	if (rc != 0)
		return rc;
	struct event_detail e;
	event_detail_init(&e);
	event_detail_str(&e, "devices", devices);
	if (backfilled)
		event_detail_str(&e, "reason", "started by backfill");
	return job_event(d, EVENTS_DAEMON, "job.started", id, f.owner_id, &e);
}

/* The owner's remaining quota; a deleted owner keeps its row and is
 * charged all the same. 0 or -1. */
static int remaining_of(struct daemon *d, int64_t owner_id, int64_t *remaining)
{
	struct user_row u;
	int rc = db_user_by_id(d->db, owner_id, &u);
	if (rc < 0)
		return -1;
	*remaining = rc == 0 ? u.quota : INT64_MAX;
	return 0;
}

int jobs_end(struct daemon *d, int64_t id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code)
{
	struct job_facts f;
	int64_t remaining = 0, full = 0;
	int rc = jobs_facts(d, id, &f);
	if (rc != 0)
		return rc;
	if (f.state != JOB_RUNNING || !job_transition_allowed(f.state, to))
		return DB_CONFLICT;
	if (remaining_of(d, f.owner_id, &remaining) < 0)
		return -1;
	int64_t charge = quota_charge(f.gpu_count * f.weight, ran_seconds, remaining);
	char why[400];
	snprintf(why, sizeof why, "%s", reason);
	if (quota_need(f.gpu_count * f.weight, ran_seconds, &full) && charge < full)
		snprintf(why, sizeof why, "%s (charge capped at the remaining quota: %lld of %lld GPU-seconds)", reason,
			(long long)charge, (long long)full);
	rc = db_job_close(d->db, id, "RUNNING", job_state_name(to), why, now_s(), charge, exit_code);
	if (rc == 0)
		rc = db_user_charge(d->db, f.owner_id, charge, f.reserved, id, now_s());
	if (rc != 0)
		return rc;
	struct event_detail e;
	event_detail_init(&e);
	event_detail_str(&e, "reason", why);
	event_detail_int(&e, "charged", charge);
	if (exit_code >= 0)
		event_detail_int(&e, "exit_code", exit_code);
	const char *kind = to == JOB_COMPLETED ? "job.completed" : to == JOB_FAILED ? "job.failed" : "job.cancelled";
	if (job_event(d, EVENTS_DAEMON, kind, id, f.owner_id, &e) < 0)
		return -1;
	log_event(LOG_INFO, "job.ended", "job=%lld status=%s charged=%lld reason=\"%s\"", (long long)id,
		job_state_name(to), (long long)charge, why);
	return 0;
}

struct id_list {
	int64_t *ids;
	size_t n, cap;
};

static int collect_id(void *arg, const struct job_row *row)
{
	struct id_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		int64_t *ids = realloc(l->ids, cap * sizeof *ids);
		if (!ids)
			return -1;
		l->ids = ids;
		l->cap = cap;
	}
	l->ids[l->n++] = row->id;
	return 0;
}

int jobs_live_of_owner(struct daemon *d, int64_t owner_id, int64_t **ids, size_t *n)
{
	struct id_list l = {0};
	if (db_job_live_of_user(d->db, owner_id, collect_id, &l) < 0) {
		free(l.ids);
		return -1;
	}
	*ids = l.ids;
	*n = l.n;
	return 0;
}
