#include "gpuaas-web/router.h"

#include <stdbool.h>
#include <string.h>

#include "gpuaas-web/query.h"

struct route {
	enum route_id id;
	unsigned method;
	const char *pattern;
};

/* Each (method, pattern) once; patterns of one path sit together. */
static const struct route routes[] = {
	{R_HEALTHZ, M_GET, "/healthz"},
	{R_METRICS, M_GET, "/metrics"},
	{R_OPENAPI, M_GET, "/api/v1/openapi.yaml"},
	{R_LOGIN, M_POST, "/api/v1/login"},
	{R_LOGOUT, M_POST, "/api/v1/logout"},
	{R_ME, M_GET, "/api/v1/me"},
	{R_PASSWORD, M_POST, "/api/v1/me/password"},
	{R_JOBS_LIST, M_GET, "/api/v1/jobs"},
	{R_JOBS_SUBMIT, M_POST, "/api/v1/jobs"},
	{R_JOBS_APPROVE_BULK, M_POST, "/api/v1/jobs/approve"},
	{R_JOBS_REJECT_BULK, M_POST, "/api/v1/jobs/reject"},
	{R_JOB_GET, M_GET, "/api/v1/jobs/{id}"},
	{R_JOB_CANCEL, M_POST, "/api/v1/jobs/{id}/cancel"},
	{R_JOB_APPROVE, M_POST, "/api/v1/jobs/{id}/approve"},
	{R_JOB_REJECT, M_POST, "/api/v1/jobs/{id}/reject"},
	{R_JOB_LOGS, M_GET, "/api/v1/jobs/{id}/logs"},
	{R_GPUS, M_GET, "/api/v1/gpus"},
	{R_QUOTA, M_GET, "/api/v1/quota"},
	{R_USAGE, M_GET, "/api/v1/usage"},
	{R_USERS_LIST, M_GET, "/api/v1/users"},
	{R_USERS_CREATE, M_POST, "/api/v1/users"},
	{R_USER_DELETE, M_DELETE, "/api/v1/users/{name}"},
	{R_USER_QUOTA, M_POST, "/api/v1/users/{name}/quota"},
	{R_USER_ROLE, M_POST, "/api/v1/users/{name}/role"},
	{R_RULES_LIST, M_GET, "/api/v1/rules"},
	{R_RULES_ADD, M_POST, "/api/v1/rules"},
	{R_RULE_DELETE, M_DELETE, "/api/v1/rules/{id}"},
	{R_EVENTS, M_GET, "/api/v1/events"},
	{R_EVENTS_STREAM, M_GET, "/api/v1/events/stream"},
	{R_AUDIT, M_GET, "/api/v1/audit"},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static const char *const method_names[M_COUNT] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER"};

enum http_method router_method(const char *name)
{
	for (int i = 0; i < M_COUNT - 1; i++)
		if (strcmp(name, method_names[i]) == 0)
			return (enum http_method)(1u << i);
	return M_OTHER;
}

const char *router_method_name(enum http_method m)
{
	for (int i = 0; i < M_COUNT; i++)
		if ((unsigned)m == 1u << i)
			return method_names[i];
	return "OTHER";
}

void router_allow_text(unsigned allow, char *buf, size_t size)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < M_COUNT - 1; i++) {
		if (!(allow & (1u << i)))
			continue;
		int n = snprintf(buf + off, size - off, "%s%s", off ? ", " : "", method_names[i]);
		if (n < 0 || (size_t)n >= size - off)
			return;
		off += (size_t)n;
	}
}

const char *router_label(enum route_id id)
{
	if (id == R_STATIC)
		return "/{path}";
	for (size_t i = 0; i < NROUTES; i++)
		if (routes[i].id == id)
			return routes[i].pattern;
	return "other";
}

/* {id}: 1 to 2^53 in plain digits. */
static bool match_id(const char *seg, size_t n, int64_t *out)
{
	if (n == 0 || n > 16 || seg[0] == '0')
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (seg[i] < '0' || seg[i] > '9')
			return false;
		v = v * 10 + (seg[i] - '0');
	}
	if (v > (INT64_C(1) << 53))
		return false;
	*out = v;
	return true;
}

/* {name}: decoded, 1 to ROUTE_NAME_MAX bytes, no '/', no control bytes. */
static bool match_name(const char *seg, size_t n, char *out)
{
	char tmp[3 * ROUTE_NAME_MAX + 1];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, seg, n);
	ssize_t d = pct_decode(tmp, n, false);
	if (d <= 0 || d > ROUTE_NAME_MAX || memchr(tmp, '/', (size_t)d))
		return false;
	memcpy(out, tmp, (size_t)d);
	out[d] = '\0';
	return true;
}

/* Matches path against one pattern, segment by segment. */
static bool match_pattern(const char *pat, const char *path, size_t len, struct route_match *m)
{
	size_t i = 0;
	while (*pat) {
		if (*pat != '/' || i >= len || path[i] != '/')
			return false;
		pat++;
		i++;
		const char *pend = strchr(pat, '/');
		size_t plen = pend ? (size_t)(pend - pat) : strlen(pat);
		const char *seg = path + i;
		const char *send = memchr(seg, '/', len - i);
		size_t slen = send ? (size_t)(send - seg) : len - i;
		if (plen == 4 && memcmp(pat, "{id}", 4) == 0) {
			if (!match_id(seg, slen, &m->id_param))
				return false;
		} else if (plen == 6 && memcmp(pat, "{name}", 6) == 0) {
			if (!match_name(seg, slen, m->name))
				return false;
		} else if (plen != slen || memcmp(pat, seg, plen) != 0) {
			return false;
		}
		pat += plen;
		i += slen;
	}
	return i == len;
}

/* Paths the static file handler must never see. */
static bool reserved_path(const char *path, size_t len)
{
	return (len >= 4 && memcmp(path, "/api", 4) == 0 && (len == 4 || path[4] == '/')) ||
	       (len == 8 && memcmp(path, "/healthz", 8) == 0) || (len == 8 && memcmp(path, "/metrics", 8) == 0);
}

void router_match(const char *path, size_t len, enum http_method m, struct route_match *out)
{
	enum http_method want = m == M_HEAD ? M_GET : m;
	memset(out, 0, sizeof *out);
	out->id = R_NONE;
	out->label = "other";
	out->status = 404;
	for (size_t i = 0; i < NROUTES; i++) {
		struct route_match tmp = {0};
		if (!match_pattern(routes[i].pattern, path, len, &tmp))
			continue;
		out->allow |= routes[i].method | (routes[i].method == M_GET ? M_HEAD : 0);
		out->label = routes[i].pattern;
		if (routes[i].method == want && out->id == R_NONE) {
			unsigned allow = out->allow;
			*out = tmp;
			out->allow = allow;
			out->id = routes[i].id;
			out->label = routes[i].pattern;
		}
	}
	if (out->id != R_NONE) {
		out->status = 0;
	} else if (out->allow) {
		out->status = 405;
	} else if (len > 0 && path[0] == '/' && !reserved_path(path, len)) {
		out->allow = M_GET | M_HEAD;
		out->label = router_label(R_STATIC);
		out->status = want == M_GET ? 0 : 405;
		out->id = want == M_GET ? R_STATIC : R_NONE;
	}
}

void router_print(FILE *out)
{
	for (size_t i = 0; i < NROUTES; i++)
		fprintf(out, "%s %s\n", router_method_name((enum http_method)routes[i].method), routes[i].pattern);
	fprintf(out, "GET /\nGET /{path}\n");
}
