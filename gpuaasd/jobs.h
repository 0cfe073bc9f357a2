/* Job transitions with their quota effects, each inside the caller's
 * transaction: the one place where a job changes state. Returns enum status
 * with a message in msg (msglen bytes). */
#ifndef GPUAAS_GPUAASD_JOBS_H
#define GPUAAS_GPUAASD_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "gpuaasd/jobstate.h"

struct daemon;

struct job_request {
	int64_t owner_id;
	int type_idx;
	int64_t gpu_count;
	int64_t time_limit;
	const char *name;
	const char *command_json; /* NULL: none */
};

/* Reserves count*time and inserts the job (PENDING). */
enum status jobs_submit(struct daemon *d, const struct job_request *req, int64_t *id_out, char *msg, size_t msglen);
/* PENDING -> APPROVED, queued for its type. */
enum status jobs_approve(struct daemon *d, int64_t id, int64_t by_user, char *msg, size_t msglen);
/* PENDING -> REJECTED, reservation released. */
enum status jobs_reject(struct daemon *d, int64_t id, const char *reason, char *msg, size_t msglen);
/* Any non-final -> CANCELLED (a running job is stopped by its executor). */
enum status jobs_cancel(struct daemon *d, int64_t id, const char *by, char *msg, size_t msglen);
/* APPROVED -> RUNNING with its devices and deadline. */
int jobs_mark_running(struct daemon *d, int64_t id, int64_t now, int64_t run_until_ms, const char *devices);
/* RUNNING -> to (COMPLETED/FAILED/CANCELLED), charging count*ran. */
int jobs_end(struct daemon *d, int64_t id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code);
/* Cancels every live job of a user (account deletion). */
int jobs_cancel_all_of_user(struct daemon *d, int64_t owner_id, const char *reason, int64_t *count);

/* Marks a job whose waiters (job.wait) should be answered once the current
 * batch is committed (cmd-job.c). */
void job_waiters_wake(struct daemon *d, int64_t job_id);
/* Answers them after a commit (or forgets the marks after a rollback). */
void job_waiters_flush(struct daemon *d, bool committed);
/* A running job's log grew (or its job ended): answers job.logs requests
 * that follow it (cmd-job.c). */
void job_log_wake(struct daemon *d, int64_t job_id);
/* Ends every parked request with UNAVAILABLE (tests and fuzzers). */
void job_parked_abandon_all(void);
/* Frees the registry's memory at exit. */
void job_waiters_shutdown(void);

#endif
