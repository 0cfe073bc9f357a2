/* rule.add, rule.list, rule.delete: the auto-approval rules (rules.c),
 * admins only. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuaasd/job-reply.h"
#include "gpuaasd/rules.h"

#define RULE_NOTE_MAX 200

/* Each name of args[key] (an array, or one comma-separated string),
 * checked by check (which may rewrite it into out), joined "a,b" into buf;
 * NULL in *joined when absent. */
static enum status read_names(struct op_ctx *ctx, const char *key, char *buf, size_t size, const char **joined,
	enum status (*check)(struct op_ctx *ctx, const char *name, char *out, size_t outlen))
{
	const cJSON *v = json_get(ctx->args, key);
	*joined = NULL;
	if (!v || cJSON_IsNull(v))
		return ST_OK;
	char list[1024];
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof list)
		snprintf(list, sizeof list, "%s", v->valuestring);
	else if (!cJSON_IsArray(v))
		return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' must be an array of names", key);
	size_t off = 0;
	char *save = NULL;
	const cJSON *it = cJSON_IsArray(v) ? v->child : NULL;
	for (char *tok = cJSON_IsString(v) ? strtok_r(list, ",", &save) : NULL; tok || it;
	     tok = tok ? strtok_r(NULL, ",", &save) : NULL) {
		const char *name = tok ? tok : cJSON_IsString(it) ? it->valuestring : "";
		char one[64];
		enum status st = check(ctx, name, one, sizeof one);
		if (st != ST_OK)
			return st;
		int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", one);
		if (n < 0 || (size_t)n >= size - off)
			return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' is too long", key);
		off += (size_t)n;
		it = it ? it->next : NULL;
	}
	*joined = off ? buf : NULL;
	return ST_OK;
}

static enum status check_type(struct op_ctx *ctx, const char *name, char *out, size_t outlen)
{
	char types[512], clip[48];
	int idx = utf8_valid(name, strlen(name)) ? inventory_find(&ctx->d->inv, name) : -1;
	if (idx < 0)
		return op_fail(ctx, ST_BAD_REQUEST, "unknown GPU type '%s'; valid types: %s",
			utf8_valid(name, strlen(name)) ? op_clip(name, 32, clip, sizeof clip) : "?",
			inventory_type_list(&ctx->d->inv, types, sizeof types));
	snprintf(out, outlen, "%s", ctx->d->inv.types[idx].name);
	return ST_OK;
}

static enum status check_user(struct op_ctx *ctx, const char *name, char *out, size_t outlen)
{
	struct user_row u;
	char clip[48];
	int rc = utf8_valid(name, strlen(name)) ? db_user_by_name(ctx->d->db, name, &u) : DB_NOTFOUND;
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND)
		return op_fail(ctx, ST_NOT_FOUND, "no user '%s'",
			utf8_valid(name, strlen(name)) ? op_clip(name, 40, clip, sizeof clip) : "?");
	snprintf(out, outlen, "%s", u.username);
	return ST_OK;
}

/* A comma list as a JSON array of strings, or null. */
static void out_names(struct strbuf *b, const char *key, const char *list)
{
	out_key(b, key);
	if (!list) {
		strbuf_adds(b, "null");
		return;
	}
	strbuf_addc(b, '[');
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[128];
		snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), p);
		strbuf_adds(b, p == list ? "" : ",");
		strbuf_add_json_str(b, one);
		p += len + (comma ? 1 : 0);
	}
	strbuf_addc(b, ']');
}

struct rule_out {
	struct strbuf *b;
	int64_t only; /* 0: every rule */
	int n;
};

static int rule_cb(void *arg, const struct rule_row *r)
{
	struct rule_out *o = arg;
	struct strbuf *b = o->b;
	if (o->only && r->id != o->only)
		return 0;
	strbuf_adds(b, o->n++ ? ",{\"id\":" : "{\"id\":");
	strbuf_add_int(b, r->id);
	out_names(b, "gpu_types", r->gpu_types);
	out_opt_int(b, "max_count", r->max_count > 0, r->max_count);
	out_opt_int(b, "max_time", r->max_time > 0, r->max_time);
	out_names(b, "users", r->users);
	out_str(b, "scope", r->scope);
	out_opt_int(b, "daily_cap", r->daily_cap > 0, r->daily_cap);
	out_str(b, "note", r->note ? r->note : "");
	out_time(b, "created_at", r->created_at);
	out_str(b, "created_by", r->created_by);
	strbuf_addc(b, '}');
	return b->failed ? -1 : 0;
}

/* The rule object of a rule just added. */
static enum status reply_rule(struct op_ctx *ctx, int64_t id)
{
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	struct rule_out o = {.b = b, .only = id};
	if (db_rule_list(ctx->d->db, rule_cb, &o) < 0)
		return op_db_error(ctx);
	return b->failed || o.n != 1 ? op_fail(ctx, ST_INTERNAL, "rule %lld not found after adding it", (long long)id)
				     : ST_OK;
}

static enum status rule_list(struct op_ctx *ctx)
{
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "{\"rules\":[");
	struct rule_out o = {.b = b};
	if (db_rule_list(ctx->d->db, rule_cb, &o) < 0)
		return op_db_error(ctx);
	strbuf_adds(b, "]}");
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

static enum status rule_add(struct op_ctx *ctx)
{
	struct rule_row r = {.scope = "non_admins", .created_at = op_now()};
	char types[512], users[1024];
	const char *scope = NULL;
	enum status st;
	if ((st = read_names(ctx, "gpu_types", types, sizeof types, &r.gpu_types, check_type)) != ST_OK ||
	    (st = read_names(ctx, "users", users, sizeof users, &r.users, check_user)) != ST_OK ||
	    (st = arg_int(ctx, "max_count", false, 1, 1000000, &r.max_count)) != ST_OK ||
	    (st = arg_int(ctx, "max_time", false, 1, DURATION_MAX, &r.max_time)) != ST_OK ||
	    (st = arg_int(ctx, "daily_cap", false, 1, DB_QUOTA_MAX, &r.daily_cap)) != ST_OK ||
	    (st = arg_str(ctx, "note", false, RULE_NOTE_MAX, true, &r.note)) != ST_OK ||
	    (st = arg_str(ctx, "scope", false, 16, true, &scope)) != ST_OK)
		return st;
	if (scope && strcmp(scope, "all") != 0 && strcmp(scope, "non_admins") != 0)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'scope' must be all or non_admins (or give users)");
	if (r.users && scope)
		return op_fail(ctx, ST_BAD_REQUEST, "give either users or scope, not both");
	r.scope = r.users ? "users" : scope ? scope : "non_admins";
	int64_t id = 0;
	if ((st = rules_add(ctx->d, &ctx->user, &r, &id, ctx->err, sizeof ctx->err)) != ST_OK)
		return st == ST_INTERNAL ? op_db_error(ctx) : st;
	return reply_rule(ctx, id);
}

static enum status rule_delete(struct op_ctx *ctx)
{
	int64_t id;
	enum status st = arg_int(ctx, "id", true, 1, JSON_INT_MAX, &id);
	if (st != ST_OK)
		return st;
	st = rules_delete(ctx->d, &ctx->user, id, ctx->err, sizeof ctx->err);
	if (st != ST_OK)
		return st == ST_INTERNAL ? op_db_error(ctx) : st;
	cJSON *data = op_data(ctx);
	if (!data || !json_add_int(data, "id", id) || !cJSON_AddTrueToObject(data, "deleted"))
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	return ST_OK;
}

const struct op rule_ops[] = {
	{"rule.add", rule_add, OP_ADMIN | OP_WRITE},
	{"rule.delete", rule_delete, OP_ADMIN | OP_WRITE},
	{"rule.list", rule_list, OP_ADMIN},
	{NULL, NULL, 0},
};
