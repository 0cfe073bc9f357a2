/* Jobs: inserts, reads and state transitions. */
#include <stddef.h>
#include <string.h>

#include "gpuaasd/db-internal.h"

/* Where one result column lands in struct job_row. */
struct job_col {
	enum { COL_INT, COL_TEXT, COL_TEXT_OR_EMPTY, COL_OPT_INT } kind;
	size_t off;      /* the field */
	size_t flag_off; /* COL_OPT_INT: the bool that says the column is not NULL */
};

/* The offset of field f of struct job_row, which must have the given type. */
#define JOB_FIELD(f, type) _Generic(((struct job_row *)0)->f, type: offsetof(struct job_row, f))
#define INT_COL(f) {COL_INT, JOB_FIELD(f, int64_t), 0}
#define TEXT_COL(f) {COL_TEXT, JOB_FIELD(f, const char *), 0}
#define TEXT0_COL(f) {COL_TEXT_OR_EMPTY, JOB_FIELD(f, const char *), 0}
#define OPT_COL(f, flag) {COL_OPT_INT, JOB_FIELD(f, int64_t), JOB_FIELD(flag, bool)}

/* JOB_COLS of db.c, in order; its first JOB_LIST_NCOLS are JOB_LIST_COLS,
 * what a job object shows. The owner and the approver are read as ids and
 * named afterwards (job_row_read). */
static const struct job_col job_cols[] = {
	INT_COL(id), TEXT0_COL(name), INT_COL(owner_id), TEXT_COL(gpu_type), INT_COL(gpu_count),
	INT_COL(time_limit), TEXT_COL(status), TEXT0_COL(reason), INT_COL(created_at),
	INT_COL(approved_at), INT_COL(approver_id), INT_COL(started_at), INT_COL(finished_at),
	OPT_COL(charged_seconds, has_charged), OPT_COL(exit_code, has_exit_code), TEXT_COL(command),
	TEXT_COL(devices), INT_COL(approve_seq), INT_COL(weight), INT_COL(approved_rule), TEXT_COL(external_id),
	/* The scheduler's and the executors', not in a list: */
	INT_COL(run_until_ms), INT_COL(reserved), TEXT_COL(workdir), TEXT_COL(env), INT_COL(sim_run),
};
#define JOB_NCOLS ((int)(sizeof job_cols / sizeof job_cols[0]))
#define JOB_LIST_NCOLS 21

/* JOB_BRIEF_COLS of db.c, in order: what a brief row shows, no more (a
 * column read is a tenth of a brief row's cost). */
static const struct job_col brief_cols[] = {
	INT_COL(id), TEXT0_COL(name), INT_COL(owner_id), TEXT_COL(gpu_type), INT_COL(gpu_count),
	INT_COL(time_limit), TEXT_COL(status), INT_COL(created_at),
};
#define JOB_BRIEF_NCOLS ((int)(sizeof brief_cols / sizeof brief_cols[0]))

/* Zeroes j and reads the current row's ncols columns, laid out as cols, into it. */
static void read_job(sqlite3_stmt *st, struct job_row *j, const struct job_col *cols, int ncols)
{
	memset(j, 0, sizeof *j);
	for (int i = 0; i < ncols; i++) {
		const struct job_col *c = &cols[i];
		char *field = (char *)j + c->off;
		switch (c->kind) {
		case COL_INT:
			*(int64_t *)field = sqlite3_column_int64(st, i);
			break;
		case COL_OPT_INT:
			*(bool *)((char *)j + c->flag_off) = sqlite3_column_type(st, i) != SQLITE_NULL;
			*(int64_t *)field = sqlite3_column_int64(st, i);
			break;
		case COL_TEXT:
		case COL_TEXT_OR_EMPTY: {
			const char *t = (const char *)sqlite3_column_text(st, i);
			*(const char **)field = t || c->kind == COL_TEXT ? t : "";
			break;
		}
		}
	}
}

struct job_cb_arg {
	struct db *db;
	const struct job_col *cols;
	int ncols;
	db_job_cb cb;
	void *arg;
	int rows;
	/* One each: a miss evicts a name, which must not be the other one
	 * of the same row. */
	struct name_cache owners, approvers;
};

static int job_row_read(sqlite3_stmt *st, void *arg)
{
	struct job_cb_arg *a = arg;
	struct job_row row;
	a->rows++;
	read_job(st, &row, a->cols, a->ncols);
	/* A job whose user row is gone (it cannot be, by the foreign keys)
	 * shows an empty owner, and no approver. */
	int rc = db_user_name_cached(a->db, &a->owners, row.owner_id, &row.owner);
	if (rc == DB_NOTFOUND)
		row.owner = "";
	if (rc >= 0 && row.approver_id > 0) {
		rc = db_user_name_cached(a->db, &a->approvers, row.approver_id, &row.approved_by);
		if (rc == DB_NOTFOUND)
			row.approved_by = NULL;
	}
	return rc < 0 ? -1 : a->cb(a->arg, &row);
}

/* Steps st, reading the ncols columns of each row (laid out as cols) and
 * calling cb per row. Returns 0, cb's non-zero value, or -1; *rows (may
 * be NULL): rows seen. */
static int each_row_with(struct db *db, sqlite3_stmt *st, const struct job_col *cols, int ncols, db_job_cb cb,
	void *arg, int *rows)
{
	struct job_cb_arg a = {.db = db, .cols = cols, .ncols = ncols, .cb = cb, .arg = arg};
	int result = db_each_row(db, st, job_row_read, &a, "job query");
	name_cache_free(&a.owners);
	name_cache_free(&a.approvers);
	if (rows)
		*rows = a.rows;
	return result;
}

static int each_row(struct db *db, sqlite3_stmt *st, db_job_cb cb, void *arg, int *rows)
{
	return each_row_with(db, st, job_cols, JOB_NCOLS, cb, arg, rows);
}

int db_job_insert(struct db *db, const struct job_insert *j, int64_t *id_out)
{
	/* A NULL command_json stores NULL. */
	if (DB_RUN(db, STMT_JOB_INSERT, DB_INT(j->owner_id), DB_TEXT(j->name ? j->name : ""), DB_TEXT(j->gpu_type),
		    DB_INT(j->count), DB_INT(j->time_limit), DB_TEXT(j->command_json), DB_INT(j->now),
		    DB_INT(j->reserved), DB_INT(j->weight), DB_TEXT(j->workdir), DB_TEXT(j->env),
		    DB_INT_OR_NULL(j->sim_run, j->sim_run > 0)) < 0)
		return -1;
	*id_out = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_job_get(struct db *db, int64_t id, db_job_cb cb, void *arg)
{
	sqlite3_stmt *st = DB_STMT_BIND(db, STMT_JOB_GET, DB_INT(id));
	if (!st)
		return -1;
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
	if (f->brief)
		return each_row_with(db, st, brief_cols, JOB_BRIEF_NCOLS, cb, arg, NULL);
	return each_row_with(db, st, job_cols, JOB_LIST_NCOLS, cb, arg, NULL);
}

static int list_simple(struct db *db, enum stmt_id id, int64_t param, db_job_cb cb, void *arg)
{
	sqlite3_stmt *st = param ? DB_STMT_BIND(db, id, DB_INT(param)) : db_stmt(db, id);
	if (!st)
		return -1;
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

int db_job_max_seq(struct db *db, int64_t *out)
{
	return db_scalar(db, STMT_JOB_MAX_SEQ, "scalar query", out);
}

int db_job_approve(struct db *db, int64_t id, int64_t now, int64_t by, int64_t rule, int64_t seq, const char *reason)
{
	return DB_RUN_ONE(db, STMT_JOB_APPROVE, DB_CONFLICT, DB_INT(id), DB_INT(now), DB_INT_OR_NULL(by, by > 0),
		DB_INT(seq), DB_TEXT(reason), DB_INT_OR_NULL(rule, rule > 0));
}

int db_job_start(struct db *db, int64_t id, int64_t now, int64_t run_until_ms, const char *devices)
{
	return DB_RUN_ONE(db, STMT_JOB_START, DB_CONFLICT, DB_INT(id), DB_INT(now), DB_INT(run_until_ms),
		DB_TEXT(devices));
}

int db_job_close(struct db *db, int64_t id, const char *from, const char *to, const char *reason, int64_t now,
	int64_t charged, int64_t exit_code)
{
	return DB_RUN_ONE(db, STMT_JOB_SET_STATUS, DB_CONFLICT, DB_INT(id), DB_TEXT(from), DB_TEXT(to), DB_TEXT(reason),
		DB_INT(now), DB_INT_OR_NULL(charged, charged >= 0), DB_INT_OR_NULL(exit_code, exit_code >= 0));
}

int db_job_set_external_id(struct db *db, int64_t id, const char *external_id)
{
	return DB_RUN_ONE(db, STMT_JOB_SET_EXTERNAL, DB_NOTFOUND, DB_INT(id), DB_TEXT(external_id));
}

int db_job_pending_before(struct db *db, int64_t before, int64_t limit, db_job_cb cb, void *arg)
{
	sqlite3_stmt *st = DB_STMT_BIND(db, STMT_JOB_EXPIRED_PENDING, DB_INT(before), DB_INT(limit));
	if (!st)
		return -1;
	return each_row(db, st, cb, arg, NULL);
}

int db_job_oldest_pending(struct db *db, int64_t *out)
{
	return db_scalar(db, STMT_JOB_OLDEST_PENDING, "oldest pending", out);
}

int db_job_oldest_pending_of(struct db *db, const char *gpu_type, int64_t *out)
{
	return db_scalar_of(db, DB_STMT_BIND(db, STMT_JOB_OLDEST_PENDING_OF, DB_TEXT(gpu_type)), "oldest pending", out);
}

struct count_cb_arg {
	db_count_cb cb;
	void *arg;
};

static int count_row(sqlite3_stmt *st, void *arg)
{
	const struct count_cb_arg *a = arg;
	return a->cb(a->arg, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		sqlite3_column_int64(st, 2));
}

int db_job_counts(struct db *db, db_count_cb cb, void *arg)
{
	struct count_cb_arg a = {cb, arg};
	return db_each_row(db, db_stmt(db, STMT_JOB_COUNTS), count_row, &a, "job counts");
}

int db_job_set_pending_reason(struct db *db, int64_t id, const char *reason)
{
	return DB_RUN_ONE(db, STMT_JOB_PENDING_REASON, DB_CONFLICT, DB_INT(id), DB_TEXT(reason));
}
