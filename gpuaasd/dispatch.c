/* The request path: envelope -> op lookup -> token -> role -> handler, in
 * that order and only here; replies produced while the batch transaction is
 * open are held until its commit. */
#include "gpuaasd/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "gpuaasd/batch.h"
#include "gpuaasd/db.h"
#include "gpuaasd/hasher.h"
#include "gpuaasd/ops.h"

struct held {
	struct op_ctx *ctx;
	enum status st;
};

struct dispatcher {
	struct daemon *d;
	const struct op **ops; /* sorted by name */
	size_t nops;
	struct held *held; /* replies waiting for the batch commit */
	size_t nheld, capheld;
};

static int op_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct op *const *)a)->name, (*(const struct op *const *)b)->name);
}

struct dispatcher *dispatch_create(struct daemon *d)
{
	struct dispatcher *disp = calloc(1, sizeof *disp);
	if (!disp)
		return NULL;
	disp->d = d;
	const struct op *tables[] = {sys_ops, auth_ops, user_ops, job_ops, wait_ops, gpu_ops, event_ops, rule_ops,
		queue_ops, usage_ops};
	size_t n = 0;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const struct op *o = tables[t]; o->name; o++)
			n++;
	disp->ops = calloc(n, sizeof *disp->ops);
	if (!disp->ops) {
		free(disp);
		return NULL;
	}
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
		for (const struct op *o = tables[t]; o->name; o++)
			disp->ops[disp->nops++] = o;
	qsort(disp->ops, disp->nops, sizeof *disp->ops, op_cmp);
	return disp;
}

static const struct op *op_lookup(const struct dispatcher *disp, const char *name)
{
	struct op key = {.name = name};
	const struct op *kp = &key;
	const struct op **found = bsearch(&kp, disp->ops, disp->nops, sizeof *disp->ops, op_cmp);
	return found ? *found : NULL;
}

/* ---- replies --------------------------------------------------------------- */

static void ctx_free(struct op_ctx *ctx)
{
	if (!ctx)
		return;
	cJSON_Delete(ctx->root);
	cJSON_Delete(ctx->data);
	if (ctx->raw) {
		strbuf_finish(ctx->raw);
		free(ctx->raw);
	}
	free(ctx);
}

/* The fast path for data written as text: no tree, and no copy. The frame
 * header and the envelope go into the room op_raw left in front of the
 * data, right against it. */
static bool send_raw_reply(struct op_ctx *ctx)
{
	struct strbuf *raw = ctx->raw;
	char head[OP_RAW_HEAD];
	int h = ctx->has_id ? snprintf(head, sizeof head, "{\"id\":%lld,\"ok\":true,\"data\":", (long long)ctx->req_id)
			    : snprintf(head, sizeof head, "{\"id\":null,\"ok\":true,\"data\":");
	if (h < 0 || (size_t)h + FRAME_HEADER > OP_RAW_HEAD || raw->len < OP_RAW_HEAD)
		return false;
	strbuf_addc(raw, '}');
	size_t skip = OP_RAW_HEAD - (size_t)h - FRAME_HEADER, len = raw->len - skip - FRAME_HEADER;
	if (raw->failed || len > FRAME_MAX)
		return false;
	memcpy(raw->data + OP_RAW_HEAD - h, head, (size_t)h);
	struct request *r = ctx->req;
	char *buf = raw->data;
	raw->data = NULL; /* the server owns it now */
	ctx_free(ctx);
	server_request_complete_at(r, buf, skip, len);
	return true;
}

/* Serializes the reply and hands it to the server; frees ctx. */
static void send_reply(struct op_ctx *ctx, enum status st)
{
	struct request *r = ctx->req;
	if (st == ST_OK && ctx->raw && !ctx->raw->failed) {
		if (send_raw_reply(ctx))
			return;
		st = op_fail(ctx, ST_INTERNAL, "reply too large");
	}
	cJSON *reply = cJSON_CreateObject();
	char *text = NULL;
	if (!reply)
		goto out;
	if (ctx->has_id)
		json_add_int(reply, "id", ctx->req_id);
	else
		cJSON_AddNullToObject(reply, "id");
	if (st == ST_OK) {
		cJSON_AddTrueToObject(reply, "ok");
		cJSON_AddItemToObject(reply, "data", ctx->data ? ctx->data : cJSON_CreateObject());
		ctx->data = NULL;
	} else {
		cJSON_AddFalseToObject(reply, "ok");
		cJSON *e = cJSON_AddObjectToObject(reply, "error");
		if (e) {
			cJSON_AddStringToObject(e, "code", status_code(st));
			cJSON_AddStringToObject(e, "message", ctx->err[0] ? ctx->err : status_message(st));
		}
	}
	text = cJSON_PrintUnformatted(reply);
	if (text && strlen(text) > FRAME_MAX) {
		free(text);
		log_event(LOG_ERROR, "reply.too_large", "op=%s", ctx->op ? ctx->op->name : "?");
		char msg[160];
		snprintf(msg, sizeof msg,
			"{\"id\":%lld,\"ok\":false,\"error\":{\"code\":\"INTERNAL\",\"message\":\"reply too large\"}}",
			(long long)ctx->req_id);
		text = strdup(msg);
	}
out:;
	char *frame = NULL;
	size_t len = 0;
	if (text) {
		len = strlen(text);
		frame = server_reply_alloc(len);
		if (frame)
			memcpy(frame + FRAME_HEADER, text, len);
	}
	free(text);
	cJSON_Delete(reply);
	ctx_free(ctx);
	server_request_complete(r, frame, len);
}

/* Every reply produced while a batch is open waits for its commit: a reader
 * must not see, and a writer must not be told about, what could still be
 * rolled back. */
static void finish(struct dispatcher *disp, struct op_ctx *ctx, enum status st)
{
	if (!batch_is_open(disp->d->batch)) {
		send_reply(ctx, st);
		return;
	}
	if (disp->nheld == disp->capheld) {
		size_t n = disp->capheld ? disp->capheld * 2 : 64;
		struct held *nh = realloc(disp->held, n * sizeof *nh);
		if (!nh) {
			send_reply(ctx, op_fail(ctx, ST_INTERNAL, "out of memory"));
			return;
		}
		disp->held = nh;
		disp->capheld = n;
	}
	disp->held[disp->nheld++] = (struct held){ctx, st};
}

/* Runs one step of a request: the handler, or an async continuation. A
 * write runs as one unit of the batch: when it fails, what it wrote is
 * undone and the rest of the batch stays. */
static void run_step(struct dispatcher *disp, struct op_ctx *ctx, op_handler fn, op_hash_cont cont, bool ok,
	bool error, const char *hash)
{
	bool write = ctx->op->flags & OP_WRITE;
	struct batch *batch = disp->d->batch;
	if (write && batch_enter(batch) < 0) {
		finish(disp, ctx, op_db_error(ctx));
		return;
	}
	enum status st = fn ? fn(ctx) : cont(ctx, ok, error, hash);
	if (write && batch_leave(batch, st == ST_OK || st == OP_PENDING) < 0 && st != OP_PENDING)
		st = op_db_error(ctx);
	if (st != OP_PENDING)
		finish(disp, ctx, st);
}

static void hash_done(void *arg, bool ok, bool error, const char *hash)
{
	struct op_ctx *ctx = arg;
	op_hash_cont cont = ctx->cont;
	ctx->cont = NULL;
	run_step(ctx->d->disp, ctx, NULL, cont, ok, error, hash);
}

enum status op_hash(struct op_ctx *ctx, const char *password, op_hash_cont cont)
{
	ctx->cont = cont;
	if (hasher_hash(ctx->d->hasher, password, (int)ctx->d->cfg.bcrypt_cost, hash_done, ctx) < 0)
		return op_fail(ctx, ST_UNAVAILABLE, "too many password operations in progress; try again later");
	return OP_PENDING;
}

enum status op_verify(struct op_ctx *ctx, const char *password, const char *stored, op_hash_cont cont)
{
	ctx->cont = cont;
	if (hasher_verify(ctx->d->hasher, password, stored, hash_done, ctx) < 0)
		return op_fail(ctx, ST_UNAVAILABLE, "too many password operations in progress; try again later");
	return OP_PENDING;
}

void op_finish(struct op_ctx *ctx, enum status st)
{
	finish(ctx->d->disp, ctx, st);
}

/* ---- the gates ----------------------------------------------------------- */

/* The token names the user; everything else comes from the database, so a
 * deleted account, a changed password or role takes effect at once. */
static enum status check_user(struct op_ctx *ctx)
{
	int rc = db_user_by_id(ctx->d->db, ctx->claims.uid, &ctx->user);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND || strcmp(ctx->user.username, ctx->claims.username) != 0)
		return op_fail(ctx, ST_UNAUTHENTICATED, "token of a deleted user: run `gpuctl login`");
	if (ctx->user.token_version != ctx->claims.token_version)
		return op_fail(ctx, ST_UNAUTHENTICATED,
			"token revoked (the password was changed): run `gpuctl login`");
	return ST_OK;
}

static enum status authenticate(struct op_ctx *ctx)
{
	const char *token = NULL;
	enum json_field f = json_get_str(ctx->root, "token", 8192, true, &token);
	if (f == JSON_FIELD_MISSING)
		return op_fail(ctx, ST_UNAUTHENTICATED, "not logged in: a token is required for %s", ctx->op->name);
	if (f != JSON_FIELD_OK)
		return op_fail(ctx, ST_UNAUTHENTICATED, "invalid token");
	const char *why = NULL;
	size_t len = strlen(token);
	if (token_cache_get(&ctx->d->tokens, token, len, &ctx->claims)) {
		if (!auth_claims_current(&ctx->claims, op_now(), &why))
			return op_fail(ctx, ST_UNAUTHENTICATED, "%s", why);
	} else {
		if (auth_token_verify(&ctx->d->key, token, op_now(), &ctx->claims, &why) != ST_OK)
			return op_fail(ctx, ST_UNAUTHENTICATED, "%s", why ? why : "invalid token");
		token_cache_put(&ctx->d->tokens, token, len, &ctx->claims);
	}
	return check_user(ctx);
}

enum status op_recheck(struct op_ctx *ctx)
{
	if (ctx->op->flags & OP_NO_AUTH)
		return ST_OK;
	if (ctx->claims.exp <= op_now())
		return op_fail(ctx, ST_UNAUTHENTICATED, "token expired while waiting: run `gpuctl login`");
	enum status st = check_user(ctx);
	if (st == ST_OK && (ctx->op->flags & OP_ADMIN) && !ctx->user.is_admin)
		st = op_fail(ctx, ST_FORBIDDEN, "%s needs the admin role", ctx->op->name);
	return st;
}

/* The envelope: {id?, v?, op, args?, token?}. Sets ctx->op and ctx->args. */
static enum status read_envelope(struct dispatcher *disp, struct op_ctx *ctx, const char *payload, size_t len)
{
	ctx->root = json_parse_strict(payload, len);
	if (!cJSON_IsObject(ctx->root))
		return op_fail(ctx, ST_BAD_REQUEST,
			"request is not a JSON object (or holds invalid UTF-8 or a duplicate key)");
	int64_t id;
	enum json_field f = json_get_int(ctx->root, "id", -JSON_INT_MAX, JSON_INT_MAX, &id);
	if (f == JSON_FIELD_BAD)
		return op_fail(ctx, ST_BAD_REQUEST, "'id' must be an integer");
	if (f == JSON_FIELD_OK) {
		ctx->req_id = id;
		ctx->has_id = true;
	}
	int64_t v = 1;
	if (json_get_int(ctx->root, "v", 0, JSON_INT_MAX, &v) == JSON_FIELD_BAD || v != 1)
		return op_fail(ctx, ST_BAD_REQUEST, "unsupported protocol version: only \"v\": 1 is known");
	const char *opname = NULL;
	if (json_get_str(ctx->root, "op", 64, true, &opname) != JSON_FIELD_OK)
		return op_fail(ctx, ST_BAD_REQUEST, "'op' must be a string naming an operation");
	ctx->op = op_lookup(disp, opname);
	if (!ctx->op)
		return op_fail(ctx, ST_BAD_REQUEST, "unknown op '%s'", opname);
	cJSON *args = json_get(ctx->root, "args");
	if (!args || cJSON_IsNull(args)) {
		cJSON *empty = cJSON_CreateObject();
		bool placed = empty && (args ? cJSON_ReplaceItemViaPointer(ctx->root, args, empty)
					     : cJSON_AddItemToObject(ctx->root, "args", empty));
		if (!placed) {
			cJSON_Delete(empty);
			return op_fail(ctx, ST_INTERNAL, "out of memory");
		}
		args = empty;
	}
	if (!cJSON_IsObject(args))
		return op_fail(ctx, ST_BAD_REQUEST, "'args' must be an object");
	ctx->args = args;
	return ST_OK;
}

void dispatch_request(void *data, struct request *r, const char *payload, size_t len)
{
	struct dispatcher *disp = data;
	struct op_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx) {
		server_request_complete(r, NULL, 0);
		return;
	}
	ctx->d = disp->d;
	ctx->req = r;
	r->ctx = ctx;
	enum status st = read_envelope(disp, ctx, payload, len);
	if (st == ST_OK && !(ctx->op->flags & OP_NO_AUTH)) {
		st = authenticate(ctx);
		if (st == ST_OK && (ctx->op->flags & OP_ADMIN) && !ctx->user.is_admin)
			st = op_fail(ctx, ST_FORBIDDEN, "%s needs the admin role", ctx->op->name);
	}
	if (st != ST_OK) {
		finish(disp, ctx, st);
		return;
	}
	run_step(disp, ctx, ctx->op->handler, NULL, false, false, NULL);
}

void dispatch_after_commit(struct dispatcher *disp, enum batch_result result)
{
	if (result == BATCH_FAILED || result == BATCH_FAILED_TRANSIENT) {
		bool transient = result == BATCH_FAILED_TRANSIENT;
		for (size_t i = 0; i < disp->nheld; i++) {
			struct op_ctx *ctx = disp->held[i].ctx;
			if (ctx->op && (ctx->op->flags & OP_WRITE) && disp->held[i].st == ST_OK) {
				cJSON_Delete(ctx->data);
				ctx->data = NULL;
				disp->held[i].st = op_fail(ctx, transient ? ST_UNAVAILABLE : ST_INTERNAL,
					"could not commit to the database%s; nothing was changed",
					transient ? " (disk full or read-only)" : "");
			}
		}
	}
	size_t n = disp->nheld;
	struct held *list = disp->held;
	disp->held = NULL;
	disp->nheld = disp->capheld = 0;
	for (size_t i = 0; i < n; i++)
		send_reply(list[i].ctx, list[i].st);
	free(list);
}

void dispatch_destroy(struct dispatcher *disp)
{
	if (!disp)
		return;
	dispatch_after_commit(disp, BATCH_EMPTY);
	free(disp->ops);
	free(disp);
}
