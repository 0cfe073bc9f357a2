/* What the Slurm executor's files share: exec-slurm.c (the vtable, jobs,
 * submitting, cancelling), exec-slurm-track.c (the squeue/sacct polls),
 * exec-slurm-proc.c (sbatch, squeue, sacct and scancel as child processes
 * on the loop), exec-slurm-script.c (the batch script, sbatch's arguments,
 * the gres map, the log directory), exec-slurm-parse.c (what Slurm prints)
 * and exec-slurm-ident.c (who submits). Nothing outside the Slurm executor
 * includes it. */
#ifndef GPUAAS_GPUAASD_EXEC_SLURM_H
#define GPUAAS_GPUAASD_EXEC_SLURM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpuaasd/exec.h"
#include "gpuaasd/inventory.h"
#include "gpuaasd/jobstate.h"

struct config;
struct daemon;
struct loop;
struct timer;

/* ---- who submits (exec-slurm-ident.c) ----------------------------------- */

#define SLURM_MAX_GROUPS 64

/* A Unix identity sbatch runs as, resolved before the fork. */
struct slurm_ident {
	uid_t uid;
	gid_t gid;
	bool drop; /* setgroups/setgid/setuid in the child */
	int ngroups;
	gid_t groups[SLURM_MAX_GROUPS];
	char user[64];
	char home[4096];
};

enum slurm_ident_mode {
	SLURM_IDENT_SELF,    /* a daemon that is not root: its own account */
	SLURM_IDENT_OWNER,   /* the Unix account named like the gpuaas user */
	SLURM_IDENT_ACCOUNT, /* one named account for every job */
};

/* The --job-user policy, fixed at start. */
struct slurm_ident_policy {
	enum slurm_ident_mode mode;
	uid_t min_uid;
	struct slurm_ident shared; /* self and account */
};

/* Reads --job-user and --job-min-uid: owner (the default with Slurm) or an
 * account; dynamic is refused. 0, or -1 with err. */
int slurm_ident_init(struct slurm_ident_policy *p, const struct config *cfg, char *err, size_t errlen);
/* Who the jobs of gpuaas user owner submit as. 0, or -1 with the job's
 * failure reason in err. */
int slurm_ident_of(const struct slurm_ident_policy *p, const char *owner, struct slurm_ident *out, char *err,
	size_t errlen);

/* ---- child processes (exec-slurm-proc.c) --------------------------------- */

/* How a child ended: its wait status, and what it wrote (NUL-terminated,
 * cut at the set's cap). status is -1 when it could not be started. */
struct sproc_result {
	int status;
	bool timed_out;
	const char *out;
	size_t out_len;
	const char *err;
	size_t err_len;
	int64_t took_ms;
};

typedef void (*sproc_done_fn)(void *arg, const struct sproc_result *r);

struct sproc_spec {
	char *const *argv;             /* argv[0]: an absolute path */
	char *const *envp;             /* the whole environment */
	const struct slurm_ident *who; /* NULL: the daemon's own identity */
	int stdin_fd;                  /* -1: /dev/null */
	int64_t timeout_ms;            /* then SIGKILL */
	bool free_arg;                 /* free(arg) when the set goes first */
};

struct sprocs;

/* A set of children on loop; out_cap bounds what is kept of each output.
 * NULL on ENOMEM. */
struct sprocs *sprocs_create(struct loop *loop, size_t out_cap);
/* Frees the set; children still running are left to finish on their own
 * and their callbacks never run (their args are freed when free_arg was
 * set). NULL is a no-op. */
void sprocs_destroy(struct sprocs *set);
/* Starts a child; done(arg, result) runs from the loop once it has exited
 * and both its outputs are closed. 0, or -1 with errno (done never runs). */
int sprocs_start(struct sprocs *set, const struct sproc_spec *spec, sproc_done_fn done, void *arg);
/* Reaps the set's children that exited (on SIGCHLD). */
void sprocs_reap(struct sprocs *set);

/* ---- the batch script, sbatch's arguments, gres, logs (exec-slurm-script.c) */

#define SLURM_GRES_MAX 64

/* --slurm-gres: the gres name of each GPU type ("gpu:a100"). */
struct slurm_gres_map {
	char gres[INVENTORY_MAX_TYPES][SLURM_GRES_MAX];
};

/* Fills map for every type of inv: from spec ("A100=gpu:a100,T4=gpu:t4"),
 * else gpu:<lower-case type>. 0, or -1 with err (a type that is not in the
 * inventory, a malformed entry). */
int slurm_gres_parse(struct slurm_gres_map *map, const char *spec, const struct inventory *inv, char *err,
	size_t errlen);
/* Slurm's --time in minutes for a limit in seconds: rounded up, at least 1. */
int64_t slurm_time_minutes(int64_t seconds);
/* The batch script running the command (a JSON array of strings) with
 * every argument single-quoted: malloc'd, its length in *len; NULL with err. */
char *slurm_batch_script(int64_t job_id, const char *command_json, size_t *len, char *err, size_t errlen);
/* Where Slurm writes job output (see exec-slurm-script.c). 0 or -1. */
int slurm_log_dir(const struct config *cfg, char *buf, size_t len);
/* The executor's log_path: <log dir>/ID.log. */
int slurm_log_path(const struct config *cfg, int64_t job_id, char *buf, size_t len);
/* Creates the log directory (0711 for a root daemon, else 0700) and opens
 * it: the fd, or -1 with err. */
int slurm_log_dir_open(const struct config *cfg, char *err, size_t errlen);
/* Creates (or empties, when truncate) the job's log in dir_fd for who to
 * write, 0600. 0, or -1 with err. */
int slurm_log_prepare(int dir_fd, int64_t job_id, const struct slurm_ident *who, bool truncate, char *err,
	size_t errlen);

/* What one submission asks Slurm for. */
struct slurm_submit {
	int64_t job_id;
	const char *gpu_type;
	int gpu_count;
	int64_t time_limit;
	const char *gres;      /* "gpu:a100" */
	const char *log_path;
	const char *workdir;
	const char *instance;  /* --comment: which gpuaas submitted it */
	const char *partition; /* NULL: the cluster's default */
	const char *account;   /* NULL: the user's default */
};

#define SBATCH_MAX_ARGS 20

/* sbatch's argv (pointing into buf) for s, reading the script on stdin. */
struct sbatch_argv {
	char *argv[SBATCH_MAX_ARGS];
	char buf[SBATCH_MAX_ARGS][4400];
};

/* Fills a for s, with sbatch the program's path. 0, or -1 when a value
 * does not fit. */
int slurm_sbatch_argv(struct sbatch_argv *a, const char *sbatch, const struct slurm_submit *s);

/* ---- what Slurm prints (exec-slurm-parse.c) ------------------------------ */

/* The squeue fields asked for, in order, '|' after each. */
#define SQUEUE_FORMAT "JobID:|,Name:|,State:|,Reason:|,TimeUsed:|,exit_code:|,Comment:|"

/* One line of squeue (SQUEUE_FORMAT) or sacct output. */
struct slurm_row {
	int64_t slurm_id;
	int64_t gpuaas_id; /* from the name gpuaas-ID; 0 for other names */
	char state[32];
	char reason[128];
	int64_t used;      /* seconds run */
	int wait_status;   /* raw wait status; -1 unknown */
	char comment[64];
};

/* Parses one squeue line. 0, or -1 for a line that is not one. */
int slurm_parse_squeue_line(const char *line, struct slurm_row *row);
/* Parses one line of `sacct -P -o JobIDRaw,State,ExitCode,ElapsedRaw,Reason`. 0 or -1. */
int slurm_parse_sacct_line(const char *line, struct slurm_row *row);
/* Slurm's [D-]HH:MM:SS, MM:SS or SS in seconds; -1 when malformed. */
int64_t slurm_parse_elapsed(const char *s);

enum slurm_fate {
	SLURM_LIVE,     /* still queued or running in Slurm */
	SLURM_END,      /* ended: to, reason, exit code */
	SLURM_REQUEUE,  /* preempted and not requeued by Slurm: submit again */
};

/* What a Slurm state means for the gpuaas job (the mapping documented in
 * the README). For SLURM_END: *to, the reason and *exit_code (-1: none). */
enum slurm_fate slurm_state_fate(const struct slurm_row *row, enum job_state *to, char *reason, size_t len,
	int *exit_code);
/* The job id sbatch --parsable printed ("123" or "123;cluster"); 0 or -1. */
int slurm_parse_sbatch_id(const char *out, int64_t *id);
/* True when sbatch's error is worth a retry (the controller unreachable or
 * busy); false for a rejection of the job itself. */
bool slurm_error_transient(const char *err);
/* The useful part of a Slurm command's stderr, on one line, without quotes
 * (for reasons and logs). */
void slurm_error_text(const char *err, char *buf, size_t len);

/* ---- the executor's state (exec-slurm.c, exec-slurm-track.c) ------------- */

enum sjob_phase {
	SJ_QUEUED,     /* waiting for sbatch (in the submit queue or a backoff) */
	SJ_SUBMITTING, /* sbatch runs */
	SJ_LOOKUP,     /* maybe in Slurm already: the next squeue looks for it by name */
	SJ_TRACKED,    /* in Slurm under slurm_id */
};

struct slurm;

/* One gpuaas job the executor looks after. */
struct sjob {
	struct sjob *prev, *next; /* every job */
	struct sjob *qnext;       /* the submit queue */
	struct slurm *sx;
	int64_t job_id;
	int64_t owner_id;
	char gpu_type[GPU_TYPE_MAX + 1];
	int gpu_count;
	int64_t time_limit;
	int64_t started_ms;
	char *command;        /* JSON array text */
	enum sjob_phase phase;
	int64_t slurm_id;     /* 0 until known */
	int64_t known_since;  /* loop ms when slurm_id became known */
	int64_t used;         /* seconds run, as last seen in Slurm */
	int64_t carried;      /* seconds run by earlier, preempted submissions */
	int attempts;         /* sbatch tries that failed transiently */
	bool submitted_once;  /* its log was emptied for the first submission */
	bool cancel;          /* cancelled from gpuaas */
	bool scancel_sent;
	bool missing;         /* not listed by the last squeue: ask sacct */
	struct timer *retry;
	int64_t log_size;
	char slurm_state[32];
	char slurm_reason[128];
};

struct slurm {
	struct daemon *d;
	struct exec_host host;
	struct sprocs *procs;
	struct slurm_ident_policy ident;
	struct slurm_gres_map gres;
	char *gres_spec;      /* the --slurm-gres that gres was read from */
	char sbatch[4096], squeue[4096], scancel[4096], sacct[4096]; /* sacct "": none */
	char *env[4];
	char env_buf[3][4200];
	char instance[40];    /* --comment of our jobs: gpuaas:<random hex> */
	int log_dir_fd;
	struct sjob *jobs;
	struct sjob *queue_head, *queue_tail;
	int submitting;       /* sbatch children running */
	bool in_pass;         /* going through the jobs: submissions wait */
	bool booting;         /* until the loop runs: launches are recoveries */
	struct timer *boot_timer;
	struct timer *poll_timer;
	struct timer *log_timer;
	int64_t poll_timer_at;
	bool polling;         /* squeue or sacct runs */
	int64_t poll_again_at; /* asked for a poll while one ran; 0: not */
	int64_t poll_started_ms;
	int64_t last_took_ms;
	int poll_failures;
	bool no_sacct;        /* sacct is missing or Slurm keeps no accounting */
};

/* Reports the end of j to the scheduler and frees it. */
void slurm_job_end(struct slurm *sx, struct sjob *j, enum job_state to, const char *reason, int64_t ran,
	int exit_code);
/* Queues j for sbatch (started at once unless a pass over the jobs is
 * under way: then by slurm_pump after it). */
void slurm_submit_later(struct slurm *sx, struct sjob *j);
/* Starts queued submissions, as many as may run at once. */
void slurm_pump(struct slurm *sx);
/* Stores j's Slurm id (the job object's slurm_job_id) and tracks it. */
void slurm_job_adopt(struct slurm *sx, struct sjob *j, int64_t slurm_id);
/* Runs scancel on j's Slurm job. */
void slurm_send_scancel(struct slurm *sx, struct sjob *j);
/* Arms the next squeue poll in delay_ms (sooner replaces later). */
void slurm_poll_soon(struct slurm *sx, int64_t delay_ms);
/* Starts the periodic check of the logs' sizes when it is not running. */
void slurm_logs_watch(struct slurm *sx);
/* Cancels the poll and log timers (destroy). */
void slurm_track_stop(struct slurm *sx);

#endif
