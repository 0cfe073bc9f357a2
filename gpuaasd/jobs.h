/* Job transitions with their quota effects, each inside the caller's
 * transaction: the one place where a job's row changes state. It writes the
 * database and signals the parking service; it knows nothing of the
 * scheduler's queues (the scheduler calls it and keeps its memory in step).
 * Statuses come with a message in msg (msglen bytes). */
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

/* What a transition knows of a job before it moves. */
struct job_facts {
	enum job_state state;
	int64_t owner_id;
	int64_t gpu_count;
	int64_t time_limit;
	int64_t reserved;
	int64_t started_at;
	int64_t approve_seq;
	int type_idx; /* -1: the type is no longer in the inventory */
	char gpu_type[24];
};

/* Reads a job's facts: 0, DB_NOTFOUND or -1. */
int jobs_facts(struct daemon *d, int64_t id, struct job_facts *f);
/* Reserves count*time and inserts the job (PENDING). */
enum status jobs_submit(struct daemon *d, const struct job_request *req, int64_t *id_out, char *msg, size_t msglen);
/* PENDING -> APPROVED with approval sequence seq; *f: the job as it was. */
enum status jobs_approve(struct daemon *d, int64_t id, int64_t by_user, int64_t seq, struct job_facts *f, char *msg,
	size_t msglen);
/* PENDING -> REJECTED, reservation released. */
enum status jobs_reject(struct daemon *d, int64_t id, const char *reason, char *msg, size_t msglen);
/* PENDING or APPROVED -> CANCELLED with reason, reservation released. A
 * RUNNING job is left as it is (ST_OK with f->state RUNNING): only its
 * executor can end it. *f: the job as it was. */
enum status jobs_cancel(struct daemon *d, int64_t id, const char *reason, struct job_facts *f, char *msg,
	size_t msglen);
/* APPROVED -> RUNNING with its devices and deadline (DB_CONFLICT when it is
 * no longer APPROVED). */
int jobs_mark_running(struct daemon *d, int64_t id, int64_t now, int64_t run_until_ms, const char *devices);
/* RUNNING -> to (COMPLETED/FAILED/CANCELLED), charging count*ran. */
int jobs_end(struct daemon *d, int64_t id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code);
/* The ids of every live job of a user, oldest first (malloc'd; *n may be
 * 0 with *ids NULL). 0 or -1. */
int jobs_live_of_owner(struct daemon *d, int64_t owner_id, int64_t **ids, size_t *n);

#endif
