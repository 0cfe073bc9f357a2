/* What the local executor's files share (exec-local.c, exec-local-ident.c,
 * exec-local-log.c): who a job runs as, and how its output reaches its log.
 * Nothing outside the local executor includes it. */
#ifndef GPUAAS_GPUAASD_EXEC_LOCAL_H
#define GPUAAS_GPUAASD_EXEC_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "gpuaasd/jail.h"

struct config;
struct daemon;
struct exec_spec;

/* --job-user dynamic: gpuaas user N runs as uid and gid base + N, for N
 * below this count (61184..65519 by default, systemd's DynamicUser range). */
#define IDENT_DYNAMIC_COUNT 4336

enum ident_mode {
	IDENT_SELF,    /* a daemon that is not root: jobs run as the daemon's user */
	IDENT_DYNAMIC, /* one reserved uid per gpuaas user */
	IDENT_OWNER,   /* the Unix account named like the gpuaas user */
	IDENT_ACCOUNT, /* one named account for every job (not isolated) */
};

/* The --job-user policy, fixed at start. */
struct ident_policy {
	enum ident_mode mode;
	uid_t base;             /* dynamic */
	uid_t min_uid;          /* owner */
	struct job_ident shared; /* self and account */
};

/* Reads --job-user, --job-uid-base and --job-min-uid. 0, or -1 with err
 * (the account is missing or root, ...). */
int ident_init(struct ident_policy *p, const struct config *cfg, char *err, size_t errlen);
/* Who the job of gpuaas user owner_id (named owner_name) runs as. 0, or -1
 * with a reason for the job's log in err. */
int ident_of_job(const struct ident_policy *p, int64_t owner_id, const char *owner_name, struct job_ident *out,
	char *err, size_t errlen);
/* True when this policy's uids belong to jobs alone (dynamic): every
 * process running under one is a job's. */
bool ident_uids_are_jobs(const struct ident_policy *p);
/* Dynamic: SIGKILLs every process running under a job uid (left by a daemon
 * that died) and waits up to timeout_ms for them to go. The number killed,
 * or -1 when some were still there at the timeout. */
int ident_sweep(const struct ident_policy *p, int timeout_ms);

/* A job's log: <state>/logs/ID.log, written by the daemon only. */
struct job_log {
	int fd;
	int64_t bytes;
	int64_t cap;
	bool truncated;
};

/* Opens (creating <state>/logs, 0700) the job's log for appending. 0 or -1
 * with err. */
int job_log_open(struct job_log *log, const struct config *cfg, int64_t job_id, char *err, size_t errlen);
/* Appends what the job wrote, up to the cap (then a note, once). */
void job_log_write(struct job_log *log, const char *buf, size_t n);
/* Closes the log; -1 fd is a no-op. */
void job_log_close(struct job_log *log);
/* Moves logs of jobs run before logs lived in <state>/logs (regular files
 * only) there. 0, or -1 with err. */
int job_logs_migrate(const struct config *cfg, char *err, size_t errlen);
/* The log's path (the executor's log_path member). */
int job_log_path(const struct config *cfg, int64_t job_id, char *buf, size_t len);

/* Everything a job needs before the fork (exec-local-spec.c). */
struct launch {
	struct jail_spec jail;
	struct job_ident who;
	cJSON *cmd;
	char **argv;
	char *envp[16 + 128];   /* the daemon's 10 variables, then the submit's */
	char env_buf[12][1024];
	char *env_extra[128];   /* "KEY=VALUE" of the submit's --env, malloc'd */
	int nextra;
	char workdir[4200];
	char devs[2048];
};

/* Fills l for spec: the command, who runs it, its directory (made and
 * given to that identity), its environment and its /dev. 0, or -1 with a
 * reason for the job's log in err. Free with launch_finish in any case. */
int launch_prepare(struct launch *l, struct daemon *d, const struct ident_policy *ip, bool isolate,
	const struct exec_spec *spec, char *err, size_t errlen);
/* Frees what launch_prepare allocated. */
void launch_finish(struct launch *l);

#endif
