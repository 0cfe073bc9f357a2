/* The REST routes that map to one gpuaasd op each: arguments from the path
 * and the query (named as in docs/openapi.yaml), body members passed on as
 * written, and the reply's data as the response body. */
#include "gpuaas-web/handlers.h"

#include <stdio.h>
#include <string.h>

#include "gpuaas-web/api.h"
#include "gpuaas-web/args.h"
#include "gpuaas-web/follow.h"
#include "gpuaas-web/own.h"
#include "gpuaas-web/reply.h"
#include "gpuaas-web/request.h"
#include "gpuaas-web/respond.h"
#include "gpuaas-web/session.h"
#include "gpuaas-web/sse.h"

#define ID_MAX (INT64_C(1) << 53)

/* Kinds of the admin actions: what GET /api/v1/audit lists. */
static const char audit_kinds[] =
	"user.created,user.deleted,user.role,quota.set,quota.added,rule.added,rule.deleted,job.approved,job.rejected";

static const char *const login_keys[] = {"username", "password", NULL};
static const char *const password_keys[] = {"old_password", "new_password", NULL};
static const char *const submit_keys[] = {"gpu_type", "gpu_count", "time_limit", "name", "command", "env", "chdir",
	"dry_run", NULL};
static const char *const bulk_approve_keys[] = {"ids", "all_pending", "user", "gpu_type", NULL};
static const char *const bulk_reject_keys[] = {"ids", "all_pending", "user", "gpu_type", "reason", NULL};
static const char *const reject_keys[] = {"reason", NULL};
static const char *const user_keys[] = {"username", "password", "is_admin", "quota", NULL};
static const char *const quota_keys[] = {"set", "add", NULL};
static const char *const role_keys[] = {"is_admin", NULL};
static const char *const rule_keys[] = {"gpu_types", "max_count", "max_time", "users", "scope", "daily_cap", "note",
	NULL};

/* Query parameters, by type. -1 with err naming the parameter. */
static int q_int(struct request *r, struct args *a, const char *param, const char *arg, int64_t min, int64_t max,
	char *err, size_t errlen)
{
	int64_t v;
	int rc = query_int(&r->query, param, min, max, &v);
	if (rc < 0) {
		snprintf(err, errlen, "query parameter '%s' must be an integer from %lld to %lld", param, (long long)min,
			(long long)max);
		return -1;
	}
	if (rc == 0)
		args_int(a, arg, v);
	return 0;
}

static int q_bool(struct request *r, struct args *a, const char *param, const char *arg, char *err, size_t errlen)
{
	bool v;
	int rc = query_bool(&r->query, param, &v);
	if (rc < 0) {
		snprintf(err, errlen, "query parameter '%s' must be 1, 0, true or false", param);
		return -1;
	}
	if (rc == 0)
		args_bool(a, arg, v);
	return 0;
}

static void q_str(struct request *r, struct args *a, const char *param, const char *arg)
{
	const char *v = query_get(&r->query, param);
	if (v && *v)
		args_str(a, arg, v);
}

static int args_jobs(struct request *r, struct args *a, char *err, size_t errlen)
{
	q_str(r, a, "state", "states");
	q_str(r, a, "user", "user");
	return q_bool(r, a, "all", "all", err, errlen) < 0 || q_bool(r, a, "inbox", "inbox", err, errlen) < 0 ||
			       q_int(r, a, "limit", "limit", 1, 1000000, err, errlen) < 0 ||
			       q_int(r, a, "before_id", "before_id", 1, ID_MAX, err, errlen) < 0 ?
		       -1 :
		       0;
}

static int args_id(struct request *r, struct args *a, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	args_int(a, "id", r->route.id_param);
	return 0;
}

/* The offset; a follow's wait, capped (follow.h). */
static int args_logs(struct request *r, struct args *a, char *err, size_t errlen)
{
	int64_t timeout = FOLLOW_TIMEOUT_DEFAULT;
	args_int(a, "id", r->route.id_param);
	if (q_int(r, a, "offset", "offset", 0, INT64_C(1) << 50, err, errlen) < 0 ||
	    q_bool(r, a, "follow", "follow", err, errlen) < 0)
		return -1;
	if (query_int(&r->query, "timeout", 1, 3600, &timeout) < 0) {
		snprintf(err, errlen, "query parameter 'timeout' must be an integer from 1 to 3600 (seconds)");
		return -1;
	}
	if (follow_wanted(r))
		args_int(a, "timeout", timeout < FOLLOW_TIMEOUT_MAX ? timeout : FOLLOW_TIMEOUT_MAX);
	return 0;
}

static int args_usage(struct request *r, struct args *a, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	q_str(r, a, "user", "username");
	return 0;
}

static int args_username(struct request *r, struct args *a, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	args_str(a, "username", r->route.name);
	return 0;
}

/* event.list's filter; audit adds its kinds. */
static int args_events(struct request *r, struct args *a, char *err, size_t errlen)
{
	q_str(r, a, "user", "user");
	return q_int(r, a, "since", "since", 0, ID_MAX, err, errlen) < 0 ||
			       q_int(r, a, "limit", "limit", 1, 1000, err, errlen) < 0 ||
			       q_int(r, a, "since_time", "since_time", 0, ID_MAX, err, errlen) < 0 ?
		       -1 :
		       0;
}

static int args_event_list(struct request *r, struct args *a, char *err, size_t errlen)
{
	q_str(r, a, "kinds", "kinds");
	if (q_int(r, a, "job", "job", 1, ID_MAX, err, errlen) < 0)
		return -1;
	return args_events(r, a, err, errlen);
}

static int args_audit(struct request *r, struct args *a, char *err, size_t errlen)
{
	args_str(a, "kinds", audit_kinds);
	return args_events(r, a, err, errlen);
}

/* 201 with Location for what was created; a dry run stays 200. */
static enum MHD_Result finish_created(struct request *r, const struct reply *rep, const char *base, const char *key)
{
	struct jspan v, s;
	char loc[160];
	int64_t id;
	if (jspan_member(rep->data, "dry_run", &v) == 0 && jspan_is_true(v))
		return respond_queue(r, 200, api_data_response(r, rep));
	loc[0] = '\0';
	if (jspan_member(rep->data, key, &v) == 0) {
		if (jspan_int(v, &id) == 0)
			snprintf(loc, sizeof loc, "%s/%lld", base, (long long)id);
		else if (jspan_plain_str(v, &s) == 0 && s.n < 100 && !memchr(s.p, '/', s.n))
			snprintf(loc, sizeof loc, "%s/%.*s", base, (int)s.n, s.p);
	}
	struct MHD_Response *resp = api_data_response(r, rep);
	if (resp && loc[0] && MHD_add_response_header(resp, "Location", loc) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return respond_queue(r, 201, resp);
}

static enum MHD_Result finish_job(struct request *r, const struct reply *rep)
{
	return finish_created(r, rep, "/api/v1/jobs", "id");
}

static enum MHD_Result finish_user(struct request *r, const struct reply *rep)
{
	return finish_created(r, rep, "/api/v1/users", "username");
}

static enum MHD_Result finish_rule(struct request *r, const struct reply *rep)
{
	return finish_created(r, rep, "/api/v1/rules", "id");
}

static const struct handler handlers[] = {
	{.route = R_HEALTHZ, .own = own_healthz},
	{.route = R_METRICS, .own = own_metrics},
	{.route = R_OPENAPI, .own = own_openapi},
	{.route = R_STATIC, .own = own_static},
	{.route = R_EVENTS_STREAM, .own = sse_handle},
	{.route = R_LOGOUT, .own = session_logout},
	{.route = R_LOGIN, .op = "auth.login", .flags = H_BODY | H_SLOW, .body_keys = login_keys,
		.before = session_login_before, .failed = session_login_failed, .finish = session_login_finish},
	{.route = R_ME, .op = "auth.whoami", .flags = H_AUTH, .finish = session_me_finish},
	{.route = R_PASSWORD, .op = "auth.passwd", .flags = H_AUTH | H_BODY | H_SLOW, .body_keys = password_keys,
		.failed = session_login_failed, .finish = session_password_finish},
	{.route = R_JOBS_LIST, .op = "job.list", .flags = H_AUTH, .args = args_jobs},
	{.route = R_JOBS_SUBMIT, .op = "job.submit", .flags = H_AUTH | H_BODY, .body_keys = submit_keys,
		.finish = finish_job},
	{.route = R_JOBS_APPROVE_BULK, .op = "job.approve", .flags = H_AUTH | H_BODY, .body_keys = bulk_approve_keys},
	{.route = R_JOBS_REJECT_BULK, .op = "job.reject", .flags = H_AUTH | H_BODY, .body_keys = bulk_reject_keys},
	{.route = R_JOB_GET, .op = "job.get", .flags = H_AUTH, .args = args_id},
	{.route = R_JOB_CANCEL, .op = "job.cancel", .flags = H_AUTH, .args = args_id},
	{.route = R_JOB_APPROVE, .op = "job.approve", .flags = H_AUTH, .args = args_id},
	{.route = R_JOB_REJECT, .op = "job.reject", .flags = H_AUTH | H_BODY, .body_keys = reject_keys, .args = args_id},
	{.route = R_JOB_LOGS, .op = "job.logs", .flags = H_AUTH, .args = args_logs, .send = follow_send},
	{.route = R_GPUS, .op = "gpu.list", .flags = H_AUTH},
	{.route = R_QUOTA, .op = "quota.get", .flags = H_AUTH},
	{.route = R_USAGE, .op = "usage.report", .flags = H_AUTH, .args = args_usage},
	{.route = R_USERS_LIST, .op = "user.list", .flags = H_AUTH},
	{.route = R_USERS_CREATE, .op = "user.create", .flags = H_AUTH | H_BODY | H_SLOW,
		.body_keys = user_keys, .finish = finish_user},
	{.route = R_USER_DELETE, .op = "user.delete", .flags = H_AUTH, .args = args_username},
	{.route = R_USER_QUOTA, .op = "user.quota", .flags = H_AUTH | H_BODY, .body_keys = quota_keys,
		.args = args_username},
	{.route = R_USER_ROLE, .op = "user.role", .flags = H_AUTH | H_BODY, .body_keys = role_keys,
		.args = args_username},
	{.route = R_RULES_LIST, .op = "rule.list", .flags = H_AUTH},
	{.route = R_RULES_ADD, .op = "rule.add", .flags = H_AUTH | H_BODY, .body_keys = rule_keys,
		.finish = finish_rule},
	{.route = R_RULE_DELETE, .op = "rule.delete", .flags = H_AUTH, .args = args_id},
	{.route = R_EVENTS, .op = "event.list", .flags = H_AUTH, .args = args_event_list},
	{.route = R_AUDIT, .op = "event.list", .flags = H_AUTH, .args = args_audit},
};

const struct handler *handler_for(enum route_id id)
{
	for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (handlers[i].route == id)
			return &handlers[i];
	return NULL;
}
