#include "gpuaasd/db-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* 'GPUA' in the database header: tells our files from anybody else's. */
#define GPUAAS_APPLICATION_ID 0x47505541

static const char *const stmt_sql[STMT__COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT req",
	[STMT_RELEASE] = "RELEASE req",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO req",
	[STMT_USER_BY_NAME] = "SELECT id, username, hashed_password, is_admin, quota, reserved, token_version, created_at "
			      "FROM users WHERE username = ?1 AND deleted_at IS NULL",
	[STMT_USER_BY_ID] = "SELECT id, username, hashed_password, is_admin, quota, reserved, token_version, created_at "
			    "FROM users WHERE id = ?1 AND deleted_at IS NULL",
	[STMT_USER_NAME] = "SELECT username FROM users WHERE id = ?1",
	[STMT_USER_INSERT] = "INSERT INTO users(username, hashed_password, is_admin, quota, created_at) "
			     "VALUES(?1, ?2, ?3, ?4, ?5)",
	[STMT_USER_DELETE] = "UPDATE users SET deleted_at = ?2, token_version = token_version + 1 "
			     "WHERE id = ?1 AND deleted_at IS NULL",
	[STMT_USER_SET_PASSWORD] = "UPDATE users SET hashed_password = ?2, token_version = token_version + 1 "
				   "WHERE id = ?1 AND deleted_at IS NULL",
	[STMT_USER_SET_ADMIN] = "UPDATE users SET is_admin = ?2 WHERE id = ?1 AND deleted_at IS NULL",
	[STMT_USER_SET_QUOTA] = "UPDATE users SET quota = ?2 WHERE id = ?1 AND deleted_at IS NULL",
	[STMT_USER_COUNT] = "SELECT count(*) FROM users WHERE deleted_at IS NULL",
	[STMT_USER_LIST] = "SELECT id, username, hashed_password, is_admin, quota, reserved, token_version, created_at "
			   "FROM users WHERE deleted_at IS NULL ORDER BY username",
	[STMT_LEDGER_INSERT] = "INSERT INTO quota_ledger(user_id, at, kind, delta, job_id, actor_id, reason) "
			       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_USAGE_ONE] = "SELECT u.username, "
			   "coalesce((SELECT sum(delta) FROM quota_ledger l WHERE l.user_id = u.id AND kind IN ('grant','set')), 0), "
			   "coalesce((SELECT -sum(delta) FROM quota_ledger l WHERE l.user_id = u.id AND kind = 'charge'), 0), "
			   "u.quota, u.reserved, "
			   "(SELECT count(*) FROM quota_ledger l WHERE l.user_id = u.id AND kind = 'charge') "
			   "FROM users u WHERE u.username = ?1 AND u.deleted_at IS NULL",
	[STMT_USAGE_ALL] = "SELECT u.username, "
			   "coalesce((SELECT sum(delta) FROM quota_ledger l WHERE l.user_id = u.id AND kind IN ('grant','set')), 0), "
			   "coalesce((SELECT -sum(delta) FROM quota_ledger l WHERE l.user_id = u.id AND kind = 'charge'), 0), "
			   "u.quota, u.reserved, "
			   "(SELECT count(*) FROM quota_ledger l WHERE l.user_id = u.id AND kind = 'charge') "
			   "FROM users u WHERE u.deleted_at IS NULL ORDER BY u.username",
/* job_cols of db-job.c, in order. A list (job.list) reads the first
 * JOB_LIST_NCOLS, what a job object shows: a column is a few percent of a
 * row's cost, and run_until_ms, reserved, workdir, env and sim_run are for
 * the scheduler and the executors. */
#define JOB_LIST_COLS "j.id, j.name, j.owner_id, j.gpu_type, j.gpu_count, j.time_limit, j.status, j.reason, " \
	"j.created_at, j.approved_at, j.approved_by, j.started_at, j.finished_at, j.charged_seconds, j.exit_code, " \
	"j.command, j.devices, j.approve_seq, j.weight, j.approved_rule, j.external_id "
#define JOB_COLS JOB_LIST_COLS ", j.run_until_ms, j.reserved, j.workdir, j.env, j.sim_run "
/* No join: the owner's and the approver's names come from a cache of
 * names by id (db-job.c), which costs a lookup per user, not per row. */
#define JOB_FROM "FROM jobs j "
	[STMT_JOB_INSERT] = "INSERT INTO jobs(owner_id, name, gpu_type, gpu_count, time_limit, status, reason, command, "
			    "created_at, reserved, weight, workdir, env, sim_run) "
			    "VALUES(?1, ?2, ?3, ?4, ?5, 'PENDING', 'waiting for approval', ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[STMT_JOB_GET] = "SELECT " JOB_COLS JOB_FROM "WHERE j.id = ?1",
	[STMT_JOB_LIST_OWN] = "SELECT " JOB_LIST_COLS JOB_FROM
			      "WHERE j.owner_id = ?1 AND j.id < ?2 ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_LIST_ALL] = "SELECT " JOB_LIST_COLS JOB_FROM
			      "WHERE j.id < ?2 ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_LIST_STATE_OWN] = "SELECT " JOB_LIST_COLS JOB_FROM
				    "WHERE j.owner_id = ?1 AND j.id < ?2 AND (?4 >> (CASE j.status WHEN 'PENDING' THEN 0 "
				    "WHEN 'APPROVED' THEN 1 WHEN 'RUNNING' THEN 2 WHEN 'COMPLETED' THEN 3 WHEN 'FAILED' THEN 4 "
				    "WHEN 'CANCELLED' THEN 5 WHEN 'REJECTED' THEN 6 ELSE 7 END)) & 1 ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_LIST_STATE_ALL] = "SELECT " JOB_LIST_COLS JOB_FROM
				    "WHERE j.id < ?2 AND (?4 >> (CASE j.status WHEN 'PENDING' THEN 0 "
				    "WHEN 'APPROVED' THEN 1 WHEN 'RUNNING' THEN 2 WHEN 'COMPLETED' THEN 3 WHEN 'FAILED' THEN 4 "
				    "WHEN 'CANCELLED' THEN 5 WHEN 'REJECTED' THEN 6 ELSE 7 END)) & 1 ORDER BY j.id DESC LIMIT ?3",
/* brief_cols of db-job.c, in order. */
#define JOB_BRIEF_COLS "j.id, j.name, j.owner_id, j.gpu_type, j.gpu_count, j.time_limit, j.status, j.created_at "
#define STATE_BIT "(?4 >> (CASE j.status WHEN 'PENDING' THEN 0 WHEN 'APPROVED' THEN 1 WHEN 'RUNNING' THEN 2 " \
	"WHEN 'COMPLETED' THEN 3 WHEN 'FAILED' THEN 4 WHEN 'CANCELLED' THEN 5 WHEN 'REJECTED' THEN 6 ELSE 7 END)) & 1 "
	[STMT_JOB_BRIEF_OWN] = "SELECT " JOB_BRIEF_COLS JOB_FROM
			       "WHERE j.owner_id = ?1 AND j.id < ?2 ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_BRIEF_ALL] = "SELECT " JOB_BRIEF_COLS JOB_FROM
			       "WHERE j.id < ?2 ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_BRIEF_STATE_OWN] = "SELECT " JOB_BRIEF_COLS JOB_FROM
				     "WHERE j.owner_id = ?1 AND j.id < ?2 AND " STATE_BIT "ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_BRIEF_STATE_ALL] = "SELECT " JOB_BRIEF_COLS JOB_FROM
				     "WHERE j.id < ?2 AND " STATE_BIT "ORDER BY j.id DESC LIMIT ?3",
	/* Live states are few rows: found through jobs_status_id, not a scan. */
	[STMT_JOB_LIST_LIVE] = "SELECT " JOB_LIST_COLS JOB_FROM
			       "WHERE j.status IN (?5, ?6, ?7) AND j.id < ?2 AND (?1 = 0 OR j.owner_id = ?1) "
			       "ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_BRIEF_LIVE] = "SELECT " JOB_BRIEF_COLS JOB_FROM
				"WHERE j.status IN (?5, ?6, ?7) AND j.id < ?2 AND (?1 = 0 OR j.owner_id = ?1) "
				"ORDER BY j.id DESC LIMIT ?3",
	[STMT_JOB_SET_STATUS] = "UPDATE jobs SET status = ?3, reason = ?4, finished_at = ?5, reserved = 0, "
				"charged_seconds = ?6, exit_code = ?7 WHERE id = ?1 AND status = ?2",
	[STMT_JOB_APPROVE] = "UPDATE jobs SET status = 'APPROVED', approved_at = ?2, approved_by = ?3, approve_seq = ?4, "
			     "reason = ?5, approved_rule = ?6 WHERE id = ?1 AND status = 'PENDING'",
	[STMT_JOB_START] = "UPDATE jobs SET status = 'RUNNING', started_at = ?2, run_until_ms = ?3, devices = ?4, "
			   "reason = 'running' WHERE id = ?1 AND status = 'APPROVED'",
	[STMT_JOB_QUEUE] = "SELECT " JOB_COLS JOB_FROM
			   "WHERE j.status = 'APPROVED' ORDER BY j.approve_seq",
	[STMT_JOB_RUNNING] = "SELECT " JOB_COLS JOB_FROM
			     "WHERE j.status = 'RUNNING'",
	/* Per state through jobs_active (status, approve_seq): a max over the
	 * whole table scans it, 80 ms at a million jobs on every start. */
#define MAX_SEQ_OF(state) "SELECT max(approve_seq) AS s FROM jobs WHERE status = '" state "'"
	[STMT_JOB_MAX_SEQ] = "SELECT coalesce(max(s), 0) FROM (" MAX_SEQ_OF("PENDING") " UNION ALL "
			     MAX_SEQ_OF("APPROVED") " UNION ALL " MAX_SEQ_OF("RUNNING") " UNION ALL "
			     MAX_SEQ_OF("COMPLETED") " UNION ALL " MAX_SEQ_OF("FAILED") " UNION ALL "
			     MAX_SEQ_OF("CANCELLED") " UNION ALL " MAX_SEQ_OF("REJECTED") " UNION ALL "
			     MAX_SEQ_OF("EXPIRED") " UNION ALL " MAX_SEQ_OF("CANCELLING") ")",
	[STMT_JOB_ACTIVE_OF_USER] = "SELECT " JOB_COLS JOB_FROM
				    "WHERE j.owner_id = ?1 AND j.status IN ('PENDING','APPROVED','RUNNING')",
	[STMT_USER_RESERVE] = "UPDATE users SET reserved = reserved + ?2 WHERE id = ?1 AND reserved + ?2 >= 0 "
			      "AND (?2 <= 0 OR quota - reserved >= ?2)",
	[STMT_USER_CHARGE] = "UPDATE users SET quota = max(quota - ?2, 0), reserved = reserved - ?3 WHERE id = ?1",
	/* PENDING jobs created before ?1, oldest first, a bounded batch. */
	[STMT_JOB_EXPIRED_PENDING] = "SELECT " JOB_COLS JOB_FROM
				     "WHERE j.status = 'PENDING' AND j.created_at < ?1 ORDER BY j.id LIMIT ?2",
	[STMT_JOB_OLDEST_PENDING] = "SELECT coalesce(min(created_at), 0) FROM jobs WHERE status = 'PENDING'",
	[STMT_JOB_COUNTS] = "SELECT status, gpu_type, n FROM job_counts WHERE n > 0",
	[STMT_JOB_OLDEST_PENDING_OF] = "SELECT coalesce(min(created_at), 0) FROM jobs WHERE status = 'PENDING' "
				       "AND gpu_type = ?1",
	[STMT_JOB_SET_EXTERNAL] = "UPDATE jobs SET external_id = ?2 WHERE id = ?1",
	[STMT_JOB_PENDING_REASON] = "UPDATE jobs SET reason = ?2 WHERE id = ?1 AND status = 'PENDING'",
	[STMT_USER_CHARGED_SINCE] = "SELECT coalesce(-sum(delta), 0) FROM quota_ledger "
				    "WHERE user_id = ?1 AND kind = 'charge' AND at >= ?2",
	[STMT_LEDGER_OF_USER] = "SELECT l.at, l.kind, l.delta, l.job_id, (SELECT username FROM users WHERE id = l.actor_id), "
				"l.reason FROM quota_ledger l WHERE l.user_id = ?1 AND l.at >= ?2 ORDER BY l.id LIMIT ?3",
	[STMT_EVENT_INSERT] = "INSERT INTO events(at, actor, kind, job_id, user_id, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	/* ?1 since, ?2 limit, ?3 job (0: any), ?4 visible-to user (0: all), ?5 kinds ("": any, else ",a,b,"),
	 * ?6 actor or subject name ("": any), ?7 at or after (0: any). */
	[STMT_EVENT_LIST] = "SELECT e.seq, e.at, e.actor, e.kind, e.job_id, s.username, e.detail FROM events e "
			    "LEFT JOIN users s ON s.id = e.user_id "
			    "WHERE e.seq > ?1 AND (?3 = 0 OR e.job_id = ?3) AND (?4 = 0 OR e.user_id = ?4) "
			    "AND (?5 = '' OR instr(?5, ',' || e.kind || ',') > 0) "
			    "AND (?6 = '' OR e.actor = ?6 OR s.username = ?6) "
			    "AND e.at >= ?7 ORDER BY e.seq LIMIT ?2",
	[STMT_EVENT_MAX_SEQ] = "SELECT coalesce(max(seq), 0) FROM events",
	/* The newest event always stays: seq is the rowid, and SQLite gives a new
	 * row max + 1, so keeping the last one means no seq is ever reused. */
	[STMT_EVENT_PRUNE] = "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < ?1 "
			     "AND seq < (SELECT max(seq) FROM events) ORDER BY seq LIMIT ?2)",
	[STMT_RULE_INSERT] = "INSERT INTO rules(gpu_types, max_count, max_time, users, scope, daily_cap, note, created_at, "
			     "created_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[STMT_RULE_DELETE] = "UPDATE rules SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
	[STMT_RULE_LIST] = "SELECT r.id, r.gpu_types, r.max_count, r.max_time, r.users, r.scope, r.daily_cap, r.note, "
			   "r.created_at, (SELECT username FROM users WHERE id = r.created_by) FROM rules r "
			   "WHERE r.deleted_at IS NULL ORDER BY r.id",
	[STMT_RULE_COUNT] = "SELECT count(*) FROM rules WHERE deleted_at IS NULL",
	[STMT_RULE_APPROVED_SINCE] = "SELECT coalesce(sum(gpu_count * time_limit * weight), 0) FROM jobs "
				     "WHERE approved_rule = ?1 AND owner_id = ?2 AND approved_at >= ?3",
};

/* Forward migrations: migrations[i] takes user_version i to i + 1. Never edit
 * one that has shipped; append a new one. */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL,"
	"  hashed_password TEXT NOT NULL,"
	"  is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),"
	"  quota INTEGER NOT NULL DEFAULT 0 CHECK (quota >= 0),"
	"  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),"
	"  token_version INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL,"
	"  deleted_at INTEGER"
	");"
	"CREATE UNIQUE INDEX users_live_name ON users(username) WHERE deleted_at IS NULL;"
	"CREATE TABLE jobs("
	"  id INTEGER PRIMARY KEY,"
	"  owner_id INTEGER NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL DEFAULT '',"
	"  gpu_type TEXT NOT NULL,"
	"  gpu_count INTEGER NOT NULL CHECK (gpu_count > 0),"
	"  time_limit INTEGER NOT NULL CHECK (time_limit > 0),"
	"  status TEXT NOT NULL CHECK (status IN ('PENDING','APPROVED','RUNNING','COMPLETED','FAILED','CANCELLED','REJECTED')),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  command TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  approved_at INTEGER,"
	"  approved_by INTEGER REFERENCES users(id),"
	"  approve_seq INTEGER,"
	"  started_at INTEGER,"
	"  run_until_ms INTEGER,"
	"  devices TEXT,"
	"  finished_at INTEGER,"
	"  charged_seconds INTEGER,"
	"  exit_code INTEGER,"
	"  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)"
	");"
	"CREATE INDEX jobs_owner ON jobs(owner_id, id);"
	"CREATE INDEX jobs_active ON jobs(status, approve_seq) WHERE status IN ('PENDING','APPROVED','RUNNING');"
	"CREATE TABLE quota_ledger("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('grant','set','charge')),"
	"  delta INTEGER NOT NULL,"
	"  job_id INTEGER REFERENCES jobs(id),"
	"  actor_id INTEGER REFERENCES users(id),"
	"  reason TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX ledger_user ON quota_ledger(user_id, kind);",
	/* 1 -> 2: listing by live state (admin pending) without a full scan. */
	"CREATE INDEX jobs_status_id ON jobs(status, id);",
	/* 2 -> 3: the approval workflow. Jobs gain the weight they were reserved
	 * with, the rule that approved them, an executor's own id (Slurm's) and
	 * the states EXPIRED (and CANCELLING, kept for the executors that stop
	 * a job slowly); SQLite cannot change a CHECK in place, so the table is
	 * rebuilt (migrate() checks the foreign keys before it commits). Also: per-state counts
	 * kept by triggers (metrics cost no scan), the event log and rules. The
	 * event seq is the rowid (never reused: pruning keeps the newest). */
	"CREATE TABLE jobs_v3("
	"  id INTEGER PRIMARY KEY,"
	"  owner_id INTEGER NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL DEFAULT '',"
	"  gpu_type TEXT NOT NULL,"
	"  gpu_count INTEGER NOT NULL CHECK (gpu_count > 0),"
	"  time_limit INTEGER NOT NULL CHECK (time_limit > 0),"
	/* instr, not IN (...): an IN list makes SQLite build a temporary table
	 * on every insert and update, a cost every submit paid. */
	"  status TEXT NOT NULL CHECK (instr(',PENDING,APPROVED,RUNNING,COMPLETED,FAILED,CANCELLED,REJECTED,EXPIRED,"
	"CANCELLING,', ',' || status || ',') > 0 AND instr(status, ',') = 0),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  command TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  approved_at INTEGER,"
	"  approved_by INTEGER REFERENCES users(id),"
	"  approve_seq INTEGER,"
	"  started_at INTEGER,"
	"  run_until_ms INTEGER,"
	"  devices TEXT,"
	"  finished_at INTEGER,"
	"  charged_seconds INTEGER,"
	"  exit_code INTEGER,"
	"  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),"
	"  weight INTEGER NOT NULL DEFAULT 1 CHECK (weight > 0),"
	"  approved_rule INTEGER,"
	"  external_id TEXT,"
	"  workdir TEXT,"
	"  env TEXT,"
	"  sim_run INTEGER"
	");"
	"INSERT INTO jobs_v3(id, owner_id, name, gpu_type, gpu_count, time_limit, status, reason, command, created_at,"
	"  approved_at, approved_by, approve_seq, started_at, run_until_ms, devices, finished_at, charged_seconds,"
	"  exit_code, reserved)"
	"  SELECT id, owner_id, name, gpu_type, gpu_count, time_limit, status, reason, command, created_at,"
	"  approved_at, approved_by, approve_seq, started_at, run_until_ms, devices, finished_at, charged_seconds,"
	"  exit_code, reserved FROM jobs;"
	"DROP TABLE jobs;"
	"ALTER TABLE jobs_v3 RENAME TO jobs;"
	"CREATE INDEX jobs_owner ON jobs(owner_id, id);"
	"CREATE INDEX jobs_active ON jobs(status, approve_seq);"
	"CREATE INDEX jobs_status_id ON jobs(status, id);"
	"CREATE INDEX jobs_rule_day ON jobs(approved_rule, owner_id, approved_at) WHERE approved_rule IS NOT NULL;"
	"CREATE INDEX jobs_pending_age ON jobs(gpu_type, created_at) WHERE status = 'PENDING';"
	"CREATE TABLE job_counts("
	"  status TEXT NOT NULL,"
	"  gpu_type TEXT NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY (status, gpu_type)"
	") WITHOUT ROWID;"
	"INSERT INTO job_counts SELECT status, gpu_type, count(*) FROM jobs GROUP BY status, gpu_type;"
	"CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN"
	"  INSERT INTO job_counts VALUES (NEW.status, NEW.gpu_type, 1)"
	"    ON CONFLICT (status, gpu_type) DO UPDATE SET n = n + 1;"
	"END;"
	"CREATE TRIGGER job_counts_status AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status BEGIN"
	"  UPDATE job_counts SET n = n - 1 WHERE status = OLD.status AND gpu_type = OLD.gpu_type;"
	"  INSERT INTO job_counts VALUES (NEW.status, NEW.gpu_type, 1)"
	"    ON CONFLICT (status, gpu_type) DO UPDATE SET n = n + 1;"
	"END;"
	"CREATE TABLE events("
	"  seq INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  job_id INTEGER,"
	"  user_id INTEGER,"
	"  detail TEXT NOT NULL DEFAULT '{}'"
	");"
	"CREATE INDEX events_user ON events(user_id, seq);"
	"CREATE INDEX events_job ON events(job_id, seq) WHERE job_id IS NOT NULL;"
	"CREATE TRIGGER events_append_only BEFORE UPDATE ON events BEGIN"
	"  SELECT RAISE(ABORT, 'events are append-only');"
	"END;"
	"CREATE TABLE rules("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  gpu_types TEXT,"
	"  max_count INTEGER,"
	"  max_time INTEGER,"
	"  users TEXT,"
	"  scope TEXT NOT NULL CHECK (scope IN ('users','non_admins','all')),"
	"  daily_cap INTEGER,"
	"  note TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  created_by INTEGER REFERENCES users(id),"
	"  deleted_at INTEGER"
	");",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

int db_fail(struct db *db, int rc, const char *what)
{
	db->last_error = rc;
	log_event(LOG_ERROR, "db.error", "op=\"%s\" code=%d error=\"%s\"", what, rc,
		db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
	return -1;
}

bool db_error_is_transient(const struct db *db)
{
	switch (db->last_error & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
		return true;
	default:
		return false;
	}
}

sqlite3_stmt *db_stmt(struct db *db, enum stmt_id id)
{
	if (!db->stmts[id]) {
		int rc = sqlite3_prepare_v3(db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &db->stmts[id], NULL);
		if (rc != SQLITE_OK) {
			db_fail(db, rc, stmt_sql[id]);
			return NULL;
		}
	}
	return db->stmts[id];
}

int db_exec_stmt(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		return db_fail(db, sqlite3_extended_errcode(db->h), sqlite3_sql(st));
	}
	return 0;
}

int db_exec_one(struct db *db, sqlite3_stmt *st, int none)
{
	if (db_exec_stmt(db, st) < 0)
		return -1;
	return sqlite3_changes(db->h) == 1 ? 0 : none;
}

sqlite3_stmt *db_stmt_bind(struct db *db, enum stmt_id id, const struct db_arg *args, int n)
{
	sqlite3_stmt *st = db_stmt(db, id);
	if (!st)
		return NULL;
	for (int i = 0; i < n; i++) {
		int rc;
		if (args[i].kind == DB_ARG_INT)
			rc = sqlite3_bind_int64(st, i + 1, args[i].i);
		else if (args[i].kind == DB_ARG_TEXT)
			rc = sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_STATIC);
		else
			rc = sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK) {
			sqlite3_clear_bindings(st);
			db_fail(db, rc, stmt_sql[id]);
			return NULL;
		}
	}
	return st;
}

int db_run(struct db *db, enum stmt_id id, const struct db_arg *args, int n)
{
	sqlite3_stmt *st = db_stmt_bind(db, id, args, n);
	return st ? db_exec_stmt(db, st) : -1;
}

int db_run_one(struct db *db, enum stmt_id id, int none, const struct db_arg *args, int n)
{
	sqlite3_stmt *st = db_stmt_bind(db, id, args, n);
	return st ? db_exec_one(db, st, none) : -1;
}

int db_each_row(struct db *db, sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *arg), void *arg,
	const char *what)
{
	if (!st)
		return -1;
	int rc, result = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((result = row(st, arg)) != 0)
			break;
	if (result == 0 && rc != SQLITE_DONE)
		result = db_fail(db, sqlite3_extended_errcode(db->h), what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return result;
}

int db_scalar(struct db *db, enum stmt_id id, const char *what, int64_t *out)
{
	return db_scalar_of(db, db_stmt(db, id), what, out);
}

int db_scalar_of(struct db *db, sqlite3_stmt *st, const char *what, int64_t *out)
{
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int result = 0;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		result = db_fail(db, sqlite3_extended_errcode(db->h), what);
	sqlite3_reset(st);
	return result;
}

static int exec_simple(struct db *db, enum stmt_id id)
{
	sqlite3_stmt *st = db_stmt(db, id);
	if (!st)
		return -1;
	return db_exec_stmt(db, st);
}

int db_begin(struct db *db)
{
	return exec_simple(db, STMT_BEGIN);
}

int db_commit(struct db *db)
{
	return exec_simple(db, STMT_COMMIT);
}

int db_rollback(struct db *db)
{
	/* After a failed COMMIT SQLite may have rolled back by itself. */
	if (sqlite3_get_autocommit(db->h))
		return 0;
	return exec_simple(db, STMT_ROLLBACK);
}

int db_savepoint(struct db *db)
{
	return exec_simple(db, STMT_SAVEPOINT);
}

int db_release(struct db *db)
{
	return exec_simple(db, STMT_RELEASE);
}

int db_rollback_to(struct db *db)
{
	int rc = exec_simple(db, STMT_ROLLBACK_TO);
	if (rc == 0)
		rc = exec_simple(db, STMT_RELEASE);
	return rc;
}

/* Looks at the file before SQLite touches it: nothing is written to a file
 * that turns out not to be ours. Returns 0 (absent, empty, or SQLite), -1. */
static int check_header(const char *path, bool *is_new, char *err, size_t errlen)
{
	*is_new = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			*is_new = true;
			return 0;
		}
		snprintf(err, errlen, "cannot open database %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "database %s is not a regular file", path);
		return -1;
	}
	char hdr[16];
	ssize_t n = read(fd, hdr, sizeof hdr);
	close(fd);
	if (st.st_size == 0) {
		*is_new = true;
		return 0;
	}
	if (n != (ssize_t)sizeof hdr || memcmp(hdr, "SQLite format 3", 16) != 0) {
		snprintf(err, errlen,
			"%s is not an SQLite database (corrupt or foreign file); refusing to start, file left untouched",
			path);
		return -1;
	}
	return 0;
}

static int query_int(sqlite3 *h, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Read-only look inside an existing file: ours, and not from the future? */
static int check_identity(const char *path, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
	int64_t app = 0, ver = 0, tables = 0;
	if (rc == SQLITE_OK)
		rc = query_int(h, "PRAGMA application_id", &app);
	if (rc == SQLITE_OK)
		rc = query_int(h, "PRAGMA user_version", &ver);
	if (rc == SQLITE_OK)
		rc = query_int(h, "SELECT count(*) FROM sqlite_schema", &tables);
	int result = 0;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "database %s is unreadable or corrupt (%s); refusing to start, file left untouched",
			path, sqlite3_errstr(rc));
		result = -1;
	} else if (app != GPUAAS_APPLICATION_ID && (tables > 0 || ver != 0)) {
		snprintf(err, errlen, "%s is an SQLite database of another application; refusing to start, file left untouched",
			path);
		result = -1;
	} else if (ver > SCHEMA_VERSION) {
		snprintf(err, errlen, "database %s has schema version %lld, newer than this gpuaasd knows (%d); "
			"refusing to start", path, (long long)ver, SCHEMA_VERSION);
		result = -1;
	}
	sqlite3_close(h);
	return result;
}

static int exec_sql(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_event(LOG_ERROR, "db.error", "sql=\"%.60s\" error=\"%s\"", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		db->last_error = rc;
		return -1;
	}
	return 0;
}

/* No row may point at nothing: foreign_key_check must come back empty. */
static int foreign_keys_sound(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	log_event(LOG_ERROR, "db.migration_broken_keys", "error=\"%s\"", rc == SQLITE_ROW ? "a row points at nothing" :
		sqlite3_errmsg(db->h));
	return -1;
}

/* Runs the migrations from the file's version on, each step atomic (a
 * crash mid-migration leaves the version before it). Foreign keys are off
 * while they run, as SQLite's table-rebuild procedure asks, and checked by
 * hand before each step commits. */
static int migrate(struct db *db, char *err, size_t errlen)
{
	int64_t ver = 0;
	if (query_int(db->h, "PRAGMA user_version", &ver) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db->h));
		return -1;
	}
	if (ver < SCHEMA_VERSION && exec_sql(db, "PRAGMA foreign_keys = OFF") < 0)
		goto fail;
	for (int v = (int)ver; v < SCHEMA_VERSION; v++) {
		char bump[96];
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d; PRAGMA application_id = %d;", v + 1,
			GPUAAS_APPLICATION_ID);
		if (exec_sql(db, "BEGIN IMMEDIATE") < 0)
			goto fail;
		if (exec_sql(db, migrations[v]) < 0 || foreign_keys_sound(db) < 0 || exec_sql(db, bump) < 0) {
			exec_sql(db, "ROLLBACK");
			goto fail;
		}
		if (exec_sql(db, "COMMIT") < 0)
			goto fail;
		log_event(LOG_INFO, "db.migrated", "version=%d", v + 1);
	}
	if (exec_sql(db, "PRAGMA foreign_keys = ON") < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "schema migration failed: %s", sqlite3_errmsg(db->h));
	return -1;
}

/* Each request runs in a savepoint inside the batch transaction, and SQLite
 * keeps a savepoint's undo pages in a statement journal that spills to a
 * temporary file past 64 KiB by default. A submit touches about fifteen
 * pages (the job row, its indexes, its event and the user's reservation),
 * just over that, so every submit paid ~15 pwrite calls to a file that is
 * never read. Hold statement journals in memory up to 1 MiB; a bulk request
 * larger than that still spills. SQLite allocates an in-memory journal in
 * chunks of this size, so it must stay below the malloc mmap threshold that
 * main.c sets (4 MiB): at 4 MiB each request got a fresh mmap and submits
 * ran at half speed. This is process-wide and must come before SQLite
 * initialises, so it is set once, before the first open. */
#define STMT_JOURNAL_SPILL (1 << 20)

static void configure_sqlite(void)
{
	static bool configured;
	if (configured)
		return;
	int rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_SPILL);
	/* Only a speed setting: MISUSE (SQLite already initialised in this
	 * process, e.g. by a test harness) or an older SQLite without it keeps
	 * the default threshold, which is correct, only slower. */
	if (rc != SQLITE_OK)
		log_event(LOG_WARN, "db.config_refused", "setting=stmtjrnl_spill error=\"%s\"", sqlite3_errstr(rc));
	configured = true;
}

int db_open(const char *path, struct db **out, char *err, size_t errlen)
{
	bool is_new;
	configure_sqlite();
	if (check_header(path, &is_new, err, errlen) < 0)
		return -1;
	if (!is_new && check_identity(path, err, errlen) < 0)
		return -1;
	struct db *db = calloc(1, sizeof *db);
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The DB, WAL and SHM files are created 0600. */
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &db->h,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(db->h, 1);
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
		sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
		/* Only an outside process can hold the lock: give up fast (UNAVAILABLE)
		 * rather than stall the event loop. */
		sqlite3_busy_timeout(db->h, 250);
	}
	if (rc != SQLITE_OK ||
	    exec_sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;") < 0) {
		umask(old);
		snprintf(err, errlen, "cannot open database %s: %s", path,
			db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		db_close(db);
		return -1;
	}
	if (migrate(db, err, errlen) < 0) {
		umask(old);
		db_close(db);
		return -1;
	}
	umask(old);
	if (chmod(path, 0600) < 0)
		log_event(LOG_WARN, "db.chmod", "path=%s error=\"%s\"", path, strerror(errno));
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	if (db->h)
		sqlite3_close(db->h);
	free(db);
}
