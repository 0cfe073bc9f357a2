/* What the dispatcher gives a handler, and what handlers may call (the
 * helpers live in ops.c, the request flow in dispatch.c). Handlers never see
 * the socket: they read ctx->args, build the reply data (a cJSON tree with
 * op_data, or JSON text with op_raw for large replies) or an error, and
 * return a status. Everything that is policy (the envelope, token, role,
 * transaction) is done by the dispatcher before and after. */
#ifndef GPUAAS_GPUAASD_OPS_H
#define GPUAAS_GPUAASD_OPS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "common/strbuf.h"
#include "gpuaasd/auth.h"
#include "gpuaasd/state.h"
#include "gpuaasd/db.h"

/* Returned by a handler that finishes later (async hashing, parked wait). */
#define OP_PENDING ((enum status)ST__COUNT)

enum op_flags {
	OP_NO_AUTH = 1 << 0, /* no token needed (auth.login, sys.ping) */
	OP_ADMIN = 1 << 1,   /* caller must be an admin (read from the DB) */
	OP_WRITE = 1 << 2,   /* runs inside the batch transaction */
};

struct op_ctx;
struct park_entry;
typedef enum status (*op_handler)(struct op_ctx *ctx);
/* Continuation after async bcrypt: ok/error as hasher_done_cb. */
typedef enum status (*op_hash_cont)(struct op_ctx *ctx, bool ok, bool error, const char *hash);

struct op {
	const char *name;
	op_handler handler;
	unsigned flags;
};

/* What a request keeps across its asynchronous steps, per op. */
union op_state {
	struct {
		int64_t user_id;   /* whose hash is being checked; 0: none */
		char username[64]; /* as given */
		char hash[64];     /* the stored hash that was checked */
	} login;
	struct {
		char username[64];
		bool is_admin;
		int64_t quota;
	} user_create;
	struct {
		int64_t job_id;
		int64_t offset; /* job.logs: the byte to read from */
		bool follow;    /* job.logs: wait for output */
	} job;
};

struct op_ctx {
	struct daemon *d;
	struct request *req;
	const struct op *op;
	cJSON *root;        /* the parsed request; owns args */
	const cJSON *args;  /* always an object */
	int64_t req_id;
	bool has_id;
	struct user_row user;        /* the caller, fresh from the DB */
	struct token_claims claims;  /* the caller's token */
	cJSON *data;                 /* reply data, created on demand */
	struct strbuf *raw;          /* or: reply data as JSON text (wins) */
	char err[512];
	op_hash_cont cont;
	union op_state state;
	struct park_entry *parked;   /* set while parked (park.c) */
};

/* The reply's data object (created on first call; NULL only on ENOMEM). */
cJSON *op_data(struct op_ctx *ctx);
/* The reply data as JSON text, for replies written directly
 * (created on first call; NULL on ENOMEM). The text starts at
 * data + OP_RAW_HEAD: the room before it takes the frame header and the
 * envelope when the reply is sent, so that the data is never copied. */
struct strbuf *op_raw(struct op_ctx *ctx);
#define OP_RAW_HEAD 64
/* Empties the reply data written so far. */
void op_raw_clear(struct strbuf *b);
/* Sets an error message and returns st. */
enum status op_fail(struct op_ctx *ctx, enum status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Maps a -1 from the db layer to UNAVAILABLE (disk full, read-only, busy) or
 * INTERNAL, with a message. */
enum status op_db_error(struct op_ctx *ctx);
/* Starts async bcrypt; returns OP_PENDING, or an error status when the
 * hashing queue is full. cont runs later on the loop (inside the batch
 * transaction when the op writes). */
enum status op_hash(struct op_ctx *ctx, const char *password, op_hash_cont cont);
/* Starts an async check of password against stored; as op_hash. */
enum status op_verify(struct op_ctx *ctx, const char *password, const char *stored, op_hash_cont cont);
/* Completes a request that returned OP_PENDING with st. */
void op_finish(struct op_ctx *ctx, enum status st);
/* Checks the caller again (account, token version, role) before a request
 * that waited is answered; refreshes ctx->user. ST_OK or the error. */
enum status op_recheck(struct op_ctx *ctx);
/* A client's string for an error message: at most max bytes of s, cut at a
 * character boundary, "..." when cut; written into buf. s must be valid
 * UTF-8 (the readers check that). */
const char *op_clip(const char *s, size_t max, char *buf, size_t size);
/* Current wall-clock time in seconds. */
int64_t op_now(void);

/* Reading arguments: each sets a message naming the argument on failure. */
enum status arg_str(struct op_ctx *ctx, const char *key, bool required, size_t max_len, bool no_control,
	const char **out);
enum status arg_int(struct op_ctx *ctx, const char *key, bool required, int64_t min, int64_t max, int64_t *out);
enum status arg_bool(struct op_ctx *ctx, const char *key, bool required, bool *out);

/* Quota object {remaining, reserved, available} of a user row. */
cJSON *quota_json(const struct user_row *u);
/* User object {username, is_admin, quota}. */
cJSON *user_json(const struct user_row *u);

/* The op tables, one per group. */
extern const struct op sys_ops[];
extern const struct op auth_ops[];
extern const struct op user_ops[];
extern const struct op job_ops[];
extern const struct op wait_ops[];
extern const struct op gpu_ops[];
extern const struct op event_ops[];
extern const struct op rule_ops[];
extern const struct op queue_ops[];
extern const struct op usage_ops[];

#endif
