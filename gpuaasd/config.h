/* Daemon options (documented in docs/man/gpuaasd.8.scd and
 * docs/man/gpuaasd.conf.5.scd): one table serves the command line and the
 * config file, whose keys are the long option names with '-' written '_'.
 * Command-line values win over the file. */
#ifndef GPUAAS_GPUAASD_CONFIG_H
#define GPUAAS_GPUAASD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

struct config {
	char *config_path;
	char *socket_path;
	char *state_dir;
	char *gpus;
	char *executor;
	double sim_time_scale;
	int64_t default_time;
	int64_t max_time;
	int64_t token_ttl;
	enum log_level log_level;
	char *job_user;
	int64_t kill_grace;
	int64_t max_log_bytes;
	int64_t bcrypt_cost;
	int64_t max_connections;
	int64_t idle_timeout;
	int64_t frame_timeout;
	int64_t login_max_failures;
	int64_t login_lockout;
	int64_t max_parked_per_user;
	/* Approval workflow. */
	int64_t pending_ttl;     /* PENDING jobs expire after it; 0: never */
	char *gpu_weights;       /* "A100=4,V100=2": charge weight per type; NULL: all 1 */
	int64_t event_retention; /* events older than it are pruned; 0: kept forever */
	int64_t default_quota;   /* GPU-seconds a new user gets unless told */
	char *default_gpu;       /* the type a submit without one asks for; NULL: the first */
	char *queue_visibility;  /* "anonymous" or "full": other users' jobs in job.queue */
	/* Local executor isolation. */
	char *isolation;         /* "full" or "none" */
	int64_t job_uid_base;    /* first uid of --job-user dynamic */
	int64_t job_min_uid;     /* --job-user owner: lowest uid accepted */
	char *gpu_dev_dir;       /* where the GPU device nodes are (/dev) */
	/* Slurm executor. */
	char *slurm_gres;        /* "A100=gpu:a100,T4=gpu:t4"; NULL: lower-case type */
	char *slurm_partition;
	char *slurm_account;
	char *slurm_log_dir;     /* where Slurm writes job output (shared by the nodes); NULL: default */
	int64_t slurm_poll;      /* seconds between squeue/sacct polls */
	bool backfill;           /* start later jobs early when that delays nobody */
	bool check_config;
	bool job_user_given;     /* --job-user or job_user = was given (else: the executor's default) */
	bool gpus_explicit; /* --gpus or gpus = given (else: discovery for local) */
	bool set_on_cmdline[64]; /* by option index */
};

enum config_result { CONFIG_OK, CONFIG_EXIT_OK, CONFIG_ERROR };

/* Fills defaults (paths depend on the uid). */
void config_init(struct config *cfg);
/* Frees the strings. */
void config_finish(struct config *cfg);
/* Parses argv. CONFIG_EXIT_OK after --help/--version (printed); CONFIG_ERROR
 * with a message in err. */
enum config_result config_parse_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen);
/* Reads the config file (cfg->config_path, or the root default when it
 * exists). Keys already set on the command line are kept. Errors name the
 * file and line. A missing file named explicitly is an error. */
enum config_result config_load_file(struct config *cfg, bool explicit_path, char *err, size_t errlen);
/* Cross-option checks (default_time <= max_time, ...). */
enum config_result config_validate(const struct config *cfg, char *err, size_t errlen);
/* Re-reads only what a running daemon can change (SIGHUP): log level,
 * limits, token lifetime. Writes to *cfg only when the whole file is good;
 * logs keys that need a restart. */
enum config_result config_reload(struct config *cfg, char *err, size_t errlen);

#endif
