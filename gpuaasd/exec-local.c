/* The local executor: an approved job's command runs on this host, on the
 * GPUs the scheduler assigned, as the job's own identity (--job-user,
 * exec-local-ident.c), in its own cgroup (cgroup.c) and, with --isolation
 * full, in its own mount, PID and IPC namespaces with a /dev that holds only
 * its GPUs (jail.c). Its output goes through a pipe to a log the daemon
 * writes (exec-local-log.c). Children are reaped on SIGCHLD through the
 * loop, never by blocking; a job has ended when its whole tree is gone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/log.h"
#include "gpuaasd/cgroup.h"
#include "gpuaasd/db.h"
#include "gpuaasd/exec-local.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/jail.h"
#include "gpuaasd/jobstate.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/park.h"
#include "gpuaasd/state.h"

/* How long a start after a crash waits for a dead daemon's jobs to go. */
#define STALE_KILL_MS 10000
/* How often an ending job's cgroup is checked until it is empty. */
#define GONE_POLL_MS 10

struct local_job {
	struct local_job *next;
	struct local *lx;
	int64_t job_id;
	pid_t pid;       /* the supervisor (isolated) or the command */
	int out_fd;      /* the job's output pipe */
	int status_fd;   /* isolated: init reports the command's wait status */
	struct job_log log;
	bool in_cgroup;
	int64_t started_ms;
	struct timer *deadline;
	struct timer *kill_timer;
	struct timer *gone_timer;
	int wait_status;
	bool reaped;
	bool stopping;
	bool timed_out;
	bool daemon_stopping;
};

struct local {
	struct daemon *d;
	struct exec_host host;
	struct local_job *jobs;
	struct ident_policy ident;
	struct cgroup_tree cg; /* dir_fd -1: no cgroups here */
	bool isolate;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The subtree of the daemon's cgroup for this state dir's jobs: a restart
 * finds the cgroups of the jobs it lost. */
static void tree_name(const struct config *cfg, char *buf, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = cfg->state_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(buf, len, "gpuaas-jobs-%08llx", (unsigned long long)(h & 0xffffffffu));
}

/* Isolation checks and the cleanup after a crash. 0, or -1 (logged). */
static int prepare_host(struct local *lx)
{
	const struct config *cfg = &lx->d->cfg;
	char why[1024], name[64];
	lx->isolate = strcmp(cfg->isolation, "full") == 0;
	if (lx->isolate && jail_probe(cfg, why, sizeof why) < 0) {
		log_event(LOG_ERROR, "exec.local.isolation", "error=\"--isolation full: this system refuses %s; "
			"--isolation none runs jobs without namespaces or a private /dev\"", why);
		return -1;
	}
	tree_name(cfg, name, sizeof name);
	if (geteuid() == 0 && cgroup_tree_open(&lx->cg, name, why, sizeof why) < 0)
		log_event(LOG_WARN, "exec.local.no_cgroup", "reason=\"%s\" fallback=\"%s\"", why,
			lx->isolate ? "each job's PID namespace" : ident_uids_are_jobs(&lx->ident) ?
			"process groups; job uids swept at start" : "process groups");
	/* A daemon killed with -9 may have left jobs: they go before any GPU
	 * is reported free. */
	int stale = 0, swept = 0;
	if (lx->cg.dir_fd >= 0)
		stale = cgroup_reap_stale(&lx->cg, STALE_KILL_MS);
	else /* without cgroups, the uids tell (dynamic only) */
		swept = ident_sweep(&lx->ident, STALE_KILL_MS);
	if (stale < 0 || swept < 0) {
		log_event(LOG_ERROR, "exec.local.stale_jobs", "error=\"processes of jobs from before this start "
			"could not be killed in %d s; their GPUs are not free\"", STALE_KILL_MS / 1000);
		return -1;
	}
	if (stale > 0 || swept > 0)
		log_event(LOG_WARN, "exec.local.stale_jobs_killed", "cgroups=%d processes=%d", stale, swept);
	return 0;
}

static void *local_create(const struct exec_host *host)
{
	struct local *lx = calloc(1, sizeof *lx);
	if (!lx)
		return NULL;
	lx->d = host->d;
	lx->host = *host;
	lx->cg.dir_fd = -1;
	char err[1024], dir[4200];
	if (ident_init(&lx->ident, &lx->d->cfg, err, sizeof err) < 0) {
		log_event(LOG_ERROR, "exec.local", "error=\"%s\"", err);
		goto fail;
	}
	if (prepare_host(lx) < 0)
		goto fail;
	if (job_logs_migrate(&lx->d->cfg, err, sizeof err) < 0)
		log_event(LOG_WARN, "exec.local.log_migrate", "error=\"%s\"", err);
	snprintf(dir, sizeof dir, "%s/jobs", lx->d->cfg.state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_event(LOG_ERROR, "exec.local", "error=\"cannot create %s: %s\"", dir, strerror(errno));
		goto fail;
	}
	return lx;
fail:
	cgroup_tree_close(&lx->cg);
	free(lx);
	return NULL;
}

/* Signals a process (pid > 0) or a process group (pid < 0); false when
 * there is no such target. Other failures are logged. */
static bool send_signal(const struct local_job *j, pid_t pid, int sig)
{
	if (kill(pid, sig) == 0)
		return true;
	if (errno != ESRCH)
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"kill %d %d: %s\"", (long long)j->job_id,
			(int)pid, sig, strerror(errno));
	return false;
}

/* Kills the job's whole tree now. */
static void kill_tree(struct local_job *j)
{
	bool cgroup_killed = j->in_cgroup && cgroup_job_kill(&j->lx->cg, j->job_id) == 0;
	if (j->reaped)
		return;
	/* The child joins its cgroup itself, right after the fork: until then
	 * cgroup.kill finds nobody. Our own child is killed by pid as well
	 * (unreaped, so the pid is still ours); without it a stop in that
	 * window waited forever for a child that went on to run the job. */
	if (cgroup_killed) {
		send_signal(j, j->pid, SIGKILL);
		return;
	}
	/* Isolated: the supervisor's death takes init, and init's the whole
	 * namespace. Otherwise the process group (right after the fork the
	 * child may not have made it yet: then the process). */
	if (j->lx->isolate || !send_signal(j, -j->pid, SIGKILL))
		send_signal(j, j->pid, SIGKILL);
}

/* Asks the job to stop: isolated, the supervisor passes it to every
 * process of the namespace; otherwise every process of the cgroup, or the
 * process group. */
static void signal_job(struct local_job *j, int sig)
{
	if (j->reaped)
		return;
	if (j->lx->isolate) {
		send_signal(j, j->pid, sig);
		return;
	}
	if (j->in_cgroup && cgroup_job_signal(&j->lx->cg, j->job_id, sig) == 0)
		return;
	if (!send_signal(j, -j->pid, sig))
		send_signal(j, j->pid, sig);
}

static void job_free(struct local_job *j)
{
	struct loop *loop = j->lx->d->loop;
	loop_timer_cancel(loop, j->deadline);
	loop_timer_cancel(loop, j->kill_timer);
	loop_timer_cancel(loop, j->gone_timer);
	if (j->out_fd >= 0) {
		loop_del(loop, j->out_fd);
		close(j->out_fd);
	}
	if (j->status_fd >= 0)
		close(j->status_fd);
	job_log_close(&j->log);
	free(j);
}

static void unlink_job(struct local *lx, struct local_job *j)
{
	for (struct local_job **pp = &lx->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

static void local_destroy(void *self)
{
	struct local *lx = self;
	/* The daemon is going away: so do its jobs (PR_SET_PDEATHSIG would
	 * see to it anyway); the next start marks them lost. */
	while (lx->jobs) {
		struct local_job *j = lx->jobs;
		lx->jobs = j->next;
		kill_tree(j);
		job_free(j);
	}
	cgroup_tree_close(&lx->cg);
	free(lx);
}

/* Reads what the job wrote; true when the pipe reached EOF. */
static bool drain(struct local_job *j)
{
	char buf[65536];
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(j->out_fd, buf, sizeof buf);
		if (n > 0) {
			job_log_write(&j->log, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		return true; /* EOF or error */
	}
	return false;
}

static void close_output(struct local_job *j)
{
	if (j->out_fd < 0)
		return;
	loop_del(j->lx->d->loop, j->out_fd);
	close(j->out_fd);
	j->out_fd = -1;
}

static void on_output(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct local_job *j = data;
	(void)loop;
	(void)fd;
	(void)events;
	bool eof = drain(j);
	park_signal(j->lx->d->park, PARK_JOB_OUTPUT, j->job_id);
	if (eof)
		close_output(j);
}

static void kill_now(struct loop *loop, void *data)
{
	struct local_job *j = data;
	(void)loop;
	j->kill_timer = NULL;
	kill_tree(j);
}

static void stop_job(struct local_job *j)
{
	if (j->stopping)
		return;
	j->stopping = true;
	signal_job(j, SIGTERM);
	struct loop *loop = j->lx->d->loop;
	j->kill_timer = loop_timer_at(loop, loop_now_ms() + j->lx->d->cfg.kill_grace * 1000, kill_now, j);
}

static void on_deadline(struct loop *loop, void *data)
{
	struct local_job *j = data;
	(void)loop;
	j->deadline = NULL;
	j->timed_out = true;
	log_event(LOG_INFO, "job.time_limit", "job=%lld", (long long)j->job_id);
	stop_job(j);
}

/* Watches the job's output pipe; without it the job cannot be supervised
 * and is ended. */
static void watch_output(struct local_job *j, int fd)
{
	j->out_fd = fd;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || loop_add(j->lx->d->loop, fd, EPOLLIN, on_output, j) < 0) {
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"output pipe: %s\"", (long long)j->job_id,
			strerror(errno));
		kill_tree(j);
		close(fd);
		j->out_fd = -1;
	}
}

/* Forks the prepared job. The child's ends of the pipes are closed here;
 * 0, or -1 with err. */
static int start_child(struct local_job *j, struct launch *l, char *err, size_t errlen)
{
	int out[2] = {-1, -1}, status[2] = {-1, -1};
	int rc = -1;
	/* The status pipe never blocks the daemon: it is read once, after the
	 * supervisor is reaped. */
	if (pipe2(out, O_CLOEXEC) < 0 || (j->lx->isolate && pipe2(status, O_CLOEXEC | O_NONBLOCK) < 0)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	l->jail.out_fd = out[1];
	l->jail.status_fd = status[1];
	if (j->lx->cg.dir_fd >= 0) {
		l->jail.cgroup_procs_fd = cgroup_job_create(&j->lx->cg, j->job_id);
		if (l->jail.cgroup_procs_fd < 0) {
			snprintf(err, errlen, "cannot create the job's cgroup: %s", strerror(errno));
			goto out;
		}
		j->in_cgroup = true;
	}
	j->pid = fork();
	if (j->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (j->pid == 0)
		jail_run(&l->jail);
	j->status_fd = status[0];
	status[0] = -1;
	watch_output(j, out[0]);
	out[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (status[i] >= 0)
			close(status[i]);
	}
	if (l->jail.cgroup_procs_fd >= 0)
		close(l->jail.cgroup_procs_fd);
	return rc;
}

static struct local_job *job_new(struct local *lx, const struct exec_spec *spec)
{
	struct local_job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->lx = lx;
	j->job_id = spec->job_id;
	j->out_fd = j->status_fd = -1;
	j->log.fd = -1;
	j->started_ms = spec->started_at_ms;
	return j;
}

static int local_launch(void *self, const struct exec_spec *spec)
{
	struct local *lx = self;
	struct daemon *d = lx->d;
	char err[1024] = "";
	struct local_job *j = job_new(lx, spec);
	struct launch *l = calloc(1, sizeof *l);
	int result = -1;
	if (!j || !l || job_log_open(&j->log, &d->cfg, spec->job_id, err, sizeof err) < 0)
		goto out;
	if (launch_prepare(l, d, &lx->ident, lx->isolate, spec, err, sizeof err) < 0 ||
	    start_child(j, l, err, sizeof err) < 0) {
		/* The owner reads why in the job's log. */
		char line[1200];
		int n = snprintf(line, sizeof line, "gpuaas: the job could not start: %s\n", err);
		job_log_write(&j->log, line, (size_t)(n > 0 ? n : 0));
		if (j->in_cgroup)
			cgroup_job_remove(&lx->cg, j->job_id);
		goto out;
	}
	int64_t left = spec->run_until_ms - wall_ms();
	j->deadline = loop_timer_at(d->loop, loop_now_ms() + (left > 0 ? left : 0), on_deadline, j);
	j->next = lx->jobs;
	lx->jobs = j;
	log_event(LOG_INFO, "job.launched", "job=%lld pid=%d uid=%u devices=%s isolated=%s cgroup=%s",
		(long long)spec->job_id, (int)j->pid, (unsigned)l->who.uid, l->devs, lx->isolate ? "yes" : "no",
		j->in_cgroup ? "yes" : "no");
	j = NULL;
	result = 0;
out:
	if (result < 0)
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"%s\"", (long long)spec->job_id,
			err[0] ? err : "out of memory");
	if (j)
		job_free(j);
	if (l)
		launch_finish(l);
	free(l);
	return result;
}

static void local_cancel(void *self, int64_t job_id)
{
	struct local *lx = self;
	for (struct local_job *j = lx->jobs; j; j = j->next)
		if (j->job_id == job_id)
			stop_job(j);
}

static const char *signal_name(int sig)
{
	static char buf[32];
	const char *abbrev = sigabbrev_np(sig);
	snprintf(buf, sizeof buf, "SIG%s", abbrev ? abbrev : "?");
	return buf;
}

/* What the job's end is recorded as. */
static enum job_state end_state(const struct local_job *j, char *reason, size_t len, int *exit_code)
{
	int st = j->wait_status;
	*exit_code = -1;
	if (j->daemon_stopping) {
		snprintf(reason, len, "lost: daemon stopped");
		return JOB_FAILED;
	}
	if (j->timed_out) {
		snprintf(reason, len, "time limit");
		return JOB_FAILED;
	}
	if (WIFEXITED(st)) {
		*exit_code = WEXITSTATUS(st);
		if (*exit_code == 0) {
			snprintf(reason, len, "completed");
			return JOB_COMPLETED;
		}
		snprintf(reason, len, "exit code %d", *exit_code);
		return JOB_FAILED;
	}
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	snprintf(reason, len, "killed by signal %s (%d)", signal_name(sig), sig);
	return JOB_FAILED;
}

/* The whole tree is gone: the job has ended. */
static void finish(struct local *lx, struct local_job *j)
{
	if (j->out_fd >= 0) {
		drain(j);
		close_output(j);
	}
	if (j->in_cgroup && cgroup_job_remove(&lx->cg, j->job_id) < 0)
		log_event(LOG_WARN, "exec.local", "job=%lld error=\"cgroup rmdir: %s\"", (long long)j->job_id,
			strerror(errno));
	int64_t ran = (wall_ms() - j->started_ms + 999) / 1000;
	char reason[128];
	int exit_code;
	enum job_state to = end_state(j, reason, sizeof reason, &exit_code);
	int64_t id = j->job_id;
	unlink_job(lx, j);
	job_free(j);
	lx->host.job_done(lx->host.owner, id, to, reason, ran < 0 ? 0 : ran, exit_code);
	park_signal(lx->d->park, PARK_JOB_OUTPUT, id);
}

/* The job's cgroup is checked until it is empty: until then its GPUs are
 * not free. */
static void check_gone(struct loop *loop, void *data)
{
	struct local_job *j = data;
	j->gone_timer = NULL;
	int populated = j->in_cgroup ? cgroup_job_populated(&j->lx->cg, j->job_id) : 0;
	if (populated < 0)
		log_event(LOG_WARN, "exec.local", "job=%lld error=\"cgroup.events unreadable: %s\"",
			(long long)j->job_id, strerror(errno));
	if (populated > 0) {
		cgroup_job_kill(&j->lx->cg, j->job_id);
		j->gone_timer = loop_timer_at(loop, loop_now_ms() + GONE_POLL_MS, check_gone, j);
		if (j->gone_timer)
			return;
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"out of memory: ended before its cgroup "
			"emptied\"", (long long)j->job_id);
	}
	finish(j->lx, j);
}

/* The process the daemon started is reaped: take the command's status
 * from init when there is one, kill whatever is left, and end the job once
 * nothing of it runs. */
static void reaped(struct local_job *j, int status)
{
	int reported;
	j->reaped = true;
	j->wait_status = status;
	if (j->status_fd >= 0 && read(j->status_fd, &reported, sizeof reported) == (ssize_t)sizeof reported)
		j->wait_status = reported;
	/* Without a namespace, what the command left in its group goes too:
	 * no orphan keeps a GPU. */
	if (!j->lx->isolate)
		send_signal(j, -j->pid, SIGKILL);
	check_gone(j->lx->d->loop, j);
}

static void local_on_sigchld(void *self)
{
	struct local *lx = self;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct local_job *j = lx->jobs; j; j = j->next) {
			if (j->pid == pid && !j->reaped) {
				reaped(j, status);
				break;
			}
		}
	}
}

/* Blocks until the job's cgroup is empty (at most 5 s: then its processes
 * are left to the next start). */
static void wait_gone(struct local_job *j)
{
	for (int waited = 0; j->in_cgroup && waited < 5000; waited += GONE_POLL_MS) {
		if (cgroup_job_populated(&j->lx->cg, j->job_id) == 0)
			return;
		cgroup_job_kill(&j->lx->cg, j->job_id);
		struct timespec ts = {0, GONE_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void local_stop_all(void *self)
{
	struct local *lx = self;
	/* Killed now and recorded now, charged what they ran: a stopped daemon
	 * must not leave jobs that look RUNNING. */
	while (lx->jobs) {
		struct local_job *j = lx->jobs;
		j->daemon_stopping = true;
		kill_tree(j);
		if (!j->reaped) {
			int status = 0;
			while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
				;
			j->reaped = true;
			j->wait_status = status;
		}
		loop_timer_cancel(lx->d->loop, j->gone_timer);
		j->gone_timer = NULL;
		wait_gone(j);
		finish(lx, j);
	}
}

const struct executor exec_local = {
	.name = "local",
	.resumable = false,
	.zero_time_inline = false,
	.needs_command = true,
	.discovers_gpus = true,
	.time_scale = exec_real_time,
	.log_path = job_log_path,
	.create = local_create,
	.destroy = local_destroy,
	.launch = local_launch,
	.cancel = local_cancel,
	.stop_all = local_stop_all,
	.on_sigchld = local_on_sigchld,
};
