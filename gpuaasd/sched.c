/* The scheduler (see sched.h): it owns the queues of approved jobs and the
 * device map, asks jobs.c to write each transition, and drives the
 * executor. Nothing below it calls into it except the executor's job_done
 * callback, handed over at creation. */
#include "gpuaasd/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "gpuaasd/backfill.h"
#include "gpuaasd/batch.h"
#include "gpuaasd/state.h"
#include "gpuaasd/db.h"
#include "gpuaasd/estimate.h"
#include "gpuaasd/events.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/jobqueue.h"
#include "gpuaasd/jobs.h"

struct type_state {
	int total;
	int busy;
	unsigned char *used; /* per device: 1 when held */
	int64_t *holder;     /* per device: the job holding it, 0 when free */
	struct job_queue queue; /* approved jobs waiting, in approval order */
	bool dirty;             /* something changed: try to start its head */
	/* Estimated starts (estimate.c), recomputed on the first read after a
	 * change of the queue or the devices: est[i] for the i-th waiting job,
	 * est_after the state after the whole queue (for "if approved now"). */
	int64_t *est;
	size_t est_cap;
	int64_t *est_heap; /* total entries */
	struct estimate_state est_after;
	bool est_valid;
};

struct running {
	struct running *next;
	int64_t job_id;
	int64_t owner_id;
	int type_idx;
	int count;
	int *devices;
	int64_t time_limit;
	int64_t started_ms;
	int64_t run_until_ms;
	char *command; /* JSON text or NULL */
	char *workdir; /* or NULL */
	char *env;     /* JSON text or NULL */
	int64_t sim_run;
	char owner[USERNAME_MAX + 1];
	bool launched;
	char cancel_reason[128];
};

/* A job end not yet committed: applied again if its commit fails. */
struct ended {
	struct ended *next;
	int64_t job_id;
	enum job_state to;
	char reason[256];
	int64_t ran;
	int exit_code;
	bool applied; /* written into the current batch */
};

struct sched {
	struct daemon *d;
	const struct executor *ex;
	void *ex_state;
	struct type_state types[INVENTORY_MAX_TYPES];
	int ntypes;
	struct running *running;
	struct ended *ended;
	int64_t seq;
};

/* The queue or the devices of a type changed: try its head, and its
 * estimates are stale. */
static void type_changed(struct type_state *t)
{
	t->dirty = true;
	t->est_valid = false;
}

static void type_free(struct type_state *t)
{
	free(t->used);
	free(t->holder);
	free(t->est);
	free(t->est_heap);
	jobqueue_finish(&t->queue);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void job_done(struct sched *s, int64_t job_id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code);
static void job_done_cb(void *owner, int64_t job_id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code)
{
	job_done(owner, job_id, to, reason, ran_seconds, exit_code);
}

int sched_create(struct daemon *d, struct sched **out, char *err, size_t errlen)
{
	struct sched *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->d = d;
	s->ntypes = d->inv.ntypes;
	for (int i = 0; i < s->ntypes; i++) {
		s->types[i].total = d->inv.types[i].total;
		s->types[i].used = calloc((size_t)s->types[i].total, 1);
		s->types[i].holder = calloc((size_t)s->types[i].total, sizeof *s->types[i].holder);
		s->types[i].est_heap = calloc((size_t)s->types[i].total, sizeof *s->types[i].est_heap);
		if (!s->types[i].used || !s->types[i].holder || !s->types[i].est_heap) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	s->ex = d->executor;
	struct exec_host host = {.d = d, .job_done = job_done_cb, .owner = s};
	s->ex_state = s->ex->create(&host);
	if (!s->ex_state) {
		snprintf(err, errlen, "executor '%s' could not start", s->ex->name);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	for (int i = 0; i < s->ntypes; i++)
		type_free(&s->types[i]);
	free(s);
	return -1;
}

static void running_free(struct running *r)
{
	if (!r)
		return;
	free(r->devices);
	free(r->command);
	free(r->workdir);
	free(r->env);
	free(r);
}

void sched_shutdown(struct sched *s)
{
	if (s && s->ex->stop_all)
		s->ex->stop_all(s->ex_state);
}

void sched_destroy(struct sched *s)
{
	if (!s)
		return;
	if (s->ex_state)
		s->ex->destroy(s->ex_state);
	while (s->running) {
		struct running *r = s->running;
		s->running = r->next;
		running_free(r);
	}
	while (s->ended) {
		struct ended *e = s->ended;
		s->ended = e->next;
		free(e);
	}
	for (int i = 0; i < s->ntypes; i++)
		type_free(&s->types[i]);
	free(s);
}

const char *sched_cancelling(const struct sched *s, int64_t job_id)
{
	for (const struct running *r = s->running; r; r = r->next)
		if (r->job_id == job_id)
			return r->cancel_reason[0] ? r->cancel_reason : NULL;
	return NULL;
}

int sched_queue_depth(const struct sched *s, int type_idx)
{
	return type_idx >= 0 && type_idx < s->ntypes ? (int)jobqueue_length(&s->types[type_idx].queue) : 0;
}

int sched_busy(const struct sched *s, int type_idx)
{
	return type_idx >= 0 && type_idx < s->ntypes ? s->types[type_idx].busy : 0;
}

/* ---- queues ------------------------------------------------------------- */

static int queue_insert(struct sched *s, int64_t job_id, int type_idx, int count, int64_t time_limit, int64_t seq)
{
	if (type_idx < 0 || type_idx >= s->ntypes)
		return -1;
	if (jobqueue_insert(&s->types[type_idx].queue, job_id, seq, count, time_limit) < 0)
		return -1;
	type_changed(&s->types[type_idx]);
	return 0;
}

/* Takes a job out of its type's queue (cancelled before it started). */
static void queue_remove(struct sched *s, int64_t job_id, int type_idx, int64_t seq)
{
	if (type_idx < 0 || type_idx >= s->ntypes)
		return;
	if (jobqueue_remove(&s->types[type_idx].queue, job_id, seq))
		type_changed(&s->types[type_idx]); /* the head may have changed */
}

int64_t sched_device_holder(const struct sched *s, int type_idx, int k)
{
	if (type_idx < 0 || type_idx >= s->ntypes || k < 0 || k >= s->types[type_idx].total)
		return 0;
	return s->types[type_idx].holder[k];
}

int64_t sched_device_owner(const struct sched *s, int type_idx, int k)
{
	int64_t job = sched_device_holder(s, type_idx, k);
	for (const struct running *r = s->running; job && r; r = r->next)
		if (r->job_id == job)
			return r->owner_id;
	return 0;
}

int sched_queue_position(const struct sched *s, int type_idx, int64_t seq)
{
	if (type_idx < 0 || type_idx >= s->ntypes)
		return 0;
	return jobqueue_position(&s->types[type_idx].queue, seq);
}

/* ---- estimated starts ------------------------------------------------------ */

/* When each device of t frees up: now, or when its job's time limit ends.
 * A held device is never free now, even when its job is past its end and
 * its end is not yet processed (a timer due in this same loop round). */
static void device_free_times(const struct sched *s, const struct type_state *t, int64_t now, int64_t *free_at)
{
	for (int k = 0; k < t->total; k++) {
		free_at[k] = now;
		if (!t->holder[k])
			continue;
		free_at[k] = now + 1;
		for (const struct running *r = s->running; r; r = r->next)
			if (r->job_id == t->holder[k] && r->run_until_ms > now)
				free_at[k] = r->run_until_ms;
	}
}

/* Recomputes t's estimates when something changed since the last time:
 * O(waiting jobs x log devices). -1 on ENOMEM. */
static int refresh_estimates(struct sched *s, struct type_state *t)
{
	if (t->est_valid)
		return 0;
	size_t n = jobqueue_length(&t->queue);
	if (n > t->est_cap) {
		int64_t *est = realloc(t->est, n * sizeof *est);
		if (!est)
			return -1;
		t->est = est;
		t->est_cap = n;
	}
	double scale = s->ex->time_scale(&s->d->cfg);
	device_free_times(s, t, wall_ms(), t->est_heap);
	estimate_begin(&t->est_after, t->est_heap, t->total, wall_ms());
	for (size_t i = 0; i < n; i++) {
		const struct queued *q = jobqueue_at(&t->queue, i);
		t->est[i] = estimate_add(&t->est_after, q->count, (int64_t)((double)q->time_limit * 1000.0 * scale));
	}
	t->est_valid = true;
	return 0;
}

/* A start is never in the past: a device thought free "now" is free now. */
static int64_t not_before_now(int64_t at)
{
	int64_t now = wall_ms();
	return at != ESTIMATE_NEVER && at < now ? now : at;
}

int64_t sched_estimate_queued(struct sched *s, int type_idx, int64_t seq)
{
	if (type_idx < 0 || type_idx >= s->ntypes)
		return ESTIMATE_NEVER;
	struct type_state *t = &s->types[type_idx];
	int pos = jobqueue_position(&t->queue, seq);
	if (pos <= 0 || refresh_estimates(s, t) < 0)
		return ESTIMATE_NEVER;
	return not_before_now(t->est[pos - 1]);
}

int64_t sched_estimate_new(struct sched *s, int type_idx, int count)
{
	if (type_idx < 0 || type_idx >= s->ntypes)
		return ESTIMATE_NEVER;
	struct type_state *t = &s->types[type_idx];
	if (refresh_estimates(s, t) < 0)
		return ESTIMATE_NEVER;
	return not_before_now(estimate_peek(&t->est_after, count));
}

/* ---- starting ------------------------------------------------------------ */

static struct running *find_running(struct sched *s, int64_t job_id, struct running ***link)
{
	for (struct running **pp = &s->running; *pp; pp = &(*pp)->next) {
		if ((*pp)->job_id == job_id) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

static void release_devices(struct sched *s, struct running *r)
{
	if (r->type_idx < 0)
		return;
	struct type_state *t = &s->types[r->type_idx];
	/* Only devices it really holds (after a restart with a smaller
	 * inventory some may be gone). */
	for (int i = 0; i < r->count; i++) {
		if (r->devices[i] >= 0 && r->devices[i] < t->total && t->holder[r->devices[i]] == r->job_id) {
			t->used[r->devices[i]] = 0;
			t->holder[r->devices[i]] = 0;
			t->busy--;
		}
	}
	type_changed(t);
}

static void format_devices(const int *devs, int n, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%d", i ? "," : "", devs[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

struct start_args {
	struct daemon *d;
	struct running *r;
	const char *devices;
	int64_t now;
	bool backfilled;
};

static int start_in_db(void *arg)
{
	struct start_args *a = arg;
	return jobs_mark_running(a->d, a->r->job_id, a->now, a->r->run_until_ms, a->devices, a->backfilled);
}

struct job_copy {
	int64_t owner_id;
	int64_t time_limit;
	char *command, *workdir, *env;
	int64_t sim_run;
	char owner[USERNAME_MAX + 1];
};

/* A copy of s, or NULL for NULL; false when the copy failed. */
static bool copy_text(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return !s || *out;
}

static int copy_job(void *arg, const struct job_row *row)
{
	struct job_copy *c = arg;
	c->owner_id = row->owner_id;
	c->time_limit = row->time_limit;
	c->sim_run = row->sim_run;
	snprintf(c->owner, sizeof c->owner, "%s", row->owner);
	bool ok = copy_text(row->command, &c->command);
	ok = copy_text(row->workdir, &c->workdir) && ok; /* all three are tried: each is freed later */
	ok = copy_text(row->env, &c->env) && ok;
	return ok ? 0 : -1;
}

/* A running-job record for queued job q of a type, its devices the lowest
 * free ones. NULL with *gone set when the job no longer exists; NULL alone
 * on a database or memory error. */
static struct running *running_for(struct sched *s, int type_idx, const struct queued *q, bool *gone)
{
	struct type_state *t = &s->types[type_idx];
	struct job_copy jc = {0};
	int rc = db_job_get(s->d->db, q->job_id, copy_job, &jc);
	*gone = rc == DB_NOTFOUND;
	struct running *r = rc == 0 ? calloc(1, sizeof *r) : NULL;
	int *devs = r ? calloc((size_t)q->count, sizeof *devs) : NULL;
	if (!devs) {
		free(r);
		free(jc.command);
		free(jc.workdir);
		free(jc.env);
		return NULL;
	}
	int k = 0;
	for (int i = 0; i < t->total && k < q->count; i++)
		if (!t->used[i])
			devs[k++] = i;
	if (k < q->count) {
		/* Never two jobs on one device: the caller's count was wrong. */
		log_event(LOG_ERROR, "sched.not_enough_devices", "job=%lld need=%d free=%d", (long long)q->job_id,
			q->count, k);
		free(devs);
		free(r);
		free(jc.command);
		free(jc.workdir);
		free(jc.env);
		return NULL;
	}
	*r = (struct running){.job_id = q->job_id, .owner_id = jc.owner_id, .type_idx = type_idx,
		.count = q->count, .devices = devs, .time_limit = jc.time_limit, .command = jc.command,
		.workdir = jc.workdir, .env = jc.env, .sim_run = jc.sim_run, .started_ms = wall_ms()};
	/* sim: the job's whole (scaled) run; others: its deadline. */
	double scale = s->ex->time_scale(&s->d->cfg);
	r->run_until_ms = r->started_ms + (int64_t)((double)jc.time_limit * 1000.0 * scale);
	snprintf(r->owner, sizeof r->owner, "%s", jc.owner);
	return r;
}

static void hold_devices(struct sched *s, struct running *r)
{
	struct type_state *t = &s->types[r->type_idx];
	for (int i = 0; i < r->count; i++) {
		t->used[r->devices[i]] = 1;
		t->holder[r->devices[i]] = r->job_id;
	}
	t->busy += r->count;
	t->est_valid = false;
	r->next = s->running;
	s->running = r;
}

/* What a start did to the queue. */
enum start_result {
	START_DONE,    /* started: it left the queue */
	START_SKIPPED, /* gone or no longer APPROVED: it left the queue */
	START_LATER,   /* a database or memory error: it stays, tried again later */
};

/* Starts queued job q of a type on the lowest free devices (the caller
 * checked they suffice). */
static enum start_result start_entry(struct sched *s, int type_idx, struct queued q, bool backfilled)
{
	struct type_state *t = &s->types[type_idx];
	bool gone = false;
	struct running *r = running_for(s, type_idx, &q, &gone);
	if (!r || !r->devices) {
		if (gone && jobqueue_remove(&t->queue, q.job_id, q.seq))
			return START_SKIPPED;
		log_event(LOG_ERROR, "sched.start_failed", "job=%lld", (long long)q.job_id);
		return START_LATER;
	}
	char devices[512];
	format_devices(r->devices, r->count, devices, sizeof devices);
	struct start_args a = {s->d, r, devices, r->started_ms / 1000, backfilled};
	int rc = batch_run(s->d->batch, start_in_db, &a);
	if (rc != 0) {
		running_free(r);
		if (rc == DB_CONFLICT && jobqueue_remove(&t->queue, q.job_id, q.seq))
			return START_SKIPPED; /* no longer APPROVED (cancelled meanwhile) */
		log_event(LOG_ERROR, "sched.start_failed", "job=%lld", (long long)q.job_id);
		return START_LATER;
	}
	jobqueue_remove(&t->queue, q.job_id, q.seq);
	hold_devices(s, r);
	log_event(LOG_DEBUG, "job.started", "job=%lld type=%s devices=%s%s", (long long)r->job_id,
		s->d->inv.types[type_idx].name, devices, backfilled ? " backfill=1" : "");
	if (s->ex->zero_time_inline && r->run_until_ms <= r->started_ms) {
		/* It takes no wall time at all: it completes in this same round
		 * (both transitions commit together, or neither does). */
		r->launched = true;
		job_done(s, r->job_id, JOB_COMPLETED, "completed", r->sim_run > 0 && r->sim_run < r->time_limit ?
			r->sim_run : r->time_limit, -1);
	}
	return START_DONE;
}

/* Starts the head of t's queue if it fits. Returns true when the queue
 * moved on (started, or the head was skipped). */
static bool start_head(struct sched *s, int type_idx)
{
	struct type_state *t = &s->types[type_idx];
	const struct queued *head = jobqueue_head(&t->queue);
	if (head->count > t->total - t->busy)
		return false;
	return start_entry(s, type_idx, *head, false) != START_LATER;
}

/* The head waits for GPUs: start the jobs behind it that can run now
 * without delaying anyone ahead (backfill.c). */
static void backfill(struct sched *s, int type_idx)
{
	struct type_state *t = &s->types[type_idx];
	size_t n = jobqueue_length(&t->queue);
	if (n < 2 || t->busy >= t->total)
		return;
	if (n > BACKFILL_DEPTH)
		n = BACKFILL_DEPTH;
	struct bf_job jobs[BACKFILL_DEPTH];
	struct queued picked[BACKFILL_DEPTH];
	bool chosen[BACKFILL_DEPTH];
	double scale = s->ex->time_scale(&s->d->cfg);
	int64_t now = wall_ms();
	for (size_t i = 0; i < n; i++) {
		const struct queued *q = jobqueue_at(&t->queue, i);
		jobs[i] = (struct bf_job){q->count, (int64_t)((double)q->time_limit * 1000.0 * scale)};
		picked[i] = *q;
	}
	device_free_times(s, t, now, t->est_heap);
	if (backfill_choose(t->est_heap, t->total, now, jobs, (int)n, chosen) == 0)
		return;
	t->est_valid = false; /* est_heap was used as scratch */
	for (size_t i = 0; i < n; i++)
		if (chosen[i] && start_entry(s, type_idx, picked[i], true) == START_LATER)
			return;
}

struct end_args {
	struct daemon *d;
	const struct ended *e;
};

static int end_in_db(void *arg)
{
	const struct end_args *a = arg;
	const struct ended *e = a->e;
	int rc = jobs_end(a->d, e->job_id, e->to, e->reason, e->ran, e->exit_code);
	return rc == DB_CONFLICT || rc == DB_NOTFOUND ? 0 : rc;
}

/* Writes a job end into the batch; marks it applied when it went in. */
static void apply_end(struct sched *s, struct ended *e)
{
	struct end_args a = {s->d, e};
	if (batch_run(s->d->batch, end_in_db, &a) == 0)
		e->applied = true;
}

void sched_pump(struct sched *s)
{
	/* Ends whose commit failed are written again first. */
	for (struct ended *e = s->ended; e; e = e->next)
		if (!e->applied)
			apply_end(s, e);
	for (int i = 0; i < s->ntypes; i++) {
		struct type_state *t = &s->types[i];
		if (!t->dirty)
			continue;
		t->dirty = false;
		/* Bounded per round so one pump cannot hold the loop for long; what
		 * is left waits for the next round (the type stays dirty). */
		int budget = 4096;
		while (jobqueue_length(&t->queue) > 0 && budget-- > 0 && start_head(s, i))
			;
		if (budget < 0)
			t->dirty = true;
		else if (s->d->cfg.backfill)
			backfill(s, i);
	}
}

static void launch(struct sched *s, struct running *r)
{
	r->launched = true;
	struct exec_spec spec = {
		.job_id = r->job_id,
		.owner_id = r->owner_id,
		.owner_name = r->owner,
		.gpu_type = s->d->inv.types[r->type_idx].name,
		.gpu_count = r->count,
		.devices = r->devices,
		.time_limit = r->time_limit,
		.started_at_ms = r->started_ms,
		.run_until_ms = r->run_until_ms,
		.command_json = r->command,
		.workdir = r->workdir,
		.env_json = r->env,
		.sim_run_seconds = r->sim_run,
	};
	if (s->ex->launch(s->ex_state, &spec) < 0)
		job_done(s, r->job_id, JOB_FAILED, "executor could not start the job", 0, -1);
}

/* Calls fn on every running job not launched yet. fn must launch the job
 * or end it, and may end others: the list is walked through snapshots of
 * ids, never through pointers fn could free. */
static void each_unlaunched(struct sched *s, void (*fn)(struct sched *s, struct running *r, void *arg), void *arg)
{
	int64_t ids[256];
	for (;;) {
		int n = 0;
		for (struct running *r = s->running; r && n < 256; r = r->next)
			if (!r->launched)
				ids[n++] = r->job_id;
		if (n == 0)
			return;
		for (int i = 0; i < n; i++) {
			struct running *r = find_running(s, ids[i], NULL);
			if (r && !r->launched)
				fn(s, r, arg);
		}
	}
}

static void launch_cb(struct sched *s, struct running *r, void *arg)
{
	(void)arg;
	launch(s, r);
}

/* Reloads the queues from the database (after a failed commit). */
static int queue_reload_cb(void *arg, const struct job_row *row)
{
	struct sched *s = arg;
	int idx = inventory_find(&s->d->inv, row->gpu_type);
	if (idx >= 0 && !find_running(s, row->id, NULL))
		queue_insert(s, row->id, idx, (int)row->gpu_count, row->time_limit, row->approve_seq);
	return 0;
}

void sched_after_commit(struct sched *s, bool committed)
{
	if (!s)
		return;
	if (committed) {
		while (s->ended && s->ended->applied) {
			struct ended *e = s->ended;
			s->ended = e->next;
			free(e);
		}
		/* Launch only what is durably RUNNING. */
		each_unlaunched(s, launch_cb, NULL);
		return;
	}
	/* Rolled back: starts not launched never happened, ends must be written
	 * again, and the queues are whatever the database says. */
	for (struct running **pp = &s->running; *pp;) {
		struct running *r = *pp;
		if (!r->launched) {
			*pp = r->next;
			release_devices(s, r);
			running_free(r);
		} else {
			pp = &r->next;
		}
	}
	for (struct ended *e = s->ended; e; e = e->next)
		e->applied = false;
	for (int i = 0; i < s->ntypes; i++) {
		jobqueue_clear(&s->types[i].queue);
		type_changed(&s->types[i]);
	}
	if (db_job_queue(s->d->db, queue_reload_cb, s) < 0)
		log_event(LOG_ERROR, "sched.resync_failed", "%s", "");
}

static void job_done(struct sched *s, int64_t job_id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code)
{
	struct running **link = NULL;
	struct running *r = find_running(s, job_id, &link);
	if (!r)
		return;
	*link = r->next;
	struct ended *e = calloc(1, sizeof *e);
	if (e) {
		e->job_id = job_id;
		e->to = r->cancel_reason[0] ? JOB_CANCELLED : to;
		snprintf(e->reason, sizeof e->reason, "%s", r->cancel_reason[0] ? r->cancel_reason : reason);
		e->ran = ran_seconds;
		e->exit_code = exit_code;
		/* Keep the list in order of ending. */
		struct ended **pp = &s->ended;
		while (*pp)
			pp = &(*pp)->next;
		*pp = e;
		apply_end(s, e);
	} else {
		log_event(LOG_ERROR, "sched.oom", "job=%lld", (long long)job_id);
	}
	release_devices(s, r);
	running_free(r);
}

/* Asks the executor to stop a running job; it ends CANCELLED with reason. */
static void cancel_running(struct sched *s, int64_t job_id, const char *reason)
{
	struct running *r = find_running(s, job_id, NULL);
	if (!r)
		return;
	if (!r->cancel_reason[0])
		snprintf(r->cancel_reason, sizeof r->cancel_reason, "%s", reason);
	if (r->launched)
		s->ex->cancel(s->ex_state, job_id);
	else /* its start is not committed yet: it ends now, charging nothing */
		job_done(s, job_id, JOB_CANCELLED, reason, 0, -1);
}

enum status sched_approve(struct sched *s, int64_t id, const struct approver *by, char *msg, size_t msglen)
{
	struct job_facts f;
	enum status st = jobs_approve(s->d, id, by, s->seq + 1, &f, msg, msglen);
	if (st != ST_OK)
		return st;
	s->seq++;
	if (queue_insert(s, id, f.type_idx, (int)f.gpu_count, f.time_limit, s->seq) < 0) {
		snprintf(msg, msglen, "out of memory");
		return ST_INTERNAL;
	}
	return ST_OK;
}

enum status sched_cancel(struct sched *s, int64_t id, const char *actor, const char *reason, char *msg,
	size_t msglen)
{
	struct job_facts f;
	enum status st = jobs_cancel(s->d, id, actor, reason, &f, msg, msglen);
	if (st != ST_OK)
		return st;
	if (f.state == JOB_RUNNING) {
		cancel_running(s, id, reason);
		log_event(LOG_INFO, "job.cancel_requested", "job=%lld by=%s", (long long)id, actor);
	} else if (f.state == JOB_APPROVED) {
		queue_remove(s, id, f.type_idx, f.approve_seq);
	}
	return ST_OK;
}

int sched_cancel_owner(struct sched *s, int64_t owner_id, const char *actor, const char *reason, int64_t *count)
{
	/* The whole set first: cancelling changes what a query would return,
	 * and a running job stays live until its executor has ended it. */
	int64_t *ids = NULL;
	size_t n = 0;
	*count = 0;
	if (jobs_live_of_owner(s->d, owner_id, &ids, &n) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char msg[256];
		enum status st = sched_cancel(s, ids[i], actor, reason, msg, sizeof msg);
		if (st == ST_INTERNAL) {
			rc = -1;
			break;
		}
		*count += st == ST_OK;
	}
	free(ids);
	return rc;
}

void sched_on_sigchld(struct sched *s)
{
	if (s && s->ex->on_sigchld)
		s->ex->on_sigchld(s->ex_state);
}

/* ---- recovery after a restart ------------------------------------------ */

static int parse_devices(const char *text, int *out, int n, int total)
{
	const char *p = text ? text : "";
	for (int i = 0; i < n; i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v >= total)
			return -1;
		out[i] = (int)v;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static int recover_running(void *arg, const struct job_row *row)
{
	struct sched *s = arg;
	int idx = inventory_find(&s->d->inv, row->gpu_type);
	struct running *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->job_id = row->id;
	r->owner_id = row->owner_id;
	r->sim_run = row->sim_run;
	snprintf(r->owner, sizeof r->owner, "%s", row->owner);
	r->type_idx = idx;
	r->count = (int)row->gpu_count;
	r->time_limit = row->time_limit;
	r->started_ms = row->started_at * 1000;
	r->run_until_ms = row->run_until_ms;
	bool copied = copy_text(row->command, &r->command);
	copied = copy_text(row->workdir, &r->workdir) && copied;
	copied = copy_text(row->env, &r->env) && copied;
	r->devices = calloc((size_t)r->count, sizeof *r->devices);
	if (!r->devices || !copied) {
		running_free(r);
		return -1;
	}
	if (idx < 0 || parse_devices(row->devices, r->devices, r->count, s->types[idx].total) < 0) {
		for (int i = 0; i < r->count; i++)
			r->devices[i] = -1;
	}
	r->next = s->running;
	s->running = r;
	if (idx >= 0) {
		for (int i = 0; i < r->count; i++) {
			int k = r->devices[i];
			if (k >= 0 && !s->types[idx].used[k]) {
				s->types[idx].used[k] = 1;
				s->types[idx].holder[k] = r->job_id;
				s->types[idx].busy++;
			}
		}
	}
	return 0;
}

struct unfit {
	struct sched *s;
	int64_t ids[256];
	char why[256][96];
	int n;
};

/* Approved jobs that this inventory can never run (type gone, or more GPUs
 * than there are now): found at start, after a restart with a new --gpus. */
static int find_unfit(void *arg, const struct job_row *row)
{
	struct unfit *u = arg;
	int idx = inventory_find(&u->s->d->inv, row->gpu_type);
	if (idx >= 0 && row->gpu_count <= u->s->types[idx].total)
		return 0;
	if (u->n == 256)
		return 1;
	snprintf(u->why[u->n], sizeof u->why[u->n], "gpuaasd: the job needs %lld %s, the inventory has %d",
		(long long)row->gpu_count, row->gpu_type, idx >= 0 ? u->s->types[idx].total : 0);
	u->ids[u->n++] = row->id;
	return 0;
}

struct cancel_args {
	struct daemon *d;
	int64_t id;
	const char *why;
};

static int cancel_unfit(void *arg)
{
	struct cancel_args *a = arg;
	char msg[256], reason[160];
	struct job_facts f;
	snprintf(reason, sizeof reason, "cancelled by %s", a->why);
	return jobs_cancel(a->d, a->id, EVENTS_DAEMON, reason, &f, msg, sizeof msg) == ST_OK ? 0 : -1;
}

/* A job RUNNING in the database at start: resumed when its executor's jobs
 * outlive the daemon, else failed and charged what it ran until the old
 * daemon went away (its process went with it). */
static void recover_cb(struct sched *s, struct running *r, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	if (r->type_idx >= 0 && s->ex->resumable) {
		log_event(LOG_INFO, "job.resumed", "job=%lld", (long long)r->job_id);
		launch(s, r);
		return;
	}
	int64_t ran = (now - r->started_ms + 999) / 1000;
	r->launched = true;
	job_done(s, r->job_id, JOB_FAILED,
		r->type_idx < 0 ? "lost: GPU type no longer in the inventory" : "lost: daemon restarted",
		ran < 0 ? 0 : ran, -1);
}

int sched_start(struct sched *s)
{
	if (db_job_max_seq(s->d->db, &s->seq) < 0)
		return -1;
	struct unfit *u = calloc(1, sizeof *u);
	if (!u)
		return -1;
	u->s = s;
	if (db_job_queue(s->d->db, find_unfit, u) < 0) {
		free(u);
		return -1;
	}
	for (int i = 0; i < u->n; i++) {
		struct cancel_args a = {s->d, u->ids[i], u->why[i]};
		if (batch_run(s->d->batch, cancel_unfit, &a) == 0)
			log_event(LOG_WARN, "job.cancelled", "job=%lld why=\"%s\"", (long long)u->ids[i], u->why[i]);
	}
	free(u);
	if (db_job_queue(s->d->db, queue_reload_cb, s) < 0)
		return -1;
	if (db_job_running(s->d->db, recover_running, s) < 0)
		return -1;
	int64_t now = wall_ms();
	each_unlaunched(s, recover_cb, &now);
	for (int i = 0; i < s->ntypes; i++)
		type_changed(&s->types[i]);
	return 0;
}
