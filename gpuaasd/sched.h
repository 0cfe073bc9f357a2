/* The scheduler: GPUs per type, one FIFO queue of approved jobs per type
 * (approval order; a type never blocks another), and the executor. Driven by
 * events (approve, cancel, job end) and timers, never by polling. Its memory
 * mirrors the database; after a failed commit it reloads from it. */
#ifndef GPUAAS_GPUAASD_SCHED_H
#define GPUAAS_GPUAASD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuaasd/jobstate.h"

struct daemon;
struct sched;

/* Creates the scheduler and its executor. 0 or -1 with err. */
int sched_create(struct daemon *d, struct sched **out, char *err, size_t errlen);
/* Recovers queues and running jobs from the database (after a restart). */
int sched_start(struct sched *s);
/* The daemon is stopping: jobs that cannot outlive it end now (their ends
 * go into the batch; commit after). */
void sched_shutdown(struct sched *s);
void sched_destroy(struct sched *s);

/* An approved job joins its type's queue (seq: approval order). */
int sched_enqueue(struct sched *s, int64_t job_id, int type_idx, int count, int64_t seq);
/* A queued job leaves the queue (cancelled before it started). */
void sched_dequeue(struct sched *s, int64_t job_id, int type_idx);
/* Asks the executor to stop a running job; it ends CANCELLED with reason. */
void sched_cancel_running(struct sched *s, int64_t job_id, const char *reason);
/* Starts what fits; writes go into the batch. Called before each commit. */
void sched_pump(struct sched *s);
/* The next approval sequence number. */
int64_t sched_next_seq(struct sched *s);
/* Called by executors when a running job ended. ran_seconds: what is
 * charged per GPU; exit_code < 0: none. */
void sched_job_done(struct sched *s, int64_t job_id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code);
/* SIGCHLD arrived (local executor). */
void sched_on_sigchld(struct sched *s);
/* After a commit: launch what was started (committed) or resync (failed). */
void sched_after_commit(struct daemon *d, bool committed);

/* 1-based queue position of an approved job, 0 when not queued. */
int sched_queue_position(const struct sched *s, int type_idx, int64_t seq);
/* The job holding a type's device slot k, 0 when free. */
int64_t sched_device_holder(const struct sched *s, int type_idx, int k);
/* GPUs of a type in use. */
int sched_busy(const struct sched *s, int type_idx);
/* The executor's name ("sim", "local"). */
const char *sched_executor_name(const struct sched *s);

#endif
