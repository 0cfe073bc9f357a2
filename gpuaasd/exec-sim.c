/* The simulated executor: a job of T nominal seconds is RUNNING for
 * T x --sim-time-scale wall seconds, then COMPLETED and charged count x T.
 * Its end time is in the database (run_until_ms), so after a restart it goes
 * on to finish on time. */
#include <stdlib.h>
#include <time.h>

#include "gpuaasd/state.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/jobstate.h"
#include "gpuaasd/loop.h"

struct sim_job {
	struct sim_job *prev, *next; /* ended in any order: unlinked in O(1) */
	struct sim *sim;
	int64_t job_id;
	int64_t started_ms;
	int64_t time_limit;
	int64_t run; /* nominal seconds it runs (its limit, or less) */
	struct timer *timer;
};

struct sim {
	struct daemon *d;
	struct exec_host host;
	struct sim_job *jobs;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *sim_create(const struct exec_host *host)
{
	struct sim *sim = calloc(1, sizeof *sim);
	if (sim) {
		sim->d = host->d;
		sim->host = *host;
	}
	return sim;
}

static double sim_time_scale(const struct config *cfg)
{
	return cfg->sim_time_scale;
}

static void unlink_job(struct sim *sim, struct sim_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		sim->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void sim_destroy(void *self)
{
	struct sim *sim = self;
	/* Their end times are in the database: they go on after a restart. */
	for (struct sim_job *j = sim->jobs, *next; j; j = next) {
		next = j->next;
		loop_timer_cancel(sim->d->loop, j->timer);
		free(j);
	}
	free(sim);
}

static void sim_finished(struct loop *loop, void *data)
{
	struct sim_job *j = data;
	struct sim *sim = j->sim;
	(void)loop;
	j->timer = NULL;
	unlink_job(sim, j);
	int64_t id = j->job_id, ran = j->run;
	free(j);
	sim->host.job_done(sim->host.owner, id, JOB_COMPLETED, "completed", ran, -1);
}

static int sim_launch(void *self, const struct exec_spec *spec)
{
	struct sim *sim = self;
	struct sim_job *j = calloc(1, sizeof *j);
	if (!j)
		return -1;
	j->sim = sim;
	j->job_id = spec->job_id;
	j->started_ms = spec->started_at_ms;
	j->time_limit = spec->time_limit;
	/* A job may finish before its limit (a replayed workload says when). */
	j->run = spec->sim_run_seconds > 0 && spec->sim_run_seconds < spec->time_limit ? spec->sim_run_seconds
										      : spec->time_limit;
	int64_t end_ms = j->run == j->time_limit ? spec->run_until_ms
		: spec->started_at_ms + (int64_t)((double)j->run * 1000.0 * sim->d->cfg.sim_time_scale);
	/* Wall clock to loop time: the end survives restarts as a wall time. */
	int64_t left = end_ms - wall_ms();
	j->timer = loop_timer_at(sim->d->loop, loop_now_ms() + (left > 0 ? left : 0), sim_finished, j);
	if (!j->timer) {
		free(j);
		return -1;
	}
	j->next = sim->jobs;
	if (sim->jobs)
		sim->jobs->prev = j;
	sim->jobs = j;
	return 0;
}

static void sim_cancel(void *self, int64_t job_id)
{
	struct sim *sim = self;
	for (struct sim_job *j = sim->jobs; j; j = j->next) {
		if (j->job_id != job_id)
			continue;
		unlink_job(sim, j);
		loop_timer_cancel(sim->d->loop, j->timer);
		int64_t ran = sim_nominal_seconds(wall_ms() - j->started_ms, sim->d->cfg.sim_time_scale, j->time_limit);
		free(j);
		sim->host.job_done(sim->host.owner, job_id, JOB_CANCELLED, "cancelled", ran, -1);
		return;
	}
}

const struct executor exec_sim = {
	.name = "sim",
	.resumable = true,
	.zero_time_inline = true,
	.needs_command = false,
	.discovers_gpus = false,
	.simulates = true,
	.time_scale = sim_time_scale,
	.log_path = NULL,
	.create = sim_create,
	.destroy = sim_destroy,
	.launch = sim_launch,
	.cancel = sim_cancel,
	.stop_all = NULL,
	.on_sigchld = NULL,
};
