/* The event log as domain code: every job state change and every admin
 * action is appended here, inside the transaction of the change itself, so
 * the log and the state can never disagree. The log is append-only (pruned
 * by age with --event-retention). Appending signals the parking service, so
 * event.watch callers are answered after the commit. */
#ifndef GPUAAS_GPUAASD_EVENTS_H
#define GPUAAS_GPUAASD_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

struct daemon;

/* The actor of what the daemon does by itself (starts, ends, expiry). */
#define EVENTS_DAEMON "gpuaasd"

/* A small JSON object of details, built field by field. */
struct event_detail {
	struct strbuf b;
	bool any;
};

/* Starts an empty detail object. */
void event_detail_init(struct event_detail *e);
/* Adds "key": "value" (NULL: null). */
void event_detail_str(struct event_detail *e, const char *key, const char *value);
/* Adds "key": n. */
void event_detail_int(struct event_detail *e, const char *key, int64_t n);
/* Frees it (events_add does not). */
void event_detail_finish(struct event_detail *e);

/* Appends an event: kind like "job.approved", job_id 0 when none, user_id
 * the subject (the job's owner for job events; 0 when none), detail NULL for
 * {}. 0 or -1 (a database error: the caller's change must fail too). */
int events_add(struct daemon *d, const char *actor, const char *kind, int64_t job_id, int64_t user_id,
	struct event_detail *detail);
/* Deletes events older than --event-retention (no-op when 0), a bounded
 * number per call. 0 or -1. */
int events_prune(struct daemon *d, int64_t now);

#endif
