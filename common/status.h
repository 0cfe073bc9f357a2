/* One status enum for the whole project, with its three faces: the wire code
 * (the error codes of docs/PROTOCOL.md, "Replies"), the CLI exit code (EXIT
 * STATUS of gpuctl(1)) and a human message. */
#ifndef GPUAAS_COMMON_STATUS_H
#define GPUAAS_COMMON_STATUS_H

enum status {
	ST_OK = 0,
	ST_BAD_FRAME,
	ST_BAD_REQUEST,
	ST_UNAUTHENTICATED,
	ST_FORBIDDEN,
	ST_NOT_FOUND,
	ST_CONFLICT,
	ST_QUOTA_EXCEEDED,
	ST_RATE_LIMITED,
	ST_UNAVAILABLE,
	ST_INTERNAL,
	/* Client-side only: never on the wire. */
	ST_UNREACHABLE,
	ST_TIMEOUT,
	ST_USAGE,
	ST__COUNT
};

/* Exit codes of gpuctl (EXIT STATUS of gpuctl(1), docs/man/gpuctl.1.tail.scd). */
enum exit_code {
	EXIT_OK_ = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_UNAUTH = 3,
	EXIT_FORBIDDEN = 4,
	EXIT_NOTFOUND = 5,
	EXIT_QUOTA = 6,
	EXIT_UNREACHABLE = 7,
	EXIT_TIMEOUT = 8,
	EXIT_RETRY = 9,
};

/* Wire code ("BAD_REQUEST"); static string, never NULL. Client-only statuses map
 * to the closest wire code. */
const char *status_code(enum status st);
/* Parses a wire code; unknown codes give ST_INTERNAL. */
enum status status_from_code(const char *code);
/* gpuctl exit code for a status. */
int status_exit_code(enum status st);
/* Generic human message ("not found"); static string. */
const char *status_message(enum status st);

#endif
