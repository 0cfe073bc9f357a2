/* The database: SQLite in the state dir, WAL + synchronous=FULL, versioned
 * schema with forward migrations, prepared statements only. All SQL of the
 * daemon lives in db.c, db-user.c and db-job.c. Single-threaded: only the
 * event loop's thread uses it. Functions return 0 on success, DB_NOTFOUND /
 * DB_EXISTS / DB_CONFLICT where noted, and -1 on an SQLite error (logged). */
#ifndef GPUAAS_GPUAASD_DB_H
#define GPUAAS_GPUAASD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_NOTFOUND 1
#define DB_EXISTS 2
#define DB_CONFLICT 3

#define USERNAME_MAX 32

struct db;

/* Opens (creating when absent or empty) the database at path. A file that is
 * not SQLite, not ours, or from a newer gpuaas is refused with a message in
 * err and left untouched. */
int db_open(const char *path, struct db **out, char *err, size_t errlen);
/* Finalizes statements and closes; NULL is a no-op. */
void db_close(struct db *db);
/* True when the last error means "no space / cannot write" (disk full,
 * read-only, I/O), i.e. worth UNAVAILABLE rather than INTERNAL. */
bool db_error_is_transient(const struct db *db);

/* Write transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK, and named-less
 * savepoints nested inside them (one per request). */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
int db_savepoint(struct db *db);
int db_release(struct db *db);
int db_rollback_to(struct db *db);

/* ---- users (db-user.c) ---- */

struct user_row {
	int64_t id;
	char username[USERNAME_MAX + 1];
	char hash[128];
	bool is_admin;
	int64_t quota;    /* remaining GPU-seconds */
	int64_t reserved; /* held by jobs not yet final */
	int64_t token_version;
	int64_t created_at;
};

/* Live (not deleted) users. DB_NOTFOUND when absent. */
int db_user_by_name(struct db *db, const char *username, struct user_row *out);
int db_user_by_id(struct db *db, int64_t id, struct user_row *out);
/* Inserts; DB_EXISTS when the name is taken. Writes a ledger 'grant' row for
 * a non-zero initial quota. */
int db_user_insert(struct db *db, const char *username, const char *hash, bool is_admin, int64_t quota,
	int64_t now, int64_t actor_id, int64_t *id_out);
/* Marks the user deleted (history stays; the name can be reused) and bumps
 * its token version. */
int db_user_delete(struct db *db, int64_t id, int64_t now);
/* Stores a new hash and bumps the token version (older tokens die). */
int db_user_set_password(struct db *db, int64_t id, const char *hash);
/* Sets the role. Tokens stay valid: the role is read from the database at
 * every request, so the change applies at the user's next request. */
int db_user_set_admin(struct db *db, int64_t id, bool is_admin);
/* Sets (set=true) or adds to the remaining quota, with a ledger row.
 * DB_CONFLICT when the result would leave 0..DB_QUOTA_MAX. */
#define DB_QUOTA_MAX INT64_C(1000000000000000)
int db_user_quota_change(struct db *db, int64_t id, bool set, int64_t value, int64_t actor_id,
	int64_t now, struct user_row *after);
/* Job quota: reserve (delta > 0, DB_CONFLICT when over available) or
 * release (delta < 0). */
int db_user_reserve(struct db *db, int64_t user_id, int64_t delta);
/* Takes charge from remaining (caller caps it) and releases `release` of the
 * reservation, with a ledger row when charge > 0. */
int db_user_charge(struct db *db, int64_t user_id, int64_t charge, int64_t release, int64_t job_id, int64_t now);
/* Number of live users. */
int db_user_count(struct db *db, int64_t *out);
/* All live users ordered by name; *rows is malloc'd (caller frees). */
int db_user_list(struct db *db, struct user_row **rows, size_t *n);

/* Ledger totals for one user (from the quota ledger). */
struct usage_row {
	char username[USERNAME_MAX + 1];
	int64_t granted;   /* sum of grants and sets */
	int64_t charged;   /* sum of charges (positive) */
	int64_t remaining;
	int64_t reserved;
	int64_t jobs;      /* jobs ever charged */
};
/* username NULL: every live user. *rows malloc'd. */
int db_usage_report(struct db *db, const char *username, struct usage_row **rows, size_t *n);

/* ---- jobs (db-job.c) ---- */

/* One job as read from the database. Strings point into SQLite's memory:
 * valid only during the callback that receives the row. */
struct job_row {
	int64_t id;
	const char *name;
	const char *owner;
	const char *gpu_type;
	int64_t gpu_count;
	int64_t time_limit;
	const char *status;
	const char *reason;
	int64_t created_at;
	int64_t approved_at;     /* 0: null */
	const char *approved_by; /* NULL: null */
	int64_t started_at;
	int64_t finished_at;
	bool has_charged;
	int64_t charged_seconds;
	bool has_exit_code;
	int64_t exit_code;
	const char *command; /* JSON array text or NULL */
	int64_t owner_id;
	int64_t run_until_ms;
	const char *devices; /* "0,1" or NULL */
	int64_t reserved;
	int64_t approve_seq;
};

/* Row callback: return 0 to go on, non-zero to stop (that value is returned). */
typedef int (*db_job_cb)(void *arg, const struct job_row *row);

struct job_filter {
	int64_t owner_id;  /* 0: every owner */
	int64_t before_id; /* only ids below; 0: no bound */
	int64_t limit;
	unsigned state_mask; /* bit per enum job_state; 0: all */
	bool brief; /* only id, name, owner, gpu_type, gpu_count, time_limit,
		     * status, reason, created_at are read; the rest is zero */
};

int db_job_insert(struct db *db, int64_t owner_id, const char *name, const char *gpu_type, int64_t count,
	int64_t time_limit, const char *command_json, int64_t now, int64_t reserved, int64_t *id_out);
/* DB_NOTFOUND when absent. */
int db_job_get(struct db *db, int64_t id, db_job_cb cb, void *arg);
/* Newest first. */
int db_job_list(struct db *db, const struct job_filter *f, db_job_cb cb, void *arg);
/* APPROVED jobs in approval order; RUNNING jobs; a user's live jobs. */
int db_job_queue(struct db *db, db_job_cb cb, void *arg);
int db_job_running(struct db *db, db_job_cb cb, void *arg);
int db_job_live_of_user(struct db *db, int64_t owner_id, db_job_cb cb, void *arg);
int db_job_max_seq(struct db *db, int64_t *out);

/* Conditional transitions: DB_CONFLICT when the job is not in `from`. */
int db_job_approve(struct db *db, int64_t id, int64_t now, int64_t by, int64_t seq, const char *reason);
int db_job_start(struct db *db, int64_t id, int64_t now, int64_t run_until_ms, const char *devices);
/* Sets a final status from `from` (reserved -> 0); charged < 0 and
 * exit_code < 0 store null. */
int db_job_close(struct db *db, int64_t id, const char *from, const char *to, const char *reason, int64_t now,
	int64_t charged, int64_t exit_code);

#endif
