/* Helpers for handlers: reply building, errors, argument readers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "gpuaasd/ops.h"

int64_t op_now(void)
{
	return (int64_t)time(NULL);
}

const char *op_clip(const char *s, size_t max, char *buf, size_t size)
{
	size_t n = strlen(s);
	bool cut = n > max;
	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* back to the start of the character that straddles */
	}
	if (n + 4 > size)
		n = size > 4 ? size - 4 : 0;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, size, "%.*s%s", (int)n, s, cut ? "..." : "");
	return buf;
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
		strbuf_init(ctx->raw, OP_RAW_HEAD);
	}
	return ctx->raw;
}

void op_raw_clear(struct strbuf *b)
{
	if (!b->data) /* its allocation failed: b->failed says so */
		return;
	b->len = OP_RAW_HEAD;
	b->data[b->len] = '\0';
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
	/* Exact integers: quota goes up to 10^15, which a double-based
	 * printer would write as 1e+15. */
	json_add_int(q, "remaining", u->quota);
	json_add_int(q, "reserved", u->reserved);
	json_add_int(q, "available", avail > 0 ? avail : 0);
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

