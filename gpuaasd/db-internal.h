/* Shared by db.c, db-user.c and db-job.c only. */
#ifndef GPUAAS_GPUAASD_DB_INTERNAL_H
#define GPUAAS_GPUAASD_DB_INTERNAL_H

#include <sqlite3.h>

#include "gpuaasd/db.h"

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_USER_BY_NAME,
	STMT_USER_BY_ID,
	STMT_USER_NAME,
	STMT_USER_INSERT,
	STMT_USER_DELETE,
	STMT_USER_SET_PASSWORD,
	STMT_USER_SET_ADMIN,
	STMT_USER_SET_QUOTA,
	STMT_USER_COUNT,
	STMT_USER_LIST,
	STMT_LEDGER_INSERT,
	STMT_USAGE_ONE,
	STMT_USAGE_ALL,
	STMT_JOB_INSERT,
	STMT_JOB_GET,
	STMT_JOB_LIST_OWN,
	STMT_JOB_LIST_ALL,
	STMT_JOB_LIST_STATE_OWN,
	STMT_JOB_LIST_STATE_ALL,
	STMT_JOB_SET_STATUS,
	STMT_JOB_APPROVE,
	STMT_JOB_START,
	STMT_JOB_QUEUE,
	STMT_JOB_RUNNING,
	STMT_JOB_ACTIVE_OF_USER,
	STMT_USER_RESERVE,
	STMT_USER_CHARGE,
	STMT_JOB_MAX_SEQ,
	STMT_JOB_BRIEF_OWN,
	STMT_JOB_BRIEF_ALL,
	STMT_JOB_BRIEF_STATE_OWN,
	STMT_JOB_BRIEF_STATE_ALL,
	STMT_JOB_LIST_LIVE,
	STMT_JOB_BRIEF_LIVE,
	STMT_JOB_EXPIRED_PENDING,
	STMT_JOB_OLDEST_PENDING,
	STMT_JOB_COUNTS,
	STMT_JOB_OLDEST_PENDING_OF,
	STMT_JOB_SET_EXTERNAL,
	STMT_JOB_PENDING_REASON,
	STMT_USER_CHARGED_SINCE,
	STMT_LEDGER_OF_USER,
	STMT_EVENT_INSERT,
	STMT_EVENT_LIST,
	STMT_EVENT_MAX_SEQ,
	STMT_EVENT_PRUNE,
	STMT_RULE_INSERT,
	STMT_RULE_DELETE,
	STMT_RULE_LIST,
	STMT_RULE_APPROVED_SINCE,
	STMT_RULE_COUNT,
	STMT__COUNT
};

struct db {
	sqlite3 *h;
	sqlite3_stmt *stmts[STMT__COUNT];
	int last_error;
};

/* The cached statement, reset and unbound; NULL on a prepare error. */
sqlite3_stmt *db_stmt(struct db *db, enum stmt_id id);
/* Steps a statement that returns no rows and resets it: 0 or -1. */
int db_exec_stmt(struct db *db, sqlite3_stmt *st);
/* db_exec_stmt for an UPDATE meant to change exactly one row: 0 when it did,
 * `none` (DB_NOTFOUND or DB_CONFLICT) when it did not, -1 on an error. */
int db_exec_one(struct db *db, sqlite3_stmt *st, int none);

/* One statement parameter: an integer, text (a NULL string binds NULL), or
 * NULL. Text is bound SQLITE_STATIC: it must outlive the statement's step. */
struct db_arg {
	enum { DB_ARG_INT, DB_ARG_TEXT, DB_ARG_NULL } kind;
	int64_t i;
	const char *s;
};
#define DB_INT(v) {.kind = DB_ARG_INT, .i = (v)}
#define DB_TEXT(v) {.kind = DB_ARG_TEXT, .s = (v)}
/* v when `present`, else NULL. */
#define DB_INT_OR_NULL(v, present) {.kind = (present) ? DB_ARG_INT : DB_ARG_NULL, .i = (v)}

/* The cached statement with args[0..n-1] bound to ?1..?n; NULL on an error. */
sqlite3_stmt *db_stmt_bind(struct db *db, enum stmt_id id, const struct db_arg *args, int n);
/* db_stmt_bind, then db_exec_stmt: 0 or -1. */
int db_run(struct db *db, enum stmt_id id, const struct db_arg *args, int n);
/* db_stmt_bind, then db_exec_one: 0, `none`, or -1. */
int db_run_one(struct db *db, enum stmt_id id, int none, const struct db_arg *args, int n);

/* The same, with the arguments listed in the call: DB_RUN(db, id, DB_INT(x), ...). */
#define DB_ARGS(...) (const struct db_arg[]){__VA_ARGS__}, \
	(int)(sizeof((const struct db_arg[]){__VA_ARGS__}) / sizeof(struct db_arg))
#define DB_STMT_BIND(db, id, ...) db_stmt_bind((db), (id), DB_ARGS(__VA_ARGS__))
#define DB_RUN(db, id, ...) db_run((db), (id), DB_ARGS(__VA_ARGS__))
#define DB_RUN_ONE(db, id, none, ...) db_run_one((db), (id), (none), DB_ARGS(__VA_ARGS__))

/* Steps st, calling row(st, arg) for each result row until it returns
 * non-zero; then resets st and clears its bindings. Returns 0, row's
 * non-zero value, or -1 (an SQLite error, logged as `what`). */
int db_each_row(struct db *db, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *arg), void *arg,
	const char *what);

/* Steps a statement that returns one integer (column 0 of its one row) into
 * *out and resets it: 0, or -1 (logged as `what`) when no row came. */
int db_scalar(struct db *db, enum stmt_id id, const char *what, int64_t *out);
/* The same for a statement already bound (NULL: the bind failed, -1). */
int db_scalar_of(struct db *db, sqlite3_stmt *st, const char *what, int64_t *out);
/* Logs an SQLite failure and remembers its code. */
int db_fail(struct db *db, int rc, const char *what);

/* Usernames by id, remembered for one query: job rows name their owner and
 * approver by id (a join per row was an eighth of a brief list), and the
 * rows of a list have few of them. */
struct name_cache {
	struct {
		int64_t id;
		char *name; /* owned */
	} slot[8];
	unsigned next; /* the slot a miss takes */
};
/* The name of user id (deleted ones too) in *name, valid until the cache
 * is freed or its next miss (which may evict it): 0, DB_NOTFOUND or -1. */
int db_user_name_cached(struct db *db, struct name_cache *c, int64_t id, const char **name);
void name_cache_free(struct name_cache *c);

#endif
