/* job.submit (with its dry run and the auto-approval rules), job.list
 * (with the admin's approval inbox), job.get, job.cancel, and job.approve /
 * job.reject for one job or in bulk. Job objects are written by
 * job-reply.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuaasd/estimate.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/job-reply.h"
#include "gpuaasd/jobs.h"
#include "gpuaasd/rules.h"
#include "gpuaasd/sched.h"

#define NAME_MAX_LEN 128
#define REASON_MAX_LEN 500
#define COMMAND_MAX_ARGS 4096
#define COMMAND_MAX_BYTES (256 * 1024)
/* Keep list replies under the 1 MiB frame limit; the rest is paged. */
#define LIST_BUDGET (900 * 1024)
/* Jobs one bulk approve or reject acts on at most. */
#define BULK_MAX 10000

/* ---- submit ---------------------------------------------------------------- */

/* An argument as the compact JSON stored with the job (*out malloc'd), at
 * most max bytes. */
static enum status compact_json(struct op_ctx *ctx, const cJSON *item, const char *name, size_t max, char **out)
{
	char *text = cJSON_PrintUnformatted(item);
	if (!text)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	if (strlen(text) > max) {
		free(text);
		return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' is over %zu bytes", name, max);
	}
	*out = text;
	return ST_OK;
}

static enum status read_command(struct op_ctx *ctx, char **out)
{
	*out = NULL;
	cJSON *cmd = json_get(ctx->args, "command");
	if (!cmd || cJSON_IsNull(cmd))
		return ST_OK;
	if (!cJSON_IsArray(cmd))
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' must be an array of strings or null");
	int n = cJSON_GetArraySize(cmd);
	if (n < 1 || n > COMMAND_MAX_ARGS)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' must have 1 to %d strings", COMMAND_MAX_ARGS);
	const cJSON *it;
	cJSON_ArrayForEach(it, cmd)
	{
		if (!cJSON_IsString(it) || !it->valuestring || !utf8_valid(it->valuestring, strlen(it->valuestring)))
			return op_fail(ctx, ST_BAD_REQUEST, "argument 'command' must hold only UTF-8 strings");
	}
	if (!cJSON_IsString(cmd->child) || !cmd->child->valuestring[0])
		return op_fail(ctx, ST_BAD_REQUEST, "the command's program (first string) must not be empty");
	return compact_json(ctx, cmd, "command", COMMAND_MAX_BYTES, out);
}

#define ENV_MAX_VARS 128
#define ENV_MAX_BYTES (64 * 1024)

/* Variables the daemon sets for every job: a submit cannot override them. */
static bool env_reserved(const char *key)
{
	return strncmp(key, "GPUAAS_", 7) == 0 || strcmp(key, "CUDA_VISIBLE_DEVICES") == 0 ||
	       strcmp(key, "NVIDIA_VISIBLE_DEVICES") == 0;
}

static bool env_name_ok(const char *k)
{
	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_') || strlen(k) > 128)
		return false;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* args.env, an object of variable names to string values (submit --env /
 * --export), as compact JSON in *out (NULL when absent). */
static enum status read_env(struct op_ctx *ctx, char **out)
{
	const cJSON *env = json_get(ctx->args, "env");
	*out = NULL;
	if (!env || cJSON_IsNull(env))
		return ST_OK;
	if (!cJSON_IsObject(env) || cJSON_GetArraySize(env) > ENV_MAX_VARS)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'env' must be an object of at most %d variables",
			ENV_MAX_VARS);
	const cJSON *it;
	cJSON_ArrayForEach(it, env)
	{
		if (!env_name_ok(it->string))
			return op_fail(ctx, ST_BAD_REQUEST, "environment variable names are letters, digits and '_'");
		if (env_reserved(it->string))
			return op_fail(ctx, ST_BAD_REQUEST, "%s is set by gpuaas for every job and cannot be given",
				it->string);
		if (!cJSON_IsString(it) || !utf8_valid(it->valuestring, strlen(it->valuestring)))
			return op_fail(ctx, ST_BAD_REQUEST, "environment variable %s must be a UTF-8 string", it->string);
	}
	return compact_json(ctx, env, "env", ENV_MAX_BYTES, out);
}

/* The GPU type a submit asks for: args.gpu_type, else --default-gpu,
 * else the first type. -1 with an error in ctx. */
static int submit_type(struct op_ctx *ctx)
{
	struct daemon *d = ctx->d;
	const char *type = NULL;
	char types[512], clip[48];
	inventory_type_list(&d->inv, types, sizeof types);
	if (arg_str(ctx, "gpu_type", false, 64, true, &type) != ST_OK) {
		op_fail(ctx, ST_BAD_REQUEST, "argument 'gpu_type' must be a string; valid types: %s", types);
		return -1;
	}
	if (!type)
		type = d->cfg.default_gpu;
	int idx = type ? inventory_find(&d->inv, type) : 0;
	if (idx < 0)
		op_fail(ctx, ST_BAD_REQUEST, "unknown GPU type '%s'; valid types: %s", op_clip(type, 32, clip, sizeof clip),
			types);
	return idx;
}

/* Reads and checks the arguments of a submit into req (*command, *env:
 * owned by the caller). */
static enum status submit_args(struct op_ctx *ctx, struct job_request *req, char **command, char **env)
{
	struct daemon *d = ctx->d;
	const char *name = "", *chdir = NULL;
	int64_t sim_run = 0;
	int64_t count = 1, limit = d->cfg.default_time;
	char a[32];
	enum status st;
	int type_idx = submit_type(ctx);
	if (type_idx < 0)
		return ST_BAD_REQUEST;
	if ((st = arg_str(ctx, "name", false, NAME_MAX_LEN, true, &name)) != ST_OK)
		return st;
	int total = d->inv.types[type_idx].total;
	if (json_get_int(ctx->args, "gpu_count", -JSON_INT_MAX, JSON_INT_MAX, &count) == JSON_FIELD_BAD ||
	    count < 1 || count > total)
		return op_fail(ctx, ST_BAD_REQUEST, "gpu_count must be from 1 to %d (the %s GPUs in the inventory)",
			total, d->inv.types[type_idx].name);
	if (json_get_int(ctx->args, "time_limit", -JSON_INT_MAX, JSON_INT_MAX, &limit) == JSON_FIELD_BAD ||
	    limit < 1 || limit > d->cfg.max_time)
		return op_fail(ctx, ST_BAD_REQUEST, "time_limit must be from 1s to %s (%lld seconds)",
			duration_format(d->cfg.max_time, a, sizeof a), (long long)d->cfg.max_time);
	if ((st = read_command(ctx, command)) != ST_OK || (st = read_env(ctx, env)) != ST_OK ||
	    (st = arg_str(ctx, "chdir", false, 4096, true, &chdir)) != ST_OK)
		return st;
	if (chdir && chdir[0] != '/')
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'chdir' must be an absolute path");
	if ((st = arg_int(ctx, "sim_run", false, 1, limit, &sim_run)) != ST_OK)
		return st;
	if (sim_run && !d->executor->simulates)
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'sim_run' is for simulated jobs (executor sim)");
	if (!*command && d->executor->needs_command)
		return op_fail(ctx, ST_BAD_REQUEST, "this daemon runs jobs for real (executor %s): give the "
			"command to run (gpuctl submit ... -- CMD [ARG...])", d->executor->name);
	*req = (struct job_request){.owner_id = ctx->user.id, .actor = ctx->user.username, .type_idx = type_idx,
		.gpu_count = count, .time_limit = limit, .name = name ? name : "", .command_json = *command,
		.workdir = chdir, .env_json = *env, .sim_run = sim_run};
	return ST_OK;
}

/* Which rule, if any, approves the job at once (why: a cap that stopped
 * one). */
static enum status submit_rule(struct op_ctx *ctx, const struct job_request *req, int64_t need, int64_t *rule_id,
	char *why, size_t whylen)
{
	struct rule_ask ask = {.owner = &ctx->user, .gpu_type = ctx->d->inv.types[req->type_idx].name,
		.gpu_count = req->gpu_count, .time_limit = req->time_limit, .reserved = need, .now = op_now()};
	*rule_id = 0;
	int rc = rules_match(ctx->d, &ask, rule_id, why, whylen);
	return rc < 0 ? op_db_error(ctx) : ST_OK;
}

/* What a submit would do, storing nothing: the reservation, the quota left
 * after it, the rule that would approve it, the estimated start. */
static enum status submit_dry_run(struct op_ctx *ctx, const struct job_request *req)
{
	int64_t need, after, rule = 0;
	char why[300];
	enum status st = jobs_reservation(ctx->d, req, &need, ctx->err, sizeof ctx->err);
	if (st == ST_OK)
		st = jobs_quota_check(ctx->d, req->owner_id, need, &after, ctx->err, sizeof ctx->err);
	if (st == ST_OK)
		st = submit_rule(ctx, req, need, &rule, why, sizeof why);
	if (st != ST_OK)
		return st == ST_INTERNAL ? op_db_error(ctx) : st;
	int64_t est = sched_estimate_new(ctx->d->sched, req->type_idx, (int)req->gpu_count);
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "{\"dry_run\":true");
	out_str(b, "gpu_type", ctx->d->inv.types[req->type_idx].name);
	out_int(b, "gpu_count", req->gpu_count);
	out_int(b, "time_limit", req->time_limit);
	out_int(b, "weight", ctx->d->inv.types[req->type_idx].weight);
	out_int(b, "reservation", need);
	out_int(b, "available_after", after);
	char by[32];
	snprintf(by, sizeof by, "rule:%lld", (long long)rule);
	out_str(b, "status", rule ? "APPROVED" : "PENDING");
	out_str(b, "auto_approved_by", rule ? by : NULL);
	out_str(b, "reason", rule ? NULL : why[0] ? why : "waiting for approval");
	out_time(b, "estimated_start", est == ESTIMATE_NEVER ? 0 : (est + 999) / 1000);
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

/* After the insert: approved at once by a matching rule, or left for a
 * person with the reason saying which rule's cap was used up. */
static enum status submit_approve(struct op_ctx *ctx, const struct job_request *req, int64_t id)
{
	int64_t need, rule = 0;
	char why[300], actor[32];
	enum status st = jobs_reservation(ctx->d, req, &need, ctx->err, sizeof ctx->err);
	if (st == ST_OK)
		st = submit_rule(ctx, req, need, &rule, why, sizeof why);
	if (st != ST_OK)
		return st;
	if (rule > 0) {
		snprintf(actor, sizeof actor, "rule:%lld", (long long)rule);
		struct approver by = {.user_id = 0, .rule_id = rule, .actor = actor};
		return sched_approve(ctx->d->sched, id, &by, ctx->err, sizeof ctx->err);
	}
	if (why[0]) {
		char reason[400];
		snprintf(reason, sizeof reason, "waiting for approval (%s)", why);
		if (db_job_set_pending_reason(ctx->d->db, id, reason) < 0)
			return ST_INTERNAL;
	}
	return ST_OK;
}

static enum status job_submit(struct op_ctx *ctx)
{
	struct job_request req;
	char *command = NULL, *env = NULL;
	bool dry_run = false;
	int64_t id = 0;
	enum status st = arg_bool(ctx, "dry_run", false, &dry_run);
	if (st == ST_OK)
		st = submit_args(ctx, &req, &command, &env);
	if (st == ST_OK && dry_run)
		st = submit_dry_run(ctx, &req);
	else if (st == ST_OK) {
		st = jobs_submit(ctx->d, &req, &id, ctx->err, sizeof ctx->err);
		if (st == ST_OK)
			st = submit_approve(ctx, &req, id);
		st = reply_changed(ctx, st, id);
	}
	free(command);
	free(env);
	return st;
}

/* ---- list ------------------------------------------------------------------- */

/* The approval inbox: what each owner has left and has used lately. */
struct owner_stats {
	int64_t owner_id;
	int64_t available;
	int64_t charged_30d;
};

struct list_ctx {
	struct op_ctx *ctx;
	struct strbuf *b;
	bool brief;
	bool inbox;
	int64_t limit;
	int64_t rows;
	int64_t last_id;
	bool more; /* rows are left after last_id: the page was full or cut */
	struct owner_stats owners[64]; /* a small cache: most inboxes have few owners */
	int nowners;
};

static const struct owner_stats *owner_stats(struct list_ctx *l, int64_t owner_id)
{
	for (int i = 0; i < l->nowners; i++)
		if (l->owners[i].owner_id == owner_id)
			return &l->owners[i];
	struct owner_stats *o = &l->owners[l->nowners < 64 ? l->nowners++ : 63];
	struct user_row u;
	*o = (struct owner_stats){.owner_id = owner_id};
	if (db_user_by_id(l->ctx->d->db, owner_id, &u) == 0)
		o->available = quota_available(u.quota, u.reserved);
	if (db_user_charged_since(l->ctx->d->db, owner_id, op_now() - 30 * 86400, &o->charged_30d) < 0)
		return NULL;
	return o;
}

static int list_cb(void *arg, const struct job_row *row)
{
	struct list_ctx *l = arg;
	/* The row past the limit, read only to know that more are left. */
	if (l->rows == l->limit) {
		l->more = true;
		return 1;
	}
	size_t before = l->b->len;
	if (l->rows > 0)
		strbuf_addc(l->b, ',');
	if (l->brief) {
		brief_write(l->b, row);
	} else if (l->inbox) {
		const struct owner_stats *o = owner_stats(l, row->owner_id);
		if (!o)
			return -1;
		job_write_open(l->b, l->ctx->d, row);
		job_write_expiry(l->b, l->ctx->d, row);
		out_int(l->b, "owner_available", o->available);
		out_int(l->b, "owner_charged_30d", o->charged_30d);
		strbuf_addc(l->b, '}');
	} else {
		job_write(l->b, l->ctx->d, row);
	}
	if (l->b->failed)
		return -1;
	/* Keep the reply inside one frame; the client pages on. */
	if (l->rows > 0 && l->b->len > LIST_BUDGET) {
		l->b->len = before;
		l->b->data[before] = '\0';
		l->more = true;
		return 1;
	}
	l->rows++;
	l->last_id = row->id;
	return 0;
}

static enum status parse_states(struct op_ctx *ctx, unsigned *mask)
{
	*mask = 0;
	cJSON *states = json_get(ctx->args, "states");
	if (!states || cJSON_IsNull(states))
		return ST_OK;
	char valid[] = "PENDING, APPROVED, RUNNING, COMPLETED, FAILED, CANCELLED, REJECTED, EXPIRED";
	if (cJSON_IsString(states)) {
		/* "RUNNING,PENDING" is accepted too. */
		char buf[256];
		if (!utf8_valid(states->valuestring, strlen(states->valuestring)))
			return op_fail(ctx, ST_BAD_REQUEST, "argument 'states' must be valid UTF-8");
		snprintf(buf, sizeof buf, "%s", states->valuestring);
		char *save = NULL;
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			enum job_state s;
			if (job_state_parse(tok, &s) < 0)
			{
				char clip[48];
				return op_fail(ctx, ST_BAD_REQUEST, "unknown state '%s'; valid states: %s",
					op_clip(tok, 32, clip, sizeof clip), valid);
			}
			*mask |= 1u << s;
		}
		return ST_OK;
	}
	if (!cJSON_IsArray(states))
		return op_fail(ctx, ST_BAD_REQUEST, "argument 'states' must be an array of state names");
	const cJSON *it;
	cJSON_ArrayForEach(it, states)
	{
		enum job_state s;
		if (!cJSON_IsString(it) || job_state_parse(it->valuestring, &s) < 0)
			return op_fail(ctx, ST_BAD_REQUEST, "unknown state in 'states'; valid states: %s", valid);
		*mask |= 1u << s;
	}
	return ST_OK;
}

/* Whose jobs a list shows: the caller's, everybody's (all), or one user's
 * (admins only). */
static enum status list_owner(struct op_ctx *ctx, bool all, const char *user, int64_t *owner_id)
{
	*owner_id = all ? 0 : ctx->user.id;
	if ((all || user) && !ctx->user.is_admin)
		return op_fail(ctx, ST_FORBIDDEN, "only admins can list other users' jobs");
	if (!user)
		return ST_OK;
	struct user_row u;
	char clip[48];
	int rc = db_user_by_name(ctx->d->db, user, &u);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND)
		return op_fail(ctx, ST_NOT_FOUND, "no user '%s'", op_clip(user, 40, clip, sizeof clip));
	*owner_id = u.id;
	return ST_OK;
}

static enum status job_list(struct op_ctx *ctx)
{
	bool all = false, brief = false, inbox = false;
	const char *user = NULL;
	int64_t limit = 50, before = 0;
	enum status st;
	if ((st = arg_bool(ctx, "all", false, &all)) != ST_OK ||
	    (st = arg_bool(ctx, "brief", false, &brief)) != ST_OK ||
	    (st = arg_bool(ctx, "inbox", false, &inbox)) != ST_OK ||
	    (st = arg_str(ctx, "user", false, 64, true, &user)) != ST_OK ||
	    (st = arg_int(ctx, "limit", false, 1, 1000000, &limit)) != ST_OK ||
	    (st = arg_int(ctx, "before_id", false, 1, JSON_INT_MAX, &before)) != ST_OK)
		return st;
	/* One row more than asked says whether any are left. */
	struct job_filter f = {.before_id = before, .limit = limit + 1, .brief = brief && !inbox};
	if ((st = parse_states(ctx, &f.state_mask)) != ST_OK ||
	    (st = list_owner(ctx, all || (inbox && !user), user, &f.owner_id)) != ST_OK)
		return st;
	if (inbox)
		f.state_mask = 1u << JOB_PENDING;
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return ST_INTERNAL;
	/* Room for a page of typical rows at once: growing by doubling from
	 * 256 bytes copied a 50-row reply five times over. Capped: a huge limit
	 * with few rows must not cost a huge allocation. */
	if (!strbuf_room(b, (size_t)(limit < 200 ? limit : 200) * (f.brief ? 200 : 600)))
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	strbuf_adds(b, "{\"jobs\":[");
	struct list_ctx l = {.ctx = ctx, .b = b, .brief = f.brief, .inbox = inbox, .limit = limit};
	if (db_job_list(ctx->d->db, &f, list_cb, &l) < 0)
		return op_db_error(ctx);
	/* Rows are left (past the limit, or past what fits one frame): the
	 * client asks again from here, and can before reading this page. */
	strbuf_adds(b, "],\"next_before_id\":");
	if (l.more)
		strbuf_add_int(b, l.last_id);
	else
		strbuf_adds(b, "null");
	strbuf_addc(b, '}');
	return b->failed ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

static enum status job_get(struct op_ctx *ctx)
{
	int64_t id;
	enum status st = arg_job_id(ctx, &id);
	if (st != ST_OK)
		return st;
	return reply_job(ctx, id);
}

static enum status job_cancel(struct op_ctx *ctx)
{
	int64_t id;
	char reason[160];
	enum status st = arg_job_id(ctx, &id);
	if (st != ST_OK)
		return st;
	if ((st = job_read(ctx, id, JOB_REPLY_NONE, NULL)) != ST_OK)
		return st;
	snprintf(reason, sizeof reason, "cancelled by %s", ctx->user.username);
	return reply_changed(ctx, sched_cancel(ctx->d->sched, id, ctx->user.username, reason, ctx->err,
		sizeof ctx->err), id);
}

/* ---- approve and reject, one job or in bulk -------------------------------- */

struct id_set {
	int64_t ids[BULK_MAX];
	int n;
	int type_idx; /* -1: any */
	struct daemon *d;
};

static int collect_pending(void *arg, const struct job_row *row)
{
	struct id_set *set = arg;
	if (set->type_idx >= 0 && inventory_find(&set->d->inv, row->gpu_type) != set->type_idx)
		return 0;
	if (set->n == BULK_MAX)
		return 1;
	set->ids[set->n++] = row->id;
	return 0;
}

/* The jobs a bulk action names: args.ids, or every PENDING job (oldest
 * first) of args.user and/or args.gpu_type with args.all_pending. */
static enum status bulk_ids(struct op_ctx *ctx, struct id_set *set)
{
	const cJSON *ids = json_get(ctx->args, "ids");
	set->n = 0;
	set->d = ctx->d;
	if (ids && !cJSON_IsNull(ids)) {
		if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) < 1 || cJSON_GetArraySize(ids) > BULK_MAX)
			return op_fail(ctx, ST_BAD_REQUEST, "argument 'ids' must be an array of 1 to %d job ids", BULK_MAX);
		const cJSON *it;
		cJSON_ArrayForEach(it, ids)
		{
			double v = it->valuedouble;
			if (!cJSON_IsNumber(it) || (it->type & JSON_NOT_INT) || v != (double)(int64_t)v || v < 1 ||
			    v > (double)JSON_INT_MAX)
				return op_fail(ctx, ST_BAD_REQUEST, "argument 'ids' must hold job ids (positive integers)");
			set->ids[set->n++] = (int64_t)v;
		}
		return ST_OK;
	}
	const char *user = NULL, *type = NULL;
	int64_t owner = 0;
	enum status st;
	if ((st = arg_str(ctx, "user", false, 64, true, &user)) != ST_OK ||
	    (st = arg_str(ctx, "gpu_type", false, 64, true, &type)) != ST_OK ||
	    (st = list_owner(ctx, true, user, &owner)) != ST_OK)
		return st;
	char clip[48];
	set->type_idx = type ? inventory_find(&ctx->d->inv, type) : -1;
	if (type && set->type_idx < 0)
		return op_fail(ctx, ST_BAD_REQUEST, "unknown GPU type '%s'", op_clip(type, 32, clip, sizeof clip));
	struct job_filter f = {.owner_id = owner, .limit = 1000000, .state_mask = 1u << JOB_PENDING};
	if (db_job_list(ctx->d->db, &f, collect_pending, set) < 0)
		return op_db_error(ctx);
	for (int i = 0; i < set->n / 2; i++) { /* newest first -> oldest first */
		int64_t t = set->ids[i];
		set->ids[i] = set->ids[set->n - 1 - i];
		set->ids[set->n - 1 - i] = t;
	}
	return ST_OK;
}

typedef enum status (*bulk_fn)(struct op_ctx *ctx, int64_t id, const char *reason, char *msg, size_t msglen);

/* Acts on every job of the set in this one request (one commit):
 * {"jobs": [ids acted on], "failed": [{id, code, message}]}. */
static enum status bulk_run(struct op_ctx *ctx, const struct id_set *set, bulk_fn fn, const char *reason)
{
	struct strbuf *b = op_raw(ctx);
	if (!b)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	struct strbuf failed;
	strbuf_init(&failed, 0);
	strbuf_adds(b, "{\"jobs\":[");
	int done = 0, nfailed = 0;
	for (int i = 0; i < set->n; i++) {
		char msg[512];
		enum status st = fn(ctx, set->ids[i], reason, msg, sizeof msg);
		if (st == ST_INTERNAL) {
			strbuf_finish(&failed);
			return op_db_error(ctx);
		}
		if (st == ST_OK) {
			strbuf_adds(b, done++ ? "," : "");
			strbuf_add_int(b, set->ids[i]);
			continue;
		}
		strbuf_adds(&failed, nfailed++ ? ",{\"id\":" : "{\"id\":");
		strbuf_add_int(&failed, set->ids[i]);
		out_str(&failed, "code", status_code(st));
		out_str(&failed, "message", msg);
		strbuf_addc(&failed, '}');
	}
	strbuf_adds(b, "],\"failed\":[");
	strbuf_add(b, failed.data ? failed.data : "", failed.len);
	strbuf_adds(b, "]}");
	bool oom = failed.failed || b->failed;
	strbuf_finish(&failed);
	return oom ? op_fail(ctx, ST_INTERNAL, "out of memory") : ST_OK;
}

static enum status approve_one(struct op_ctx *ctx, int64_t id, const char *reason, char *msg, size_t msglen)
{
	(void)reason;
	struct approver by = {.user_id = ctx->user.id, .rule_id = 0, .actor = ctx->user.username};
	return sched_approve(ctx->d->sched, id, &by, msg, msglen);
}

static enum status reject_one(struct op_ctx *ctx, int64_t id, const char *reason, char *msg, size_t msglen)
{
	return jobs_reject(ctx->d, id, ctx->user.username, reason, msg, msglen);
}

/* One job (args.id: the job as it is now) or many (args.ids or
 * args.all_pending: the ids acted on). */
static enum status approve_or_reject(struct op_ctx *ctx, bulk_fn fn)
{
	const char *reason = NULL;
	bool all_pending = false;
	enum status st;
	if ((st = arg_str(ctx, "reason", false, REASON_MAX_LEN, true, &reason)) != ST_OK ||
	    (st = arg_bool(ctx, "all_pending", false, &all_pending)) != ST_OK)
		return st;
	if (json_get(ctx->args, "id") || (!all_pending && !json_get(ctx->args, "ids"))) {
		int64_t id;
		if ((st = arg_job_id(ctx, &id)) != ST_OK)
			return st;
		return reply_changed(ctx, fn(ctx, id, reason, ctx->err, sizeof ctx->err), id);
	}
	struct id_set *set = malloc(sizeof *set);
	if (!set)
		return op_fail(ctx, ST_INTERNAL, "out of memory");
	st = bulk_ids(ctx, set);
	if (st == ST_OK)
		st = bulk_run(ctx, set, fn, reason);
	free(set);
	return st;
}

static enum status job_approve(struct op_ctx *ctx)
{
	return approve_or_reject(ctx, approve_one);
}

static enum status job_reject(struct op_ctx *ctx)
{
	return approve_or_reject(ctx, reject_one);
}

const struct op job_ops[] = {
	{"job.approve", job_approve, OP_ADMIN | OP_WRITE},
	{"job.cancel", job_cancel, OP_WRITE},
	{"job.get", job_get, 0},
	{"job.list", job_list, 0},
	{"job.reject", job_reject, OP_ADMIN | OP_WRITE},
	{"job.submit", job_submit, OP_WRITE},
	{NULL, NULL, 0},
};
