/* auth.* ops and quota.get: login, whoami, passwd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "gpuaasd/ops.h"
#include "gpuaasd/ratelimit.h"

/* Issues a token for u into data {token, expires_at}. */
static enum status issue_token(struct op_ctx *ctx, const struct user_row *u, cJSON *data)
{
	int64_t now = op_now();
	struct token_claims c = {.uid = u->id, .token_version = u->token_version, .iat = now,
		.exp = now + ctx->d->cfg.token_ttl};
	snprintf(c.username, sizeof c.username, "%s", u->username);
	char *token = NULL;
	if (auth_token_issue(&ctx->d->key, &c, &token) < 0)
		return op_fail(ctx, ST_INTERNAL, "could not issue a token");
	cJSON_AddStringToObject(data, "token", token);
	json_add_time(data, "expires_at", c.exp);
	free(token);
	return ST_OK;
}

static enum status login_checked(struct op_ctx *ctx, bool ok, bool error, const char *hash)
{
	(void)hash;
	const char *username = ctx->state.login.username;
	if (error)
		return op_fail(ctx, ST_INTERNAL, "password check failed");
	struct user_row u;
	int64_t checked = ctx->state.login.user_id;
	int rc = checked ? db_user_by_id(ctx->d->db, checked, &u) : DB_NOTFOUND;
	if (rc < 0)
		return op_db_error(ctx);
	/* The hash must still be the one verified: a passwd in between wins. */
	if (!ok || rc != 0 || strcmp(u.hash, ctx->state.login.hash) != 0) {
		ratelimit_fail(ctx->d->logins, username, op_now());
		log_event(LOG_INFO, "auth.login_failed", "user=%s", username);
		return op_fail(ctx, ST_UNAUTHENTICATED, "invalid username or password");
	}
	ratelimit_clear(ctx->d->logins, username);
	cJSON *data = op_data(ctx);
	if (!data)
		return ST_INTERNAL;
	enum status st = issue_token(ctx, &u, data);
	if (st != ST_OK)
		return st;
	cJSON_AddItemToObject(data, "user", user_json(&u));
	log_event(LOG_INFO, "auth.login", "user=%s", u.username);
	return ST_OK;
}

static enum status auth_login(struct op_ctx *ctx)
{
	const char *username = NULL, *password = NULL;
	enum status st;
	if ((st = arg_str(ctx, "username", true, 64, true, &username)) != ST_OK ||
	    (st = arg_str(ctx, "password", true, 4096, false, &password)) != ST_OK)
		return st;
	int64_t wait = ratelimit_locked(ctx->d->logins, username, op_now());
	if (wait > 0)
		return op_fail(ctx, ST_RATE_LIMITED, "too many failed logins for '%s'; try again in %llds", username,
			(long long)wait);
	snprintf(ctx->state.login.username, sizeof ctx->state.login.username, "%s", username);
	/* Unknown user, bad name, overlong password or a damaged stored hash:
	 * verify against the dummy hash anyway, so every failure costs the same
	 * time and says the same thing. */
	struct user_row u;
	int rc = auth_username_valid(username) ? db_user_by_name(ctx->d->db, username, &u) : DB_NOTFOUND;
	if (rc < 0)
		return op_db_error(ctx);
	const char *stored = ctx->d->dummy_hash;
	ctx->state.login.user_id = 0;
	if (rc == 0 && auth_hash_sound(u.hash)) {
		stored = u.hash;
		ctx->state.login.user_id = u.id;
		snprintf(ctx->state.login.hash, sizeof ctx->state.login.hash, "%.63s", u.hash);
	}
	const char *why;
	if (!auth_password_acceptable(password, &why)) {
		ctx->state.login.user_id = 0;
		password = "";
	}
	return op_verify(ctx, password, stored, login_checked);
}

static enum status auth_whoami(struct op_ctx *ctx)
{
	cJSON *data = op_data(ctx);
	if (!data)
		return ST_INTERNAL;
	cJSON_AddStringToObject(data, "username", ctx->user.username);
	cJSON_AddBoolToObject(data, "is_admin", ctx->user.is_admin);
	cJSON_AddItemToObject(data, "quota", quota_json(&ctx->user));
	json_add_time(data, "token_expires_at", ctx->claims.exp);
	return ST_OK;
}

static enum status quota_get(struct op_ctx *ctx)
{
	cJSON *q = quota_json(&ctx->user);
	if (!q)
		return ST_INTERNAL;
	cJSON_Delete(ctx->data);
	ctx->data = q;
	return ST_OK;
}

static enum status passwd_store(struct op_ctx *ctx, bool ok, bool error, const char *hash)
{
	if (!ok || error || !hash)
		return op_fail(ctx, ST_INTERNAL, "could not hash the new password");
	int rc = db_user_set_password(ctx->d->db, ctx->user.id, hash);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND)
		return op_fail(ctx, ST_UNAUTHENTICATED, "user no longer exists");
	struct user_row u;
	rc = db_user_by_id(ctx->d->db, ctx->user.id, &u);
	if (rc != 0)
		return rc < 0 ? op_db_error(ctx) : ST_NOT_FOUND;
	cJSON *data = op_data(ctx);
	if (!data)
		return ST_INTERNAL;
	cJSON_AddStringToObject(data, "username", u.username);
	log_event(LOG_INFO, "auth.passwd", "user=%s", u.username);
	/* Every older token is dead now; give the caller a fresh one. */
	return issue_token(ctx, &u, data);
}

static enum status passwd_old_checked(struct op_ctx *ctx, bool ok, bool error, const char *hash)
{
	(void)hash;
	if (error)
		return op_fail(ctx, ST_INTERNAL, "password check failed");
	if (!ok) {
		ratelimit_fail(ctx->d->logins, ctx->user.username, op_now());
		return op_fail(ctx, ST_UNAUTHENTICATED, "old password is wrong");
	}
	const char *new_pw = NULL;
	arg_str(ctx, "new_password", true, AUTH_PASSWORD_MAX, false, &new_pw);
	return op_hash(ctx, new_pw, passwd_store);
}

static enum status auth_passwd(struct op_ctx *ctx)
{
	const char *old_pw = NULL, *new_pw = NULL, *why = NULL;
	enum status st;
	if ((st = arg_str(ctx, "old_password", true, 4096, false, &old_pw)) != ST_OK ||
	    (st = arg_str(ctx, "new_password", true, 4096, false, &new_pw)) != ST_OK)
		return st;
	if (!auth_password_acceptable(new_pw, &why))
		return op_fail(ctx, ST_BAD_REQUEST, "new password rejected: %s", why);
	int64_t wait = ratelimit_locked(ctx->d->logins, ctx->user.username, op_now());
	if (wait > 0)
		return op_fail(ctx, ST_RATE_LIMITED, "too many failed password checks; try again in %llds",
			(long long)wait);
	if (!auth_password_acceptable(old_pw, &why))
		old_pw = "";
	return op_verify(ctx, old_pw, ctx->user.hash, passwd_old_checked);
}

const struct op auth_ops[] = {
	{"auth.login", auth_login, OP_NO_AUTH},
	{"auth.whoami", auth_whoami, 0},
	{"auth.passwd", auth_passwd, OP_WRITE},
	{"quota.get", quota_get, 0},
	{NULL, NULL, 0},
};
