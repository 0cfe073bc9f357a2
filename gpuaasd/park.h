/* Parking: requests that wait for something to happen (job.wait, job.logs
 * with follow, event.watch), the redis blocked.c shape. A handler
 * parks its request on a key; code below the handlers (job transitions,
 * executors) only signals the key; the daemon answers the signalled
 * requests once per loop round, after the batch commit, from what is then
 * in the database. A request also ends at its timeout, or when its client
 * goes away. Unlinking is O(1), and each user may park a bounded number of
 * requests. */
#ifndef GPUAAS_GPUAASD_PARK_H
#define GPUAAS_GPUAASD_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

struct loop;
struct park;
struct op_ctx;

/* What happened to a key (a job id). A parked request listens to a set. */
enum park_kind {
	PARK_JOB_STATE = 1 << 0,  /* the job changed state */
	PARK_JOB_OUTPUT = 1 << 1, /* the job's output grew */
	PARK_EVENTS = 1 << 2,     /* an event was appended (key 0) */
};

/* Builds a parked request's reply. With final false it may return
 * OP_PENDING: nothing to say yet, stay parked. With final true (timeout) it
 * must answer. */
typedef enum status (*park_answer_fn)(struct op_ctx *ctx, bool final);

/* NULL on ENOMEM. max_per_user: parked requests one user may hold. */
struct park *park_create(struct loop *loop, int max_per_user);
/* Ends every parked request (UNAVAILABLE) and frees the service. NULL is a
 * no-op. */
void park_destroy(struct park *p);
/* Changes the per-user bound (SIGHUP); requests already parked stay. */
void park_set_limit(struct park *p, int max_per_user);
/* Parks ctx on key for the kinds given, for timeout_ms (< 0: none).
 * Returns OP_PENDING, or RATE_LIMITED / INTERNAL with a message in ctx. */
enum status park_add(struct park *p, struct op_ctx *ctx, unsigned kinds, int64_t key, int64_t timeout_ms,
	park_answer_fn answer);
/* Notes that key changed; its requests are answered at the next
 * park_flush. Never answers anything itself, so it is safe to call inside
 * a transaction. NULL p is a no-op. */
void park_signal(struct park *p, enum park_kind kind, int64_t key);
/* Answers the requests whose keys were signalled (called by the daemon
 * after each commit, when no batch is open). */
void park_flush(struct park *p);
/* Ends every parked request with UNAVAILABLE (clean stop, tests). */
void park_abandon_all(struct park *p);
/* Requests parked now, in all and for one user. */
size_t park_count(const struct park *p);
int park_count_of_user(const struct park *p, int64_t user_id);

#endif
