/* user.* and usage.report: account administration (admin only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/log.h"
#include "common/json.h"
#include "gpuaasd/events.h"
#include "gpuaasd/ops.h"
#include "gpuaasd/sched.h"

static enum status bad_username(struct op_ctx *ctx, const char *name)
{
	char clip[48];
	return op_fail(ctx, ST_BAD_REQUEST,
		"invalid username '%s': 1-32 characters, lower-case letters, digits, '_', '.', '-', "
		"starting with a letter or '_'", op_clip(name, 40, clip, sizeof clip));
}

/* Appends an admin action about user_id to the event log. */
static enum status user_event(struct op_ctx *ctx, const char *kind, int64_t user_id, struct event_detail *e)
{
	int rc = events_add(ctx->d, ctx->user.username, kind, 0, user_id, e);
	if (e)
		event_detail_finish(e);
	return rc < 0 ? op_db_error(ctx) : ST_OK;
}

/* Looks up the target user named in args.username. */
static enum status target_user(struct op_ctx *ctx, struct user_row *u)
{
	const char *name = NULL;
	enum status st = arg_str(ctx, "username", true, 64, true, &name);
	if (st != ST_OK)
		return st;
	int rc = db_user_by_name(ctx->d->db, name, u);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND)
	{
		char clip[48];
		return op_fail(ctx, ST_NOT_FOUND, "no user '%s'", op_clip(name, 40, clip, sizeof clip));
	}
	return ST_OK;
}

static enum status user_created(struct op_ctx *ctx, bool ok, bool error, const char *hash)
{
	if (!ok || error || !hash)
		return op_fail(ctx, ST_INTERNAL, "could not hash the password");
	const char *name = ctx->state.user_create.username;
	int64_t id = 0;
	int rc = db_user_insert(ctx->d->db, name, hash, ctx->state.user_create.is_admin, ctx->state.user_create.quota,
		op_now(), ctx->user.id, &id);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_EXISTS)
		return op_fail(ctx, ST_CONFLICT, "user '%s' already exists", name);
	struct user_row u;
	rc = db_user_by_id(ctx->d->db, id, &u);
	if (rc != 0)
		return op_db_error(ctx);
	struct event_detail e;
	event_detail_init(&e);
	event_detail_int(&e, "is_admin", u.is_admin);
	event_detail_int(&e, "quota", u.quota);
	enum status st = user_event(ctx, "user.created", u.id, &e);
	if (st != ST_OK)
		return st;
	cJSON *data = user_json(&u);
	if (!data)
		return ST_INTERNAL;
	cJSON_Delete(ctx->data);
	ctx->data = data;
	log_event(LOG_INFO, "user.created", "user=%s admin=%d quota=%lld by=%s", u.username, u.is_admin,
		(long long)u.quota, ctx->user.username);
	return ST_OK;
}

static enum status user_create(struct op_ctx *ctx)
{
	const char *name = NULL, *password = NULL, *why = NULL;
	bool is_admin = false;
	int64_t quota = ctx->d->cfg.default_quota;
	enum status st;
	if ((st = arg_str(ctx, "username", true, 64, true, &name)) != ST_OK ||
	    (st = arg_str(ctx, "password", true, 4096, false, &password)) != ST_OK ||
	    (st = arg_bool(ctx, "is_admin", false, &is_admin)) != ST_OK ||
	    (st = arg_int(ctx, "quota", false, 0, DB_QUOTA_MAX, &quota)) != ST_OK)
		return st;
	if (!auth_username_valid(name))
		return bad_username(ctx, name);
	if (!auth_password_acceptable(password, &why))
		return op_fail(ctx, ST_BAD_REQUEST, "password rejected: %s", why);
	struct user_row existing;
	int rc = db_user_by_name(ctx->d->db, name, &existing);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == 0)
		return op_fail(ctx, ST_CONFLICT, "user '%s' already exists", name);
	snprintf(ctx->state.user_create.username, sizeof ctx->state.user_create.username, "%s", name);
	ctx->state.user_create.is_admin = is_admin;
	ctx->state.user_create.quota = quota;
	return op_hash(ctx, password, user_created);
}

/* Refuses changes that would leave no admin at all. */
static enum status keep_an_admin(struct op_ctx *ctx, const struct user_row *target, const char *what)
{
	if (!target->is_admin)
		return ST_OK;
	struct user_row *rows = NULL;
	size_t n = 0;
	if (db_user_list(ctx->d->db, &rows, &n) < 0)
		return op_db_error(ctx);
	size_t admins = 0;
	for (size_t i = 0; i < n; i++)
		admins += rows[i].is_admin;
	free(rows);
	if (admins <= 1)
		return op_fail(ctx, ST_CONFLICT, "cannot %s '%s': it is the last admin", what, target->username);
	return ST_OK;
}

static enum status user_delete(struct op_ctx *ctx)
{
	struct user_row u;
	enum status st = target_user(ctx, &u);
	if (st != ST_OK)
		return st;
	if (u.id == ctx->user.id)
		return op_fail(ctx, ST_CONFLICT, "you cannot delete your own account");
	if ((st = keep_an_admin(ctx, &u, "delete")) != ST_OK)
		return st;
	/* Their jobs that are still alive end now: nobody would pay for them. */
	int64_t cancelled = 0;
	if (sched_cancel_owner(ctx->d->sched, u.id, ctx->user.username, "cancelled by owner deleted", &cancelled) < 0)
		return op_db_error(ctx);
	int rc = db_user_delete(ctx->d->db, u.id, op_now());
	if (rc < 0)
		return op_db_error(ctx);
	struct event_detail e;
	event_detail_init(&e);
	event_detail_str(&e, "username", u.username);
	event_detail_int(&e, "jobs_cancelled", cancelled);
	if ((st = user_event(ctx, "user.deleted", u.id, &e)) != ST_OK)
		return st;
	cJSON *data = op_data(ctx);
	if (!data)
		return ST_INTERNAL;
	cJSON_AddStringToObject(data, "username", u.username);
	cJSON_AddBoolToObject(data, "deleted", true);
	json_add_int(data, "jobs_cancelled", cancelled);
	log_event(LOG_INFO, "user.deleted", "user=%s jobs_cancelled=%lld by=%s", u.username, (long long)cancelled,
		ctx->user.username);
	return ST_OK;
}

static enum status user_list(struct op_ctx *ctx)
{
	struct user_row *rows = NULL;
	size_t n = 0;
	if (db_user_list(ctx->d->db, &rows, &n) < 0)
		return op_db_error(ctx);
	cJSON *data = op_data(ctx);
	cJSON *arr = data ? cJSON_AddArrayToObject(data, "users") : NULL;
	if (!arr) {
		free(rows);
		return ST_INTERNAL;
	}
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, user_json(&rows[i]));
	free(rows);
	return ST_OK;
}

static enum status user_quota(struct op_ctx *ctx)
{
	struct user_row u;
	enum status st = target_user(ctx, &u);
	if (st != ST_OK)
		return st;
	int64_t set = -1, add = -1;
	if ((st = arg_int(ctx, "set", false, 0, DB_QUOTA_MAX, &set)) != ST_OK ||
	    (st = arg_int(ctx, "add", false, 0, DB_QUOTA_MAX, &add)) != ST_OK)
		return st;
	if ((set >= 0) == (add >= 0))
		return op_fail(ctx, ST_BAD_REQUEST, "give exactly one of 'set' or 'add' (GPU-seconds)");
	struct user_row after;
	int rc = db_user_quota_change(ctx->d->db, u.id, set >= 0, set >= 0 ? set : add, ctx->user.id, op_now(), &after);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_CONFLICT)
		return op_fail(ctx, ST_BAD_REQUEST, "quota would exceed the maximum of %lld GPU-seconds",
			(long long)DB_QUOTA_MAX);
	if (rc == DB_NOTFOUND)
		return op_fail(ctx, ST_NOT_FOUND, "no user '%s'", u.username);
	struct event_detail e;
	event_detail_init(&e);
	event_detail_int(&e, "amount", set >= 0 ? set : add);
	event_detail_int(&e, "remaining", after.quota);
	if ((st = user_event(ctx, set >= 0 ? "quota.set" : "quota.added", u.id, &e)) != ST_OK)
		return st;
	cJSON *data = user_json(&after);
	if (!data)
		return ST_INTERNAL;
	cJSON_Delete(ctx->data);
	ctx->data = data;
	if (after.quota < after.reserved) {
		/* Live jobs keep their reservation: say what that means. */
		char msg[300], q[32], r[32];
		snprintf(msg, sizeof msg, "%s now has %s left but %s reserved by live jobs: they keep running and are "
			"charged at most what is left", u.username, duration_format(after.quota, q, sizeof q),
			duration_format(after.reserved, r, sizeof r));
		cJSON_AddStringToObject(data, "warning", msg);
	}
	log_event(LOG_INFO, "user.quota", "user=%s %s=%lld remaining=%lld by=%s", u.username, set >= 0 ? "set" : "add",
		(long long)(set >= 0 ? set : add), (long long)after.quota, ctx->user.username);
	return ST_OK;
}

static enum status user_role(struct op_ctx *ctx)
{
	struct user_row u;
	enum status st = target_user(ctx, &u);
	if (st != ST_OK)
		return st;
	bool is_admin = false;
	if ((st = arg_bool(ctx, "is_admin", true, &is_admin)) != ST_OK)
		return st;
	if (!is_admin && (st = keep_an_admin(ctx, &u, "remove the admin role of")) != ST_OK)
		return st;
	if (u.is_admin != is_admin) {
		int rc = db_user_set_admin(ctx->d->db, u.id, is_admin);
		if (rc < 0)
			return op_db_error(ctx);
		struct event_detail e;
		event_detail_init(&e);
		event_detail_int(&e, "is_admin", is_admin);
		if ((st = user_event(ctx, "user.role", u.id, &e)) != ST_OK)
			return st;
	}
	struct user_row after;
	int rc = db_user_by_id(ctx->d->db, u.id, &after);
	if (rc != 0)
		return op_db_error(ctx);
	cJSON *data = user_json(&after);
	if (!data)
		return ST_INTERNAL;
	cJSON_Delete(ctx->data);
	ctx->data = data;
	log_event(LOG_INFO, "user.role", "user=%s admin=%d by=%s", u.username, is_admin, ctx->user.username);
	return ST_OK;
}

const struct op user_ops[] = {
	{"user.create", user_create, OP_ADMIN | OP_WRITE},
	{"user.delete", user_delete, OP_ADMIN | OP_WRITE},
	{"user.list", user_list, OP_ADMIN},
	{"user.quota", user_quota, OP_ADMIN | OP_WRITE},
	{"user.role", user_role, OP_ADMIN | OP_WRITE},
	{NULL, NULL, 0},
};
