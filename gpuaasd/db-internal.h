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
	STMT_JOB_FINISH,
	STMT_JOB_QUEUE,
	STMT_JOB_RUNNING,
	STMT_JOB_PENDING,
	STMT_JOB_ACTIVE_OF_USER,
	STMT_USER_RESERVE,
	STMT_USER_CHARGE,
	STMT_JOB_SET_REASON,
	STMT_JOB_MAX_SEQ,
	STMT_JOB_COUNT,
	STMT_JOB_BRIEF_OWN,
	STMT_JOB_BRIEF_ALL,
	STMT_JOB_BRIEF_STATE_OWN,
	STMT_JOB_BRIEF_STATE_ALL,
	STMT_JOB_LIST_LIVE,
	STMT_JOB_BRIEF_LIVE,
	STMT__COUNT
};

struct db {
	sqlite3 *h;
	sqlite3_stmt *stmts[STMT__COUNT];
	int last_error;
	bool in_txn;
};

/* The cached statement, reset and unbound; NULL on a prepare error. */
sqlite3_stmt *db_stmt(struct db *db, enum stmt_id id);
/* Steps a statement that returns no rows and resets it: 0 or -1. */
int db_exec_stmt(struct db *db, sqlite3_stmt *st);
/* Logs an SQLite failure and remembers its code. */
int db_fail(struct db *db, int rc, const char *what);

/* Appends a 'charge' ledger row of -amount (db-user.c). */
int db_ledger_charge(struct db *db, int64_t user_id, int64_t now, int64_t amount, int64_t job_id,
	const char *reason);

#endif
