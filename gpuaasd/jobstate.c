#include "gpuaasd/jobstate.h"

#include <math.h>
#include <stddef.h>
#include <strings.h>

static const char *const names[JOB__COUNT] = {
	"PENDING", "APPROVED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "REJECTED", "EXPIRED",
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < JOB__COUNT ? names[s] : NULL;
}

int job_state_parse(const char *name, enum job_state *out)
{
	for (int i = 0; i < JOB__COUNT; i++) {
		if (strcasecmp(names[i], name) == 0) {
			*out = (enum job_state)i;
			return 0;
		}
	}
	return -1;
}

bool job_state_final(enum job_state s)
{
	return s == JOB_COMPLETED || s == JOB_FAILED || s == JOB_CANCELLED || s == JOB_REJECTED || s == JOB_EXPIRED;
}

bool job_transition_allowed(enum job_state from, enum job_state to)
{
	switch (from) {
	case JOB_PENDING:
		return to == JOB_APPROVED || to == JOB_REJECTED || to == JOB_CANCELLED || to == JOB_EXPIRED;
	case JOB_APPROVED:
		return to == JOB_RUNNING || to == JOB_CANCELLED;
	case JOB_RUNNING:
		return to == JOB_COMPLETED || to == JOB_FAILED || to == JOB_CANCELLED;
	default:
		return false; /* final states are final */
	}
}

bool quota_need(int64_t count, int64_t seconds, int64_t *out)
{
	if (count <= 0 || seconds <= 0)
		return false;
	if (count > INT64_MAX / seconds)
		return false;
	*out = count * seconds;
	return true;
}

int64_t quota_available(int64_t remaining, int64_t reserved)
{
	return remaining > reserved ? remaining - reserved : 0;
}

int64_t quota_charge(int64_t count, int64_t ran, int64_t remaining)
{
	if (count <= 0 || ran <= 0 || remaining <= 0)
		return 0;
	if (ran > remaining / count)
		return remaining;
	int64_t c = count * ran;
	return c < remaining ? c : remaining;
}

int64_t sim_nominal_seconds(int64_t wall_ms, double scale, int64_t limit)
{
	if (wall_ms <= 0)
		return 0;
	double s = ceil((double)wall_ms / 1000.0 / scale - 1e-9);
	if (!(s < (double)limit))
		return limit;
	return s < 0 ? 0 : (int64_t)s;
}
