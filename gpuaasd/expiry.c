/* Expiry of PENDING jobs and pruning of old events (see expiry.h). */
#include "gpuaasd/expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/duration.h"
#include "common/log.h"
#include "gpuaasd/batch.h"
#include "gpuaasd/db.h"
#include "gpuaasd/events.h"
#include "gpuaasd/jobs.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/state.h"

/* Jobs expired per unit of work, so one round never holds the loop long. */
#define EXPIRE_BATCH 256
/* The timer wakes at least this often (SIGHUP may shorten the TTL). */
#define EXPIRY_MAX_SLEEP_S 3600

struct expiry {
	struct daemon *d;
	struct timer *timer;
};

struct due {
	int64_t ids[EXPIRE_BATCH];
	int n;
};

static int collect_due(void *arg, const struct job_row *row)
{
	struct due *due = arg;
	due->ids[due->n++] = row->id;
	return 0;
}

struct expire_args {
	struct daemon *d;
	int64_t now;
	int done; /* jobs expired */
	bool more;
};

/* One unit: up to EXPIRE_BATCH jobs past their TTL become EXPIRED. */
static int expire_some(void *arg)
{
	struct expire_args *a = arg;
	struct due due = {.n = 0};
	int64_t ttl = a->d->cfg.pending_ttl;
	if (db_job_pending_before(a->d->db, a->now - ttl, EXPIRE_BATCH, collect_due, &due) < 0)
		return -1;
	char reason[64], t[32], msg[256];
	snprintf(reason, sizeof reason, "not approved within %s", duration_format(ttl, t, sizeof t));
	for (int i = 0; i < due.n; i++) {
		enum status st = jobs_expire(a->d, due.ids[i], reason, msg, sizeof msg);
		if (st == ST_INTERNAL)
			return -1;
		a->done += st == ST_OK;
	}
	a->more = due.n == EXPIRE_BATCH;
	return 0;
}

static int prune_events(void *arg)
{
	struct expire_args *a = arg;
	return events_prune(a->d, a->now);
}

static void on_timer(struct loop *loop, void *data);

/* When to look again: when the oldest pending job is due (with none, a
 * job submitted from now on is due in a TTL at the earliest), at the latest
 * in EXPIRY_MAX_SLEEP_S, and at once when a batch left more to do. */
static void arm(struct expiry *x, int64_t now, bool more)
{
	int64_t ttl = x->d->cfg.pending_ttl, next = now + EXPIRY_MAX_SLEEP_S, oldest = 0;
	if (more)
		next = now;
	else if (ttl > 0 && db_job_oldest_pending(x->d->db, &oldest) == 0)
		next = (oldest > 0 ? oldest : now) + ttl < next ? (oldest > 0 ? oldest : now) + ttl : next;
	if (next < now)
		next = now;
	loop_timer_cancel(x->d->loop, x->timer);
	/* Whole seconds: a job created at second t is due once t + ttl is past. */
	x->timer = loop_timer_at(x->d->loop, loop_now_ms() + (next - now) * 1000 + (more ? 0 : 1000), on_timer, x);
	if (!x->timer)
		log_event(LOG_ERROR, "expiry.timer_failed", "%s", "out of memory");
}

void expiry_kick(struct expiry *x)
{
	struct expire_args a = {.d = x->d, .now = (int64_t)time(NULL)};
	if (x->d->cfg.pending_ttl > 0 && batch_run(x->d->batch, expire_some, &a) < 0)
		log_event(LOG_ERROR, "expiry.failed", "%s", "database error; retried later");
	if (a.done > 0)
		log_event(LOG_INFO, "jobs.expired", "count=%d", a.done);
	if (batch_run(x->d->batch, prune_events, &a) < 0)
		log_event(LOG_ERROR, "events.prune_failed", "%s", "database error; retried later");
	arm(x, a.now, a.more);
}

static void on_timer(struct loop *loop, void *data)
{
	struct expiry *x = data;
	(void)loop;
	x->timer = NULL; /* fired: the loop freed it */
	expiry_kick(x);
}

struct expiry *expiry_create(struct daemon *d)
{
	struct expiry *x = calloc(1, sizeof *x);
	if (x)
		x->d = d;
	return x;
}

void expiry_destroy(struct expiry *x)
{
	if (!x)
		return;
	loop_timer_cancel(x->d->loop, x->timer);
	free(x);
}
