/* Auto-approval rules: an admin's standing "yes" for jobs that match. A job
 * that matches an enabled rule at submit time is approved at once, by
 * "rule:N". A rule matches on GPU types, a maximum count and time limit,
 * and who submits (listed users, every non-admin, or everyone); its
 * optional daily cap bounds the GPU-time it approves per user in any 24
 * hours (count x time x weight, as reserved). Quota is always checked
 * first: a rule never lets a job past it. */
#ifndef GPUAAS_GPUAASD_RULES_H
#define GPUAAS_GPUAASD_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "gpuaasd/db.h"

struct daemon;

/* The job a rule is asked about. */
struct rule_ask {
	const struct user_row *owner;
	const char *gpu_type;
	int64_t gpu_count;
	int64_t time_limit;
	int64_t reserved; /* count x time x weight */
	int64_t now;
};

/* The first rule (lowest id) that approves the job: 1 with *rule_id, 0
 * when none does (why: which cap stopped a rule that matched, or ""), -1 on
 * a database error. */
int rules_match(struct daemon *d, const struct rule_ask *ask, int64_t *rule_id, char *why, size_t whylen);
/* Stores a rule (fields as checked by the handler) with an event; *id. */
enum status rules_add(struct daemon *d, const struct user_row *by, const struct rule_row *r, int64_t *id, char *msg,
	size_t msglen);
/* Deletes (disables) a rule with an event. */
enum status rules_delete(struct daemon *d, const struct user_row *by, int64_t id, char *msg, size_t msglen);

#endif
