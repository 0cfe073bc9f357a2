/* Jobs and the quota reservations that go with them. */
#include <string.h>

#include "gpuaasd/db-internal.h"

static const char *col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* The first nine columns, shared by the brief and the full column lists. */
static void read_job_brief(sqlite3_stmt *st, struct job_row *j)
{
	memset(j, 0, sizeof *j);
	j->id = sqlite3_column_int64(st, 0);
	j->name = col_text(st, 1);
	j->owner = col_text(st, 2);
	j->gpu_type = col_text(st, 3);
	j->gpu_count = sqlite3_column_int64(st, 4);
	j->time_limit = sqlite3_column_int64(st, 5);
	j->status = col_text(st, 6);
	j->reason = col_text(st, 7);
	j->created_at = sqlite3_column_int64(st, 8);
	if (!j->name)
		j->name = "";
	if (!j->reason)
		j->reason = "";
	if (!j->owner)
		j->owner = "";
}

static void read_job(sqlite3_stmt *st, struct job_row *j)
{
	read_job_brief(st, j);
	j->approved_at = sqlite3_column_int64(st, 9);
	j->approved_by = col_text(st, 10);
	j->started_at = sqlite3_column_int64(st, 11);
	j->finished_at = sqlite3_column_int64(st, 12);
	j->has_charged = sqlite3_column_type(st, 13) != SQLITE_NULL;
	j->charged_seconds = sqlite3_column_int64(st, 13);
	j->has_exit_code = sqlite3_column_type(st, 14) != SQLITE_NULL;
	j->exit_code = sqlite3_column_int64(st, 14);
	j->command = col_text(st, 15);
	j->owner_id = sqlite3_column_int64(st, 16);
	j->run_until_ms = sqlite3_column_int64(st, 17);
	j->devices = col_text(st, 18);
	j->reserved = sqlite3_column_int64(st, 19);
	j->approve_seq = sqlite3_column_int64(st, 20);
}

/* Steps st, calling cb per row. Returns 0, cb's non-zero value, or -1. */
static int each_row_with(struct db *db, sqlite3_stmt *st, void (*reader)(sqlite3_stmt *, struct job_row *),
	db_job_cb cb, void *arg, int *rows)
{
	int rc, result = 0, n = 0;
	struct job_row row;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		reader(st, &row);
		result = cb(arg, &row);
		if (result != 0)
			break;
	}
	if (result == 0 && rc != SQLITE_DONE)
		result = db_fail(db, sqlite3_extended_errcode(db->h), "job query");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rows)
		*rows = n;
	return result;
}

static int each_row(struct db *db, sqlite3_stmt *st, db_job_cb cb, void *arg, int *rows)
{
	return each_row_with(db, st, read_job, cb, arg, rows);
}

int db_job_insert(struct db *db, int64_t owner_id, const char *name, const char *gpu_type, int64_t count,
	int64_t time_limit, const char *command_json, int64_t now, int64_t reserved, int64_t *id_out)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_INSERT);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, owner_id);
	sqlite3_bind_text(st, 2, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, gpu_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, count);
	sqlite3_bind_int64(st, 5, time_limit);
	if (command_json)
		sqlite3_bind_text(st, 6, command_json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, reserved);
	if (db_exec_stmt(db, st) < 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_job_get(struct db *db, int64_t id, db_job_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_GET);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rows = 0;
	int rc = each_row(db, st, cb, arg, &rows);
	if (rc == 0 && rows == 0)
		return DB_NOTFOUND;
	return rc;
}

/* Bits of enum job_state for PENDING, APPROVED, RUNNING (jobstate.h). */
#define LIVE_STATES 0x7u

int db_job_list(struct db *db, const struct job_filter *f, db_job_cb cb, void *arg)
{
	sqlite3_stmt *st;
	if (f->state_mask && (f->state_mask & ~LIVE_STATES) == 0) {
		static const char *const live[] = {"PENDING", "APPROVED", "RUNNING"};
		st = db_stmt(db, f->brief ? STMT_JOB_BRIEF_LIVE : STMT_JOB_LIST_LIVE);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, f->owner_id);
		for (int i = 0; i < 3; i++)
			if (f->state_mask & (1u << i))
				sqlite3_bind_text(st, 5 + i, live[i], -1, SQLITE_STATIC);
	} else {
		static const enum stmt_id pick[2][2][2] = {
			/* [brief][state filter][one owner] */
			{{STMT_JOB_LIST_ALL, STMT_JOB_LIST_OWN}, {STMT_JOB_LIST_STATE_ALL, STMT_JOB_LIST_STATE_OWN}},
			{{STMT_JOB_BRIEF_ALL, STMT_JOB_BRIEF_OWN}, {STMT_JOB_BRIEF_STATE_ALL, STMT_JOB_BRIEF_STATE_OWN}},
		};
		st = db_stmt(db, pick[f->brief][f->state_mask != 0][f->owner_id != 0]);
		if (!st)
			return -1;
		if (f->owner_id)
			sqlite3_bind_int64(st, 1, f->owner_id);
		if (f->state_mask)
			sqlite3_bind_int64(st, 4, (sqlite3_int64)f->state_mask);
	}
	sqlite3_bind_int64(st, 2, f->before_id > 0 ? f->before_id : INT64_MAX);
	sqlite3_bind_int64(st, 3, f->limit);
	return each_row_with(db, st, f->brief ? read_job_brief : read_job, cb, arg, NULL);
}

static int list_simple(struct db *db, enum stmt_id id, int64_t param, db_job_cb cb, void *arg)
{
	sqlite3_stmt *st = db_stmt(db, id);
	if (!st)
		return -1;
	if (param)
		sqlite3_bind_int64(st, 1, param);
	return each_row(db, st, cb, arg, NULL);
}

int db_job_queue(struct db *db, db_job_cb cb, void *arg)
{
	return list_simple(db, STMT_JOB_QUEUE, 0, cb, arg);
}

int db_job_running(struct db *db, db_job_cb cb, void *arg)
{
	return list_simple(db, STMT_JOB_RUNNING, 0, cb, arg);
}

int db_job_live_of_user(struct db *db, int64_t owner_id, db_job_cb cb, void *arg)
{
	return list_simple(db, STMT_JOB_ACTIVE_OF_USER, owner_id, cb, arg);
}

static int scalar(struct db *db, enum stmt_id id, int64_t *out)
{
	sqlite3_stmt *st = db_stmt(db, id);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int result = 0;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		result = db_fail(db, sqlite3_extended_errcode(db->h), "scalar query");
	sqlite3_reset(st);
	return result;
}

int db_job_max_seq(struct db *db, int64_t *out)
{
	return scalar(db, STMT_JOB_MAX_SEQ, out);
}

int db_job_count(struct db *db, int64_t *out)
{
	return scalar(db, STMT_JOB_COUNT, out);
}

static int changed_one(struct db *db, sqlite3_stmt *st)
{
	if (db_exec_stmt(db, st) < 0)
		return -1;
	return sqlite3_changes(db->h) == 1 ? 0 : DB_CONFLICT;
}

int db_job_approve(struct db *db, int64_t id, int64_t now, int64_t by, int64_t seq, const char *reason)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_APPROVE);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, by);
	sqlite3_bind_int64(st, 4, seq);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	return changed_one(db, st);
}

int db_job_start(struct db *db, int64_t id, int64_t now, int64_t run_until_ms, const char *devices)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_START);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, run_until_ms);
	sqlite3_bind_text(st, 4, devices, -1, SQLITE_STATIC);
	return changed_one(db, st);
}

int db_job_close(struct db *db, int64_t id, const char *from, const char *to, const char *reason, int64_t now,
	int64_t charged, int64_t exit_code)
{
	sqlite3_stmt *st = db_stmt(db, STMT_JOB_SET_STATUS);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (charged >= 0)
		sqlite3_bind_int64(st, 6, charged);
	else
		sqlite3_bind_null(st, 6);
	if (exit_code >= 0)
		sqlite3_bind_int64(st, 7, exit_code);
	else
		sqlite3_bind_null(st, 7);
	return changed_one(db, st);
}

int db_user_reserve(struct db *db, int64_t user_id, int64_t delta)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_RESERVE);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, delta);
	return changed_one(db, st);
}

int db_user_charge(struct db *db, int64_t user_id, int64_t charge, int64_t release, int64_t job_id, int64_t now)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_CHARGE);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, charge);
	sqlite3_bind_int64(st, 3, release);
	int rc = changed_one(db, st);
	if (rc != 0)
		return rc;
	if (charge > 0)
		return db_ledger_charge(db, user_id, now, charge, job_id, "job charge");
	return 0;
}
