/* The routing table: every route the gateway serves, as (method, path
 * pattern). Patterns hold literal segments and the parameters {id} (a
 * positive integer up to 2^53) and {name} (1 to 64 printable bytes). Paths
 * under /api/ that match nothing are 404; any other unmatched path is a
 * static file under the web root. docs/openapi.yaml describes each route. */
#ifndef GPUAAS_WEB_ROUTER_H
#define GPUAAS_WEB_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum http_method {
	M_GET = 1 << 0,
	M_HEAD = 1 << 1,
	M_POST = 1 << 2,
	M_PUT = 1 << 3,
	M_DELETE = 1 << 4,
	M_PATCH = 1 << 5,
	M_OPTIONS = 1 << 6,
	M_OTHER = 1 << 7,
};
#define M_COUNT 8

enum route_id {
	R_HEALTHZ,
	R_METRICS,
	R_OPENAPI,
	R_LOGIN,
	R_LOGOUT,
	R_ME,
	R_PASSWORD,
	R_JOBS_LIST,
	R_JOBS_SUBMIT,
	R_JOBS_APPROVE_BULK,
	R_JOBS_REJECT_BULK,
	R_JOB_GET,
	R_JOB_CANCEL,
	R_JOB_APPROVE,
	R_JOB_REJECT,
	R_JOB_LOGS,
	R_GPUS,
	R_QUOTA,
	R_USAGE,
	R_USERS_LIST,
	R_USERS_CREATE,
	R_USER_DELETE,
	R_USER_QUOTA,
	R_USER_ROLE,
	R_RULES_LIST,
	R_RULES_ADD,
	R_RULE_DELETE,
	R_EVENTS,
	R_EVENTS_STREAM,
	R_AUDIT,
	R_STATIC,
	R_NONE, /* no route: 404, or 405 when the path exists with other methods */
	R__COUNT
};

#define ROUTE_NAME_MAX 64

struct route_match {
	enum route_id id;
	const char *label; /* the pattern, for metrics and logs */
	unsigned allow;    /* methods the path accepts (HEAD with GET) */
	int status;        /* 0 matched, 404 or 405 */
	int64_t id_param;  /* {id}, or 0 */
	char name[ROUTE_NAME_MAX + 1]; /* {name}, decoded, or "" */
};

/* Matches the raw (still percent-encoded) path of a request target, the
 * part before '?'. Never fails: the result says 404 or 405 when no route
 * takes (path, method). */
void router_match(const char *path, size_t len, enum http_method m, struct route_match *out);
/* The method bit of a method name ("GET" -> M_GET; unknown names M_OTHER). */
enum http_method router_method(const char *name);
/* Writes the Allow header value for a method set ("GET, HEAD, POST"). */
void router_allow_text(unsigned allow, char *buf, size_t size);
/* The pattern of a route ("/api/v1/jobs/{id}"). */
const char *router_label(enum route_id id);
/* The method name for a bit ("GET"). */
const char *router_method_name(enum http_method m);
/* Prints every route, "METHOD PATTERN" per line (gpuaas-web --routes). */
void router_print(FILE *out);

#endif
