/* Executors behind a small vtable (the OpenSMTPD scheduler_backend shape):
 * exec-sim.c, exec-local.c, ... each export one `struct executor`, listed
 * in exec.c and chosen by name. The scheduler launches a job after its
 * RUNNING state is committed and hears back through the host's job_done.
 * Everything callers would otherwise ask by the executor's name (does a job
 * need a command, how wall time relates to the time limit, where output is
 * kept, whether GPUs are discovered) is a member here, so a new executor is
 * added by writing its file and listing it in exec.c. */
#ifndef GPUAAS_GPUAASD_EXEC_H
#define GPUAAS_GPUAASD_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpuaasd/jobstate.h"

struct daemon;
struct config;

struct exec_spec {
	int64_t job_id;
	int64_t owner_id;
	const char *owner_name;  /* the gpuaas username of the owner */
	const char *gpu_type;
	int gpu_count;
	const int *devices;      /* gpu_count device slots of the type */
	int64_t time_limit;      /* seconds */
	int64_t started_at_ms;   /* wall clock */
	int64_t run_until_ms;    /* wall clock: sim end, or local deadline */
	const char *command_json; /* JSON array of strings, or NULL */
	const char *workdir;      /* submit --chdir: where to start, or NULL */
	const char *env_json;     /* submit --env: {"KEY": "VALUE"}, or NULL */
	int64_t sim_run_seconds;  /* simulated: seconds it really runs (0: limit) */
};

/* How an executor reports a job's end: ran_seconds is what is charged per
 * GPU, exit_code < 0 when there is none. Called from the loop, never from a
 * signal handler. */
typedef void (*exec_done_fn)(void *owner, int64_t job_id, enum job_state to, const char *reason,
	int64_t ran_seconds, int exit_code);

/* What an executor gets from the daemon when it is created. */
struct exec_host {
	struct daemon *d;     /* loop, config, inventory, park */
	exec_done_fn job_done;
	void *owner;          /* first argument of job_done (the scheduler) */
};

struct executor {
	const char *name;
	/* Survives a daemon restart (sim: yes; a local process: no). */
	bool resumable;
	/* A job whose wall time is zero ends in the round that starts it,
	 * without a launch (sim at tiny --sim-time-scale). */
	bool zero_time_inline;
	/* A job must carry a command (refused at submit otherwise). */
	bool needs_command;
	/* The GPUs are found on the host (nvidia-smi) unless --gpus names them. */
	bool discovers_gpus;
	/* Jobs are simulated: a submit may say how long one really runs
	 * (sim_run, below its time limit), to replay workloads. */
	bool simulates;
	/* Wall-clock seconds one second of a job's time limit takes. */
	double (*time_scale)(const struct config *cfg);
	/* Writes the path of the file holding a job's output into buf; -1 when
	 * this executor keeps no output (sim). */
	int (*log_path)(const struct config *cfg, int64_t job_id, char *buf, size_t len);
	void *(*create)(const struct exec_host *host);
	void (*destroy)(void *self);
	/* Starts the job; 0, or -1 (the scheduler then fails the job). */
	int (*launch)(void *self, const struct exec_spec *spec);
	/* Asks a running job to stop because it was cancelled. The executor
	 * reports the end through job_done (now or later). */
	void (*cancel)(void *self, int64_t job_id);
	/* The daemon is stopping: end every job now, each reported through
	 * job_done. NULL for resumable executors (their jobs go on). */
	void (*stop_all)(void *self);
	/* SIGCHLD arrived (executors that run processes); may be NULL. */
	void (*on_sigchld)(void *self);
};

/* The executor registered under name; NULL when the name is unknown. */
const struct executor *exec_find(const char *name);
/* The registered names, comma-separated ("sim, local"), for messages. */
const char *exec_names(void);
/* The time scale of executors whose jobs run for real: 1. */
double exec_real_time(const struct config *cfg);

#endif
