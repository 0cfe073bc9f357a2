/* usage.report: per user, GPU-seconds granted, charged, reserved and
 * remaining from the quota ledger; optionally what was charged since a
 * time, and the ledger rows themselves. Admins only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "gpuaasd/job-reply.h"

#define USAGE_MAX_USERS 1000
#define LEDGER_MAX_ROWS 10000

static int ledger_cb(void *arg, const struct ledger_row *r)
{
	struct strbuf *b = arg;
	strbuf_adds(b, b->data[b->len - 1] == '[' ? "{\"at\":" : ",{\"at\":");
	char ts[40];
	strbuf_add_json_str(b, time_format_rfc3339(r->at, ts, sizeof ts));
	out_str(b, "kind", r->kind);
	out_int(b, "delta", r->delta);
	out_opt_int(b, "job_id", r->job_id > 0, r->job_id);
	out_str(b, "actor", r->actor);
	out_str(b, "reason", r->reason ? r->reason : "");
	strbuf_addc(b, '}');
	return b->failed ? -1 : 0;
}

/* One user's row: the ledger sums, and with since what was charged since
 * then, and with ledger its rows. */
static enum status usage_row_write(struct op_ctx *ctx, struct strbuf *b, const struct usage_row *u, int64_t since,
	bool ledger, bool first)
{
	strbuf_adds(b, first ? "{\"username\":" : ",{\"username\":");
	strbuf_add_json_str(b, u->username);
	out_int(b, "granted", u->granted);
	out_int(b, "charged", u->charged);
	out_int(b, "reserved", u->reserved);
	out_int(b, "remaining", u->remaining);
	out_int(b, "jobs_charged", u->jobs);
	if (since >= 0 || ledger) {
		struct user_row row;
		int64_t charged = 0;
		if (db_user_by_name(ctx->d->db, u->username, &row) != 0 ||
		    db_user_charged_since(ctx->d->db, row.id, since > 0 ? since : 0, &charged) < 0)
			return op_db_error(ctx);
		if (since >= 0)
			out_int(b, "charged_since", charged);
		if (ledger) {
			out_key(b, "ledger");
			strbuf_addc(b, '[');
			if (db_ledger_of_user(ctx->d->db, row.id, since > 0 ? since : 0, LEDGER_MAX_ROWS, ledger_cb, b) < 0)
				return op_db_error(ctx);
			strbuf_addc(b, ']');
		}
	}
	strbuf_addc(b, '}');
	return ST_OK;
}

/* The names asked for: args.usernames (an array), args.username, or none
 * (every user). */
static enum status usage_names(struct op_ctx *ctx, const char **names, int *n)
{
	const char *one = NULL;
	enum status st = arg_str(ctx, "username", false, 64, true, &one);
	const cJSON *many = json_get(ctx->args, "usernames");
	*n = 0;
	if (st != ST_OK)
		return st;
	if (one)
		names[(*n)++] = one;
	if (!many || cJSON_IsNull(many))
		return ST_OK;
	if (!cJSON_IsArray(many) || cJSON_GetArraySize(many) > USAGE_MAX_USERS)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'usernames' must be an array of at most %d names",
			USAGE_MAX_USERS);
	const cJSON *it;
	cJSON_ArrayForEach(it, many)
	{
		if (!cJSON_IsString(it) || strlen(it->valuestring) > 64 ||
		    !utf8_valid(it->valuestring, strlen(it->valuestring)) || *n >= USAGE_MAX_USERS)
			return op_fail(ctx, ST_BAD_REQUEST, "argument 'usernames' must hold user names");
		names[(*n)++] = it->valuestring;
	}
	return ST_OK;
}

static enum status usage_report(struct op_ctx *ctx)
{
	const char *names[USAGE_MAX_USERS + 1];
	int nnames = 0;
	int64_t since = -1;
	bool ledger = false;
	char clip[48];
	enum status st;
	if ((st = usage_names(ctx, names, &nnames)) != ST_OK ||
	    (st = arg_int(ctx, "since", false, 0, JSON_INT_MAX, &since)) != ST_OK ||
	    (st = arg_bool(ctx, "ledger", false, &ledger)) != ST_OK)
		return st;
	if (ledger && nnames != 1)
		return op_fail(ctx, ST_BAD_REQUEST, "'ledger' needs exactly one user");
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "{\"users\":[");
	int written = 0;
	for (int i = 0; i < (nnames ? nnames : 1); i++) {
		struct usage_row *rows = NULL;
		size_t n = 0;
		int rc = db_usage_report(ctx->d->db, nnames ? names[i] : NULL, &rows, &n);
		if (rc == DB_NOTFOUND)
			return op_fail(ctx, ST_NOT_FOUND, "no user '%s'", op_clip(names[i], 40, clip, sizeof clip));
		if (rc < 0)
			return op_db_error(ctx);
		for (size_t k = 0; k < n && st == ST_OK; k++)
			st = usage_row_write(ctx, b, &rows[k], since, ledger, written++ == 0);
		free(rows);
		if (st != ST_OK)
			return st;
	}
	strbuf_adds(b, "]");
	out_time(b, "since", since > 0 ? since : 0);
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

const struct op usage_ops[] = {
	{"usage.report", usage_report, OP_ADMIN},
	{NULL, NULL, 0},
};
