/* Users, quota changes, reservations and charges, and the usage report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuaasd/db-internal.h"

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static void read_user(sqlite3_stmt *st, void *row)
{
	struct user_row *u = row;
	memset(u, 0, sizeof *u);
	u->id = sqlite3_column_int64(st, 0);
	copy_text(u->username, sizeof u->username, st, 1);
	copy_text(u->hash, sizeof u->hash, st, 2);
	u->is_admin = sqlite3_column_int(st, 3) != 0;
	u->quota = sqlite3_column_int64(st, 4);
	u->reserved = sqlite3_column_int64(st, 5);
	u->token_version = sqlite3_column_int64(st, 6);
	u->created_at = sqlite3_column_int64(st, 7);
}

/* Reads the one row of st (bound; NULL after a failed bind: -1). */
static int user_lookup(struct db *db, sqlite3_stmt *st, struct user_row *out)
{
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int result;
	if (rc == SQLITE_ROW) {
		read_user(st, out);
		result = 0;
	} else if (rc == SQLITE_DONE) {
		result = DB_NOTFOUND;
	} else {
		result = db_fail(db, sqlite3_extended_errcode(db->h), "user lookup");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return result;
}

int db_user_by_name(struct db *db, const char *username, struct user_row *out)
{
	return user_lookup(db, DB_STMT_BIND(db, STMT_USER_BY_NAME, DB_TEXT(username)), out);
}

int db_user_by_id(struct db *db, int64_t id, struct user_row *out)
{
	return user_lookup(db, DB_STMT_BIND(db, STMT_USER_BY_ID, DB_INT(id)), out);
}

int db_user_name_cached(struct db *db, struct name_cache *c, int64_t id, const char **name)
{
	for (size_t i = 0; i < sizeof c->slot / sizeof c->slot[0]; i++) {
		if (c->slot[i].name && c->slot[i].id == id) {
			*name = c->slot[i].name;
			return 0;
		}
	}
	sqlite3_stmt *st = DB_STMT_BIND(db, STMT_USER_NAME, DB_INT(id));
	if (!st)
		return -1;
	int rc = sqlite3_step(st), result = DB_NOTFOUND;
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		unsigned k = c->next++ % (sizeof c->slot / sizeof c->slot[0]);
		char *copy = strdup(t ? t : "");
		result = copy ? 0 : db_fail(db, SQLITE_NOMEM, "user name");
		if (copy) {
			free(c->slot[k].name);
			c->slot[k].id = id;
			c->slot[k].name = copy;
			*name = copy;
		}
	} else if (rc != SQLITE_DONE) {
		result = db_fail(db, sqlite3_extended_errcode(db->h), "user name");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return result;
}

void name_cache_free(struct name_cache *c)
{
	for (size_t i = 0; i < sizeof c->slot / sizeof c->slot[0]; i++)
		free(c->slot[i].name);
	memset(c, 0, sizeof *c);
}

static void read_usage(sqlite3_stmt *st, void *row)
{
	struct usage_row *u = row;
	copy_text(u->username, sizeof u->username, st, 0);
	u->granted = sqlite3_column_int64(st, 1);
	u->charged = sqlite3_column_int64(st, 2);
	u->remaining = sqlite3_column_int64(st, 3);
	u->reserved = sqlite3_column_int64(st, 4);
	u->jobs = sqlite3_column_int64(st, 5);
}

/* Steps st to its end, reading each row with `read` into a malloc'd array of
 * `size`-byte elements, and resets it. Sets *rows (NULL for no row) and *n and
 * returns 0, or returns -1 (logged as `what`) with nothing to free. */
static int collect_rows(struct db *db, sqlite3_stmt *st, size_t size, void (*read)(sqlite3_stmt *, void *),
	const char *what, void **rows, size_t *n)
{
	char *arr = NULL;
	size_t len = 0, cap = 0;
	int rc, result = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			char *na = realloc(arr, cap * size);
			if (!na) {
				result = -1;
				goto out;
			}
			arr = na;
		}
		read(st, arr + size * len++);
	}
	if (rc != SQLITE_DONE)
		result = db_fail(db, sqlite3_extended_errcode(db->h), what);
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (result < 0) {
		free(arr);
		return -1;
	}
	*rows = arr;
	*n = len;
	return 0;
}

/* One ledger row; job_id/actor_id 0 mean none. */
static int ledger_add(struct db *db, int64_t user_id, int64_t now, const char *kind, int64_t delta,
	int64_t job_id, int64_t actor_id, const char *reason)
{
	return DB_RUN(db, STMT_LEDGER_INSERT, DB_INT(user_id), DB_INT(now), DB_TEXT(kind), DB_INT(delta),
		DB_INT_OR_NULL(job_id, job_id > 0), DB_INT_OR_NULL(actor_id, actor_id > 0),
		DB_TEXT(reason ? reason : ""));
}

int db_user_insert(struct db *db, const char *username, const char *hash, bool is_admin, int64_t quota,
	int64_t now, int64_t actor_id, int64_t *id_out)
{
	struct user_row existing;
	int rc = db_user_by_name(db, username, &existing);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return DB_EXISTS;
	if (DB_RUN(db, STMT_USER_INSERT, DB_TEXT(username), DB_TEXT(hash), DB_INT(is_admin ? 1 : 0), DB_INT(quota),
		    DB_INT(now)) < 0)
		return -1;
	int64_t id = sqlite3_last_insert_rowid(db->h);
	if (quota > 0 && ledger_add(db, id, now, "grant", quota, 0, actor_id, "initial quota") < 0)
		return -1;
	if (id_out)
		*id_out = id;
	return 0;
}

int db_user_delete(struct db *db, int64_t id, int64_t now)
{
	return DB_RUN_ONE(db, STMT_USER_DELETE, DB_NOTFOUND, DB_INT(id), DB_INT(now));
}

int db_user_set_password(struct db *db, int64_t id, const char *hash)
{
	return DB_RUN_ONE(db, STMT_USER_SET_PASSWORD, DB_NOTFOUND, DB_INT(id), DB_TEXT(hash));
}

int db_user_set_admin(struct db *db, int64_t id, bool is_admin)
{
	return DB_RUN_ONE(db, STMT_USER_SET_ADMIN, DB_NOTFOUND, DB_INT(id), DB_INT(is_admin ? 1 : 0));
}

int db_user_quota_change(struct db *db, int64_t id, bool set, int64_t value, int64_t actor_id,
	int64_t now, struct user_row *after)
{
	struct user_row u;
	int rc = db_user_by_id(db, id, &u);
	if (rc != 0)
		return rc;
	if (value < 0 || value > DB_QUOTA_MAX)
		return DB_CONFLICT;
	int64_t next = set ? value : u.quota + value; /* both <= 1e15: no overflow */
	if (next > DB_QUOTA_MAX)
		return DB_CONFLICT;
	rc = DB_RUN_ONE(db, STMT_USER_SET_QUOTA, DB_NOTFOUND, DB_INT(id), DB_INT(next));
	if (rc != 0)
		return rc;
	if (ledger_add(db, id, now, set ? "set" : "grant", next - u.quota, 0, actor_id,
		    set ? "quota set by admin" : "quota granted by admin") < 0)
		return -1;
	if (after)
		return db_user_by_id(db, id, after);
	return 0;
}

int db_user_reserve(struct db *db, int64_t user_id, int64_t delta)
{
	return DB_RUN_ONE(db, STMT_USER_RESERVE, DB_CONFLICT, DB_INT(user_id), DB_INT(delta));
}

int db_user_charge(struct db *db, int64_t user_id, int64_t charge, int64_t release, int64_t job_id, int64_t now)
{
	int rc = DB_RUN_ONE(db, STMT_USER_CHARGE, DB_CONFLICT, DB_INT(user_id), DB_INT(charge), DB_INT(release));
	if (rc != 0)
		return rc;
	if (charge > 0)
		return ledger_add(db, user_id, now, "charge", -charge, job_id, 0, "job charge");
	return 0;
}

int db_user_count(struct db *db, int64_t *out)
{
	return db_scalar(db, STMT_USER_COUNT, "user count", out);
}

int db_user_list(struct db *db, struct user_row **rows, size_t *n)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_LIST);
	if (!st)
		return -1;
	void *arr;
	if (collect_rows(db, st, sizeof **rows, read_user, "user list", &arr, n) < 0)
		return -1;
	*rows = arr;
	return 0;
}

int db_usage_report(struct db *db, const char *username, struct usage_row **rows, size_t *n)
{
	sqlite3_stmt *st = username ? DB_STMT_BIND(db, STMT_USAGE_ONE, DB_TEXT(username)) : db_stmt(db, STMT_USAGE_ALL);
	if (!st)
		return -1;
	void *arr;
	size_t len;
	if (collect_rows(db, st, sizeof **rows, read_usage, "usage report", &arr, &len) < 0)
		return -1;
	if (username && len == 0) {
		free(arr);
		return DB_NOTFOUND;
	}
	*rows = arr;
	*n = len;
	return 0;
}

int db_user_charged_since(struct db *db, int64_t user_id, int64_t since, int64_t *out)
{
	return db_scalar_of(db, DB_STMT_BIND(db, STMT_USER_CHARGED_SINCE, DB_INT(user_id), DB_INT(since)),
		"charged since", out);
}

struct ledger_cb_arg {
	db_ledger_cb cb;
	void *arg;
};

static int ledger_row(sqlite3_stmt *st, void *arg)
{
	const struct ledger_cb_arg *a = arg;
	struct ledger_row r = {
		.at = sqlite3_column_int64(st, 0),
		.kind = (const char *)sqlite3_column_text(st, 1),
		.delta = sqlite3_column_int64(st, 2),
		.job_id = sqlite3_column_int64(st, 3),
		.actor = (const char *)sqlite3_column_text(st, 4),
		.reason = (const char *)sqlite3_column_text(st, 5),
	};
	return a->cb(a->arg, &r);
}

int db_ledger_of_user(struct db *db, int64_t user_id, int64_t since, int64_t limit, db_ledger_cb cb, void *arg)
{
	struct ledger_cb_arg a = {cb, arg};
	return db_each_row(db, DB_STMT_BIND(db, STMT_LEDGER_OF_USER, DB_INT(user_id), DB_INT(since), DB_INT(limit)),
		ledger_row, &a, "ledger");
}
