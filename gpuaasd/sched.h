/* The scheduler: GPUs per type, one FIFO queue of approved jobs per type
 * (approval order; a type never blocks another), and the executor. It owns
 * its queues: handlers approve and cancel through it, and it asks jobs.c to
 * write each transition. Driven by events (approve, cancel, job end) and
 * timers, never by polling. Its memory mirrors the database; after a failed
 * commit it reloads from it. Writes go into the batch transaction. */
#ifndef GPUAAS_GPUAASD_SCHED_H
#define GPUAAS_GPUAASD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "gpuaasd/jobstate.h"

struct daemon;
struct sched;
struct approver;

/* Creates the scheduler and its executor (d->executor). 0 or -1 with err. */
int sched_create(struct daemon *d, struct sched **out, char *err, size_t errlen);
/* Recovers queues and running jobs from the database (after a restart). */
int sched_start(struct sched *s);
/* The daemon is stopping: jobs that cannot outlive it end now (their ends
 * go into the batch; commit after). */
void sched_shutdown(struct sched *s);
/* Frees the scheduler and its executor. NULL is a no-op. */
void sched_destroy(struct sched *s);

/* PENDING -> APPROVED: the job joins its type's queue. A status with a
 * message in msg. */
enum status sched_approve(struct sched *s, int64_t id, const struct approver *by, char *msg, size_t msglen);
/* Cancels a live job on behalf of actor, with reason: a queued one leaves
 * its queue, a running one is stopped by its executor (it ends CANCELLED
 * when it is gone, charged what it ran). */
enum status sched_cancel(struct sched *s, int64_t id, const char *actor, const char *reason, char *msg,
	size_t msglen);
/* Cancels every live job of a user (account deletion); *count: how many.
 * 0 or -1 on a database error. */
int sched_cancel_owner(struct sched *s, int64_t owner_id, const char *actor, const char *reason, int64_t *count);

/* Starts what fits; writes go into the batch. Called before each commit. */
void sched_pump(struct sched *s);
/* After a commit: launch what was started (committed) or resync (failed). */
void sched_after_commit(struct sched *s, bool committed);
/* SIGCHLD arrived (executors that run processes). */
void sched_on_sigchld(struct sched *s);

/* 1-based queue position of an approved job, 0 when not queued. */
int sched_queue_position(const struct sched *s, int type_idx, int64_t seq);
/* Estimated start (wall-clock ms) of the approved job with this approval
 * seq: an upper bound, assuming every job runs its whole time limit.
 * ESTIMATE_NEVER (estimate.h) when unknown or not queued. */
int64_t sched_estimate_queued(struct sched *s, int type_idx, int64_t seq);
/* The same for a job of count GPUs approved now (it joins the end of its
 * type's queue): what a PENDING job or a dry run can expect. */
int64_t sched_estimate_new(struct sched *s, int type_idx, int count);
/* The job holding a type's device slot k, 0 when free. */
int64_t sched_device_holder(const struct sched *s, int type_idx, int k);
/* The owner of the job holding a type's device slot k, 0 when free. */
int64_t sched_device_owner(const struct sched *s, int type_idx, int k);
/* The reason a running job is being cancelled (its executor is stopping
 * it), or NULL when it is not. */
const char *sched_cancelling(const struct sched *s, int64_t job_id);
/* Approved jobs of a type waiting in its queue. */
int sched_queue_depth(const struct sched *s, int type_idx);
/* GPUs of a type in use. */
int sched_busy(const struct sched *s, int type_idx);

#endif
