#include "common/status.h"

#include <string.h>

static const struct {
	const char *code;
	int exit_code;
	const char *message;
} status_table[ST__COUNT] = {
	[ST_OK] = {"OK", EXIT_OK_, "success"},
	[ST_BAD_FRAME] = {"BAD_FRAME", EXIT_FAILED, "malformed frame"},
	[ST_BAD_REQUEST] = {"BAD_REQUEST", EXIT_USAGE, "bad request"},
	[ST_UNAUTHENTICATED] = {"UNAUTHENTICATED", EXIT_UNAUTH, "not authenticated"},
	[ST_FORBIDDEN] = {"FORBIDDEN", EXIT_FORBIDDEN, "permission denied"},
	[ST_NOT_FOUND] = {"NOT_FOUND", EXIT_NOTFOUND, "not found"},
	[ST_CONFLICT] = {"CONFLICT", EXIT_FAILED, "conflict"},
	[ST_QUOTA_EXCEEDED] = {"QUOTA_EXCEEDED", EXIT_QUOTA, "quota exceeded"},
	[ST_RATE_LIMITED] = {"RATE_LIMITED", EXIT_RETRY, "too many attempts, try again later"},
	[ST_UNAVAILABLE] = {"UNAVAILABLE", EXIT_RETRY, "service unavailable, try again later"},
	[ST_INTERNAL] = {"INTERNAL", EXIT_FAILED, "internal error"},
	[ST_UNREACHABLE] = {"UNAVAILABLE", EXIT_UNREACHABLE, "cannot reach gpuaasd"},
	[ST_TIMEOUT] = {"UNAVAILABLE", EXIT_TIMEOUT, "timed out"},
	[ST_USAGE] = {"BAD_REQUEST", EXIT_USAGE, "usage error"},
};

const char *status_code(enum status st)
{
	if ((unsigned)st >= ST__COUNT)
		return "INTERNAL";
	return status_table[st].code;
}

enum status status_from_code(const char *code)
{
	if (!code)
		return ST_INTERNAL;
	/* Only real wire codes: stop before the client-only entries. */
	for (int i = 0; i < ST_UNREACHABLE; i++)
		if (strcmp(status_table[i].code, code) == 0)
			return (enum status)i;
	return ST_INTERNAL;
}

int status_exit_code(enum status st)
{
	if ((unsigned)st >= ST__COUNT)
		return EXIT_FAILED;
	return status_table[st].exit_code;
}

const char *status_message(enum status st)
{
	if ((unsigned)st >= ST__COUNT)
		return "unknown error";
	return status_table[st].message;
}
