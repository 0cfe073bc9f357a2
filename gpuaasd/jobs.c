/* Job transitions and their quota effects (the quota rules are in
 * docs/PROTOCOL.md: a submit reserves count x time, an end charges
 * count x seconds run and releases the reservation). Each runs inside the
 * caller's transaction and signals the job's key to the parking service. */
#include "gpuaasd/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/log.h"
#include "gpuaasd/state.h"
#include "gpuaasd/db.h"
#include "gpuaasd/park.h"

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

enum status jobs_submit(struct daemon *d, const struct job_request *req, int64_t *id_out, char *msg, size_t msglen)
{
	int64_t need;
	if (!quota_need(req->gpu_count, req->time_limit, &need)) {
		snprintf(msg, msglen, "gpu_count x time_limit overflows");
		return ST_BAD_REQUEST;
	}
	int rc = db_user_reserve(d->db, req->owner_id, need);
	if (rc < 0)
		return ST_INTERNAL;
	if (rc == DB_CONFLICT) {
		struct user_row u;
		if (db_user_by_id(d->db, req->owner_id, &u) != 0)
			return ST_INTERNAL;
		char a[32], b[32];
		snprintf(msg, msglen,
			"quota exceeded: the job reserves %s GPU-time (%lld GPU-seconds) but %s (%lld) is available; "
			"ask an admin for more (gpuctl admin quota %s --add DURATION)",
			duration_format(need, a, sizeof a), (long long)need,
			duration_format(quota_available(u.quota, u.reserved), b, sizeof b),
			(long long)quota_available(u.quota, u.reserved), u.username);
		return ST_QUOTA_EXCEEDED;
	}
	rc = db_job_insert(d->db, req->owner_id, req->name, d->inv.types[req->type_idx].name, req->gpu_count,
		req->time_limit, req->command_json, now_s(), need, id_out);
	if (rc < 0)
		return ST_INTERNAL;
	log_event(LOG_DEBUG, "job.submitted", "job=%lld owner=%lld type=%s count=%lld time=%lld", (long long)*id_out,
		(long long)req->owner_id, d->inv.types[req->type_idx].name, (long long)req->gpu_count,
		(long long)req->time_limit);
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

enum status jobs_approve(struct daemon *d, int64_t id, int64_t by_user, int64_t seq, struct job_facts *f, char *msg,
	size_t msglen)
{
	enum status st = load_for(d, id, JOB_APPROVED, "approve", f, msg, msglen);
	if (st != ST_OK)
		return st;
	if (f->type_idx < 0) {
		snprintf(msg, msglen, "job %lld asks for GPU type %s, which this daemon no longer has", (long long)id,
			f->gpu_type);
		return ST_CONFLICT;
	}
	int rc = db_job_approve(d->db, id, now_s(), by_user, seq, "waiting for free GPUs");
	if (rc < 0)
		return ST_INTERNAL;
	if (rc == DB_CONFLICT)
		return not_allowed(f, id, "approve", msg, msglen);
	park_signal(d->park, PARK_JOB_STATE, id);
	log_event(LOG_INFO, "job.approved", "job=%lld by=%lld", (long long)id, (long long)by_user);
	return ST_OK;
}

/* Ends a job that never ran: no charge, reservation released. */
static int close_unstarted(struct daemon *d, int64_t id, const struct job_facts *f, enum job_state to,
	const char *reason)
{
	int rc = db_job_close(d->db, id, job_state_name(f->state), job_state_name(to), reason, now_s(), 0, -1);
	if (rc != 0)
		return rc;
	rc = db_user_charge(d->db, f->owner_id, 0, f->reserved, id, now_s());
	if (rc != 0)
		return rc;
	park_signal(d->park, PARK_JOB_STATE, id);
	return 0;
}

enum status jobs_reject(struct daemon *d, int64_t id, const char *reason, char *msg, size_t msglen)
{
	struct job_facts f;
	enum status st = load_for(d, id, JOB_REJECTED, "reject", &f, msg, msglen);
	if (st != ST_OK)
		return st;
	char why[600];
	snprintf(why, sizeof why, "rejected%s%s", reason && *reason ? ": " : "", reason ? reason : "");
	int rc = close_unstarted(d, id, &f, JOB_REJECTED, why);
	if (rc == DB_CONFLICT)
		return not_allowed(&f, id, "reject", msg, msglen);
	if (rc != 0)
		return ST_INTERNAL;
	log_event(LOG_INFO, "job.rejected", "job=%lld", (long long)id);
	return ST_OK;
}

enum status jobs_cancel(struct daemon *d, int64_t id, const char *reason, struct job_facts *f, char *msg,
	size_t msglen)
{
	enum status st = load_for(d, id, JOB_CANCELLED, "cancel", f, msg, msglen);
	if (st != ST_OK)
		return st;
	if (f->state == JOB_RUNNING)
		return ST_OK; /* its executor stops it and reports the end (with its charge) */
	int rc = close_unstarted(d, id, f, JOB_CANCELLED, reason);
	if (rc == DB_CONFLICT)
		return not_allowed(f, id, "cancel", msg, msglen);
	if (rc != 0)
		return ST_INTERNAL;
	log_event(LOG_INFO, "job.cancelled", "job=%lld why=\"%s\"", (long long)id, reason);
	return ST_OK;
}

int jobs_mark_running(struct daemon *d, int64_t id, int64_t now, int64_t run_until_ms, const char *devices)
{
	int rc = db_job_start(d->db, id, now, run_until_ms, devices);
	if (rc == 0)
		park_signal(d->park, PARK_JOB_STATE, id);
	return rc;
}

int jobs_end(struct daemon *d, int64_t id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code)
{
	struct job_facts f;
	int rc = jobs_facts(d, id, &f);
	if (rc != 0)
		return rc;
	if (f.state != JOB_RUNNING || !job_transition_allowed(f.state, to))
		return DB_CONFLICT;
	struct user_row u;
	rc = db_user_by_id(d->db, f.owner_id, &u);
	int64_t remaining = 0;
	if (rc == 0)
		remaining = u.quota;
	else if (rc != DB_NOTFOUND)
		return rc;
	/* Deleted owners keep their row: charge it all the same. */
	if (rc == DB_NOTFOUND)
		remaining = INT64_MAX;
	int64_t charge = quota_charge(f.gpu_count, ran_seconds, remaining);
	rc = db_job_close(d->db, id, "RUNNING", job_state_name(to), reason, now_s(), charge, exit_code);
	if (rc != 0)
		return rc;
	rc = db_user_charge(d->db, f.owner_id, charge, f.reserved, id, now_s());
	if (rc != 0)
		return rc;
	log_event(LOG_INFO, "job.ended", "job=%lld status=%s charged=%lld reason=\"%s\"", (long long)id,
		job_state_name(to), (long long)charge, reason);
	park_signal(d->park, PARK_JOB_STATE, id);
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
