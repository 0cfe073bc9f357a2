/* The job state machine and the quota arithmetic: pure functions, the one
 * place that says which transitions exist. The lifecycle: PENDING ->
 * APPROVED | REJECTED | CANCELLED | EXPIRED; APPROVED -> RUNNING | CANCELLED; RUNNING ->
 * COMPLETED | FAILED | CANCELLED; the final states never change (the job
 * object and its states are described in docs/PROTOCOL.md). */
#ifndef GPUAAS_GPUAASD_JOBSTATE_H
#define GPUAAS_GPUAASD_JOBSTATE_H

#include <stdbool.h>
#include <stdint.h>

enum job_state {
	JOB_PENDING = 0,
	JOB_APPROVED,
	JOB_RUNNING,
	JOB_COMPLETED,
	JOB_FAILED,
	JOB_CANCELLED,
	JOB_REJECTED,
	JOB_EXPIRED, /* not approved within --pending-ttl */
	JOB__COUNT
};

/* "PENDING" etc.; NULL for an invalid state. */
const char *job_state_name(enum job_state s);
/* Case-insensitive parse; -1 when unknown. */
int job_state_parse(const char *name, enum job_state *out);
/* COMPLETED, FAILED, CANCELLED, REJECTED, EXPIRED. */
bool job_state_final(enum job_state s);
/* True when from -> to is a transition of the lifecycle. */
bool job_transition_allowed(enum job_state from, enum job_state to);

/* count * seconds into *out; false on overflow or non-positive inputs. */
bool quota_need(int64_t count, int64_t seconds, int64_t *out);
/* remaining - reserved, never below zero. */
int64_t quota_available(int64_t remaining, int64_t reserved);
/* What a job that ran `ran` seconds on count GPUs is charged, given the
 * user's remaining quota: count * ran, capped at remaining (never negative). */
int64_t quota_charge(int64_t count, int64_t ran, int64_t remaining);
/* Nominal seconds of a simulated run from wall milliseconds and the scale,
 * rounded up, capped at limit. */
int64_t sim_nominal_seconds(int64_t wall_ms, double scale, int64_t limit);

#endif
