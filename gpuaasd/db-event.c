/* The event log (append-only: rows are only inserted, and pruned by age) and
 * the auto-approval rules. */
#include <stddef.h>
#include <string.h>

#include "gpuaasd/db-internal.h"

int db_event_insert(struct db *db, int64_t at, const char *actor, const char *kind, int64_t job_id,
	int64_t user_id, const char *detail, int64_t *seq_out)
{
	if (DB_RUN(db, STMT_EVENT_INSERT, DB_INT(at), DB_TEXT(actor), DB_TEXT(kind), DB_INT_OR_NULL(job_id, job_id > 0),
		    DB_INT_OR_NULL(user_id, user_id > 0), DB_TEXT(detail ? detail : "{}")) < 0)
		return -1;
	if (seq_out)
		*seq_out = sqlite3_last_insert_rowid(db->h);
	return 0;
}

struct event_cb_arg {
	db_event_cb cb;
	void *arg;
};

static int event_row(sqlite3_stmt *st, void *arg)
{
	const struct event_cb_arg *a = arg;
	struct event_row e = {
		.seq = sqlite3_column_int64(st, 0),
		.at = sqlite3_column_int64(st, 1),
		.actor = (const char *)sqlite3_column_text(st, 2),
		.kind = (const char *)sqlite3_column_text(st, 3),
		.job_id = sqlite3_column_int64(st, 4),
		.user = (const char *)sqlite3_column_text(st, 5),
		.detail = (const char *)sqlite3_column_text(st, 6),
	};
	return a->cb(a->arg, &e);
}

int db_event_list(struct db *db, const struct event_filter *f, db_event_cb cb, void *arg)
{
	struct event_cb_arg a = {cb, arg};
	return db_each_row(db,
		DB_STMT_BIND(db, STMT_EVENT_LIST, DB_INT(f->since), DB_INT(f->limit), DB_INT(f->job_id),
			DB_INT(f->visible_to), DB_TEXT(f->kinds ? f->kinds : ""), DB_TEXT(f->user ? f->user : ""),
			DB_INT(f->at_or_after)),
		event_row, &a, "event list");
}

int db_event_max_seq(struct db *db, int64_t *out)
{
	return db_scalar(db, STMT_EVENT_MAX_SEQ, "event seq", out);
}

int db_event_prune(struct db *db, int64_t before, int64_t limit, int64_t *n)
{
	if (DB_RUN(db, STMT_EVENT_PRUNE, DB_INT(before), DB_INT(limit)) < 0)
		return -1;
	*n = sqlite3_changes(db->h);
	return 0;
}

int db_rule_insert(struct db *db, const struct rule_row *r, int64_t created_by, int64_t *id_out)
{
	if (DB_RUN(db, STMT_RULE_INSERT, DB_TEXT(r->gpu_types), DB_INT_OR_NULL(r->max_count, r->max_count > 0),
		    DB_INT_OR_NULL(r->max_time, r->max_time > 0), DB_TEXT(r->users), DB_TEXT(r->scope),
		    DB_INT_OR_NULL(r->daily_cap, r->daily_cap > 0), DB_TEXT(r->note ? r->note : ""),
		    DB_INT(r->created_at), DB_INT(created_by)) < 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_rule_delete(struct db *db, int64_t id, int64_t now)
{
	return DB_RUN_ONE(db, STMT_RULE_DELETE, DB_NOTFOUND, DB_INT(id), DB_INT(now));
}

struct rule_cb_arg {
	db_rule_cb cb;
	void *arg;
};

static int rule_row(sqlite3_stmt *st, void *arg)
{
	const struct rule_cb_arg *a = arg;
	struct rule_row r = {
		.id = sqlite3_column_int64(st, 0),
		.gpu_types = (const char *)sqlite3_column_text(st, 1),
		.max_count = sqlite3_column_int64(st, 2),
		.max_time = sqlite3_column_int64(st, 3),
		.users = (const char *)sqlite3_column_text(st, 4),
		.scope = (const char *)sqlite3_column_text(st, 5),
		.daily_cap = sqlite3_column_int64(st, 6),
		.note = (const char *)sqlite3_column_text(st, 7),
		.created_at = sqlite3_column_int64(st, 8),
		.created_by = (const char *)sqlite3_column_text(st, 9),
	};
	return a->cb(a->arg, &r);
}

int db_rule_list(struct db *db, db_rule_cb cb, void *arg)
{
	struct rule_cb_arg a = {cb, arg};
	return db_each_row(db, db_stmt(db, STMT_RULE_LIST), rule_row, &a, "rule list");
}

int db_rule_approved_since(struct db *db, int64_t rule_id, int64_t owner_id, int64_t since, int64_t *out)
{
	return db_scalar_of(db,
		DB_STMT_BIND(db, STMT_RULE_APPROVED_SINCE, DB_INT(rule_id), DB_INT(owner_id), DB_INT(since)),
		"rule approved since", out);
}

int db_rule_count(struct db *db, int64_t *out)
{
	return db_scalar(db, STMT_RULE_COUNT, "rule count", out);
}
