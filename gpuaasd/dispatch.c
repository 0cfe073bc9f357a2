#include "gpuaasd/dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/frame.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
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
	bool batch_open;
	bool batch_failed; /* BEGIN failed: writes of this round fail */
	struct held *held;
	size_t nheld, capheld;
	void (*on_commit)(struct daemon *d, bool committed);
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
	const struct op *tables[] = {sys_ops, auth_ops, user_ops, job_ops};
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

void dispatch_on_commit(struct dispatcher *disp, void (*cb)(struct daemon *d, bool committed))
{
	disp->on_commit = cb;
}

static const struct op *op_lookup(const struct dispatcher *disp, const char *name)
{
	struct op key = {.name = name};
	const struct op *kp = &key;
	const struct op **found = bsearch(&kp, disp->ops, disp->nops, sizeof *disp->ops, op_cmp);
	return found ? *found : NULL;
}

/* ---- helpers for handlers ------------------------------------------------ */

int64_t op_now(void)
{
	return (int64_t)time(NULL);
}

cJSON *op_data(struct op_ctx *ctx)
{
	if (!ctx->data)
		ctx->data = cJSON_CreateObject();
	return ctx->data;
}

struct strbuf *op_raw(struct op_ctx *ctx)
{
	if (!ctx->raw) {
		ctx->raw = malloc(sizeof *ctx->raw);
		if (!ctx->raw)
			return NULL;
		strbuf_init(ctx->raw, 0);
	}
	return ctx->raw;
}

enum status op_fail(struct op_ctx *ctx, enum status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
	return st;
}

enum status op_db_error(struct op_ctx *ctx)
{
	if (db_error_is_transient(ctx->d->db))
		return op_fail(ctx, ST_UNAVAILABLE, "database unavailable (disk full, read-only or locked); try again later");
	return op_fail(ctx, ST_INTERNAL, "database error");
}

static const char *field_problem(enum json_field f)
{
	return f == JSON_FIELD_MISSING ? "is required" : "has the wrong type or is out of range";
}

enum status arg_str(struct op_ctx *ctx, const char *key, bool required, size_t max_len, bool no_control,
	const char **out)
{
	enum json_field f = json_get_str(ctx->args, key, max_len, no_control, out);
	if (f == JSON_FIELD_OK || (f == JSON_FIELD_MISSING && !required))
		return ST_OK;
	if (f == JSON_FIELD_BAD)
		return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' must be a string of at most %zu bytes of valid UTF-8%s",
			key, max_len, no_control ? " without control characters" : "");
	return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' %s", key, field_problem(f));
}

enum status arg_int(struct op_ctx *ctx, const char *key, bool required, int64_t min, int64_t max, int64_t *out)
{
	enum json_field f = json_get_int(ctx->args, key, min, max, out);
	if (f == JSON_FIELD_OK || (f == JSON_FIELD_MISSING && !required))
		return ST_OK;
	if (f == JSON_FIELD_BAD)
		return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' must be an integer from %lld to %lld", key,
			(long long)min, (long long)max);
	return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' %s", key, field_problem(f));
}

enum status arg_bool(struct op_ctx *ctx, const char *key, bool required, bool *out)
{
	enum json_field f = json_get_bool(ctx->args, key, out);
	if (f == JSON_FIELD_OK || (f == JSON_FIELD_MISSING && !required))
		return ST_OK;
	if (f == JSON_FIELD_BAD)
		return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' must be true or false", key);
	return op_fail(ctx, ST_BAD_REQUEST, "argument '%s' %s", key, field_problem(f));
}

cJSON *quota_json(const struct user_row *u)
{
	cJSON *q = cJSON_CreateObject();
	if (!q)
		return NULL;
	int64_t avail = u->quota - u->reserved;
	cJSON_AddNumberToObject(q, "remaining", (double)u->quota);
	cJSON_AddNumberToObject(q, "reserved", (double)u->reserved);
	cJSON_AddNumberToObject(q, "available", (double)(avail > 0 ? avail : 0));
	return q;
}

cJSON *user_json(const struct user_row *u)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "username", u->username);
	cJSON_AddBoolToObject(o, "is_admin", u->is_admin);
	cJSON_AddItemToObject(o, "quota", quota_json(u));
	return o;
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

/* Serializes the reply and hands it to the server; frees ctx. */
/* The fast path for data written as text: no tree, one copy. */
static bool send_raw_reply(struct op_ctx *ctx)
{
	struct strbuf out;
	strbuf_init(&out, FRAME_HEADER);
	strbuf_adds(&out, "{\"id\":");
	if (ctx->has_id)
		strbuf_add_int(&out, ctx->req_id);
	else
		strbuf_adds(&out, "null");
	strbuf_adds(&out, ",\"ok\":true,\"data\":");
	strbuf_add(&out, ctx->raw->data, ctx->raw->len);
	strbuf_addc(&out, '}');
	if (out.failed || out.len - FRAME_HEADER > FRAME_MAX) {
		strbuf_finish(&out);
		return false;
	}
	struct request *r = ctx->req;
	size_t len = out.len - FRAME_HEADER;
	ctx_free(ctx);
	server_request_complete(r, out.data, len);
	return true;
}

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
		cJSON_AddNumberToObject(reply, "id", (double)ctx->req_id);
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
	if (!disp->batch_open) {
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

static bool ensure_batch(struct dispatcher *disp)
{
	if (disp->batch_open)
		return true;
	if (db_begin(disp->d->db) < 0)
		return false;
	disp->batch_open = true;
	return true;
}

/* Runs one step of a request: the handler, or an async continuation. */
static void run_step(struct dispatcher *disp, struct op_ctx *ctx, op_handler fn, op_hash_cont cont, bool ok,
	bool error, const char *hash)
{
	bool write = ctx->op->flags & OP_WRITE;
	enum status st;
	if (write) {
		if (!ensure_batch(disp)) {
			finish(disp, ctx, op_db_error(ctx));
			return;
		}
		if (db_savepoint(disp->d->db) < 0) {
			finish(disp, ctx, op_db_error(ctx));
			return;
		}
	}
	st = fn ? fn(ctx) : cont(ctx, ok, error, hash);
	if (write) {
		/* A failed request leaves nothing behind; others in the batch stay. */
		int rc = (st == ST_OK || st == OP_PENDING) ? db_release(disp->d->db) : db_rollback_to(disp->d->db);
		if (rc < 0 && st != OP_PENDING) {
			st = op_db_error(ctx);
		}
	}
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

static enum status authenticate(struct op_ctx *ctx)
{
	const char *token = NULL;
	enum json_field f = json_get_str(ctx->root, "token", 8192, true, &token);
	if (f == JSON_FIELD_MISSING)
		return op_fail(ctx, ST_UNAUTHENTICATED, "not logged in: a token is required for %s", ctx->op->name);
	if (f != JSON_FIELD_OK)
		return op_fail(ctx, ST_UNAUTHENTICATED, "invalid token");
	const char *why = NULL;
	if (auth_token_verify(&ctx->d->key, token, op_now(), &ctx->claims, &why) != ST_OK)
		return op_fail(ctx, ST_UNAUTHENTICATED, "%s", why ? why : "invalid token");
	/* The token only names the user; everything else comes from the DB. */
	int rc = db_user_by_id(ctx->d->db, ctx->claims.uid, &ctx->user);
	if (rc < 0)
		return op_db_error(ctx);
	if (rc == DB_NOTFOUND || strcmp(ctx->user.username, ctx->claims.username) != 0)
		return op_fail(ctx, ST_UNAUTHENTICATED, "token of a deleted user: run `gpuctl login`");
	if (ctx->user.token_version != ctx->claims.token_version)
		return op_fail(ctx, ST_UNAUTHENTICATED,
			"token revoked (password or role changed): run `gpuctl login`");
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
	enum status st;

	ctx->root = json_parse_strict(payload, len);
	if (!cJSON_IsObject(ctx->root)) {
		st = op_fail(ctx, ST_BAD_REQUEST, "request is not a JSON object");
		goto done;
	}
	int64_t id;
	enum json_field f = json_get_int(ctx->root, "id", -JSON_INT_MAX, JSON_INT_MAX, &id);
	if (f == JSON_FIELD_BAD) {
		st = op_fail(ctx, ST_BAD_REQUEST, "'id' must be an integer");
		goto done;
	}
	if (f == JSON_FIELD_OK) {
		ctx->req_id = id;
		ctx->has_id = true;
	}
	int64_t v = 1;
	if (json_get_int(ctx->root, "v", 0, JSON_INT_MAX, &v) == JSON_FIELD_BAD || v != 1) {
		st = op_fail(ctx, ST_BAD_REQUEST, "unsupported protocol version: only \"v\": 1 is known");
		goto done;
	}
	const char *opname = NULL;
	if (json_get_str(ctx->root, "op", 64, true, &opname) != JSON_FIELD_OK) {
		st = op_fail(ctx, ST_BAD_REQUEST, "'op' must be a string naming an operation");
		goto done;
	}
	ctx->op = op_lookup(disp, opname);
	if (!ctx->op) {
		st = op_fail(ctx, ST_BAD_REQUEST, "unknown op '%s'", opname);
		goto done;
	}
	cJSON *args = json_get(ctx->root, "args");
	if (!args || cJSON_IsNull(args)) {
		cJSON *empty = cJSON_CreateObject();
		bool placed = empty && (args ? cJSON_ReplaceItemViaPointer(ctx->root, args, empty)
					     : cJSON_AddItemToObject(ctx->root, "args", empty));
		if (!placed) {
			cJSON_Delete(empty);
			st = op_fail(ctx, ST_INTERNAL, "out of memory");
			goto done;
		}
		args = empty;
	}
	if (!cJSON_IsObject(args)) {
		st = op_fail(ctx, ST_BAD_REQUEST, "'args' must be an object");
		goto done;
	}
	ctx->args = args;
	if (!(ctx->op->flags & OP_NO_AUTH)) {
		st = authenticate(ctx);
		if (st != ST_OK)
			goto done;
		if ((ctx->op->flags & OP_ADMIN) && !ctx->user.is_admin) {
			st = op_fail(ctx, ST_FORBIDDEN, "%s needs the admin role", ctx->op->name);
			goto done;
		}
	}
	run_step(disp, ctx, ctx->op->handler, NULL, false, false, NULL);
	return;
done:
	finish(disp, ctx, st);
}

bool dispatch_batch_open(const struct dispatcher *disp)
{
	return disp->batch_open;
}

bool dispatch_commit(struct dispatcher *disp)
{
	if (!disp->batch_open)
		return false;
	bool committed = db_commit(disp->d->db) == 0;
	if (!committed) {
		bool transient = db_error_is_transient(disp->d->db);
		db_rollback(disp->d->db);
		log_event(LOG_ERROR, "db.commit_failed", "requests=%zu", disp->nheld);
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
	disp->batch_open = false;
	/* Replies may be completed by the callback (waiters): send held ones first
	 * so that order within a client is kept. */
	size_t n = disp->nheld;
	struct held *list = disp->held;
	disp->held = NULL;
	disp->nheld = disp->capheld = 0;
	for (size_t i = 0; i < n; i++)
		send_reply(list[i].ctx, list[i].st);
	free(list);
	if (disp->on_commit)
		disp->on_commit(disp->d, committed);
	return committed;
}

int dispatch_run_write(struct dispatcher *disp, int (*fn)(struct daemon *d, void *arg), void *arg)
{
	if (!ensure_batch(disp))
		return -1;
	if (db_savepoint(disp->d->db) < 0)
		return -1;
	int rc = fn(disp->d, arg);
	if (rc == 0)
		rc = db_release(disp->d->db);
	else
		db_rollback_to(disp->d->db);
	return rc;
}

void dispatch_destroy(struct dispatcher *disp)
{
	if (!disp)
		return;
	if (disp->batch_open)
		dispatch_commit(disp);
	free(disp->held);
	free(disp->ops);
	free(disp);
}
