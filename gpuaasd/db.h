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

/* One row of a user's quota ledger: a grant, a set or a charge. */
struct ledger_row {
	int64_t at;
	const char *kind;  /* "grant", "set", "charge" */
	int64_t delta;     /* GPU-seconds (a charge is negative) */
	int64_t job_id;    /* 0: none */
	const char *actor; /* who did it, or NULL */
	const char *reason;
};
typedef int (*db_ledger_cb)(void *arg, const struct ledger_row *row);
/* A user's ledger rows at or after since, oldest first, at most limit. */
int db_ledger_of_user(struct db *db, int64_t user_id, int64_t since, int64_t limit, db_ledger_cb cb, void *arg);

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
	int64_t approver_id;     /* who approved it; 0: nobody (or a rule) */
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
	int64_t weight;          /* charge weight of its GPU type at submit */
	int64_t approved_rule;   /* the rule that approved it; 0: a person or none */
	const char *external_id; /* the executor's own id (Slurm's job id) or NULL */
	const char *workdir;     /* where the job starts (submit --chdir) or NULL */
	const char *env;         /* a JSON object of extra variables, or NULL */
	int64_t sim_run;         /* sim: seconds it really runs; 0: its whole limit */
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

/* What a new job is: inserted PENDING. */
struct job_insert {
	int64_t owner_id;
	const char *name;
	const char *gpu_type;
	int64_t count;
	int64_t time_limit;
	const char *command_json; /* NULL: none */
	int64_t now;
	int64_t reserved;
	int64_t weight;
	const char *workdir; /* NULL: the executor's choice */
	const char *env;     /* JSON object text or NULL */
	int64_t sim_run;     /* 0: none */
};
int db_job_insert(struct db *db, const struct job_insert *j, int64_t *id_out);
/* DB_NOTFOUND when absent. */
int db_job_get(struct db *db, int64_t id, db_job_cb cb, void *arg);
/* Newest first. Its rows hold what a job object shows (brief: what a
 * brief row shows): run_until_ms, reserved, workdir, env and sim_run are
 * left 0 or NULL. */
int db_job_list(struct db *db, const struct job_filter *f, db_job_cb cb, void *arg);
/* APPROVED jobs in approval order; RUNNING jobs; a user's live jobs. */
int db_job_queue(struct db *db, db_job_cb cb, void *arg);
int db_job_running(struct db *db, db_job_cb cb, void *arg);
int db_job_live_of_user(struct db *db, int64_t owner_id, db_job_cb cb, void *arg);
int db_job_max_seq(struct db *db, int64_t *out);

/* Conditional transitions: DB_CONFLICT when the job is not in `from`. */
/* by: the approving user (0: a rule), rule: the approving rule (0: none). */
int db_job_approve(struct db *db, int64_t id, int64_t now, int64_t by, int64_t rule, int64_t seq, const char *reason);
int db_job_start(struct db *db, int64_t id, int64_t now, int64_t run_until_ms, const char *devices);
/* Sets a final status from `from` (reserved -> 0); charged < 0 and
 * exit_code < 0 store null. */
int db_job_close(struct db *db, int64_t id, const char *from, const char *to, const char *reason, int64_t now,
	int64_t charged, int64_t exit_code);
/* Sets the reason of a PENDING job (why it still waits for a person). */
int db_job_set_pending_reason(struct db *db, int64_t id, const char *reason);
/* Stores the executor's own id of a job (e.g. Slurm's). */
int db_job_set_external_id(struct db *db, int64_t id, const char *external_id);
/* PENDING jobs created before `before`, oldest first, at most limit. */
int db_job_pending_before(struct db *db, int64_t before, int64_t limit, db_job_cb cb, void *arg);
/* created_at of the oldest PENDING job (of a GPU type); 0 when none. */
int db_job_oldest_pending(struct db *db, int64_t *out);
int db_job_oldest_pending_of(struct db *db, const char *gpu_type, int64_t *out);
/* Jobs per state and GPU type, from counts kept by triggers (no scan). */
typedef int (*db_count_cb)(void *arg, const char *status, const char *gpu_type, int64_t n);
int db_job_counts(struct db *db, db_count_cb cb, void *arg);
/* GPU-seconds charged to a user since `since` (ledger). */
int db_user_charged_since(struct db *db, int64_t user_id, int64_t since, int64_t *out);

/* ---- events (db-event.c) ---- */

struct event_row {
	int64_t seq;
	int64_t at;
	const char *actor;
	const char *kind;
	int64_t job_id;    /* 0: none */
	const char *user;  /* the subject user's name, or NULL */
	const char *detail; /* a JSON object */
};
typedef int (*db_event_cb)(void *arg, const struct event_row *row);

struct event_filter {
	int64_t since;        /* events after this seq */
	int64_t limit;
	int64_t job_id;       /* 0: any */
	int64_t visible_to;   /* 0: all; else only events whose subject is this user id */
	const char *kinds;    /* NULL or "": any; else ",job.approved,user.created," */
	const char *user;     /* NULL or "": any; else events by or about this user name */
	int64_t at_or_after;  /* 0: any */
};

/* Appends an event; *seq_out (may be NULL) gets its sequence number. */
int db_event_insert(struct db *db, int64_t at, const char *actor, const char *kind, int64_t job_id,
	int64_t user_id, const char *detail, int64_t *seq_out);
int db_event_list(struct db *db, const struct event_filter *f, db_event_cb cb, void *arg);
int db_event_max_seq(struct db *db, int64_t *out);
/* Deletes at most limit events older than `before`; *n gets how many. */
int db_event_prune(struct db *db, int64_t before, int64_t limit, int64_t *n);

/* ---- rules (db-event.c) ---- */

struct rule_row {
	int64_t id;
	const char *gpu_types; /* "A100,T4" or NULL: any */
	int64_t max_count;     /* 0: any */
	int64_t max_time;      /* 0: any */
	const char *users;     /* "alice,bob" or NULL */
	const char *scope;     /* "users", "non_admins" or "all" */
	int64_t daily_cap;     /* 0: none */
	const char *note;
	int64_t created_at;
	const char *created_by;
};
typedef int (*db_rule_cb)(void *arg, const struct rule_row *row);

int db_rule_insert(struct db *db, const struct rule_row *r, int64_t created_by, int64_t *id_out);
/* DB_NOTFOUND when there is no such live rule. */
int db_rule_delete(struct db *db, int64_t id, int64_t now);
int db_rule_list(struct db *db, db_rule_cb cb, void *arg);
/* Live rules. */
int db_rule_count(struct db *db, int64_t *out);
/* GPU-seconds (count x time x weight) that rule approved for owner since. */
int db_rule_approved_since(struct db *db, int64_t rule_id, int64_t owner_id, int64_t since, int64_t *out);

#endif
