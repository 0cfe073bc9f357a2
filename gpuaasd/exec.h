/* Executors behind a small vtable (the OpenSMTPD scheduler_backend shape):
 * exec-sim.c, exec-local.c, ... each export one `struct executor`, chosen by
 * name. The scheduler launches a job after its RUNNING state is committed
 * and hears back through sched_job_done(). */
#ifndef GPUAAS_GPUAASD_EXEC_H
#define GPUAAS_GPUAASD_EXEC_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;

struct exec_spec {
	int64_t job_id;
	int64_t owner_id;
	const char *gpu_type;
	int gpu_count;
	const int *devices;      /* gpu_count device indices */
	int64_t time_limit;      /* seconds */
	int64_t started_at_ms;   /* wall clock */
	int64_t run_until_ms;    /* wall clock: sim end, or local deadline */
	const char *command_json; /* JSON array of strings, or NULL */
};

struct executor {
	const char *name;
	/* Survives a daemon restart (sim: yes; a local process: no). */
	bool resumable;
	/* A job whose wall time is zero ends in the round that starts it,
	 * without a launch (sim at tiny --sim-time-scale). */
	bool zero_time_inline;
	void *(*create)(struct daemon *d);
	void (*destroy)(void *self);
	/* Starts the job; 0, or -1 (the scheduler then fails the job). */
	int (*launch)(void *self, const struct exec_spec *spec);
	/* Asks a running job to stop because it was cancelled. The executor
	 * reports the end through sched_job_done (now or later). */
	void (*cancel)(void *self, int64_t job_id);
	/* The daemon is stopping: end every job now, each reported through
	 * sched_job_done. NULL for resumable executors (their jobs go on). */
	void (*stop_all)(void *self);
	/* SIGCHLD arrived (executors that run processes); may be NULL. */
	void (*on_sigchld)(void *self);
};

extern const struct executor exec_sim;
extern const struct executor exec_local;
/* NULL when the name is unknown. */
const struct executor *exec_find(const char *name);

#endif
