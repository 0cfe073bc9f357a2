/* Job transitions with their quota effects and their events, each inside
 * the caller's transaction: the one place where a job's row changes state.
 * It writes the database, appends to the event log and signals the parking
 * service; it knows nothing of the scheduler's queues (the scheduler calls
 * it and keeps its memory in step). Statuses come with a message in msg
 * (msglen bytes). */
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
	const char *actor; /* who submits (the owner's name) */
	int type_idx;
	int64_t gpu_count;
	int64_t time_limit;
	const char *name;
	const char *command_json; /* NULL: none */
	const char *workdir;      /* NULL: the executor's choice */
	const char *env_json;     /* NULL: none */
	int64_t sim_run;          /* sim: seconds it really runs; 0: its limit */
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
	int64_t weight;
	int type_idx; /* -1: the type is no longer in the inventory */
	char gpu_type[24];
};

/* Who approves: a person (user_id) or a rule (rule_id), named actor. */
struct approver {
	int64_t user_id;
	int64_t rule_id;
	const char *actor; /* a username, or "rule:N" */
};

/* Reads a job's facts: 0, DB_NOTFOUND or -1. */
int jobs_facts(struct daemon *d, int64_t id, struct job_facts *f);
/* What the job would reserve: count x time x the type's weight now. */
enum status jobs_reservation(struct daemon *d, const struct job_request *req, int64_t *need, char *msg,
	size_t msglen);
/* Whether the owner's quota covers need, writing nothing: ST_OK with the
 * quota available after it, or the QUOTA_EXCEEDED a submit would give. */
enum status jobs_quota_check(struct daemon *d, int64_t owner_id, int64_t need, int64_t *available_after, char *msg,
	size_t msglen);
/* Reserves the job's GPU-time and inserts it (PENDING). */
enum status jobs_submit(struct daemon *d, const struct job_request *req, int64_t *id_out, char *msg, size_t msglen);
/* PENDING -> APPROVED with approval sequence seq; *f: the job as it was. */
enum status jobs_approve(struct daemon *d, int64_t id, const struct approver *by, int64_t seq, struct job_facts *f,
	char *msg, size_t msglen);
/* PENDING -> REJECTED, reservation released. */
enum status jobs_reject(struct daemon *d, int64_t id, const char *actor, const char *reason, char *msg,
	size_t msglen);
/* PENDING or APPROVED -> CANCELLED with reason, reservation released. A
 * RUNNING job is left as it is (ST_OK with f->state RUNNING): only its
 * executor can end it. *f: the job as it was. */
enum status jobs_cancel(struct daemon *d, int64_t id, const char *actor, const char *reason, struct job_facts *f,
	char *msg, size_t msglen);
/* PENDING -> EXPIRED (not approved in time), reservation released. */
enum status jobs_expire(struct daemon *d, int64_t id, const char *reason, char *msg, size_t msglen);
/* APPROVED -> RUNNING with its devices and deadline (DB_CONFLICT when it is
 * no longer APPROVED). */
int jobs_mark_running(struct daemon *d, int64_t id, int64_t now, int64_t run_until_ms, const char *devices,
	bool backfilled);
/* RUNNING -> to (COMPLETED/FAILED/CANCELLED), charging count x ran x
 * weight (capped at what the owner has left; the reason then says so). */
int jobs_end(struct daemon *d, int64_t id, enum job_state to, const char *reason, int64_t ran_seconds,
	int exit_code);
/* The ids of every live job of a user, oldest first (malloc'd; *n may be
 * 0 with *ids NULL). 0 or -1. */
int jobs_live_of_owner(struct daemon *d, int64_t owner_id, int64_t **ids, size_t *n);

#endif
