/* The local executor: an approved job's command runs on this host, on the
 * GPUs the scheduler assigned (CUDA_VISIBLE_DEVICES), in its own session and
 * process group, in a per-job directory under the state dir, as an
 * unprivileged user when the daemon is root. Its output goes through a pipe
 * to the job's log (capped); children are reaped on SIGCHLD through the
 * loop, never by blocking. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/log.h"
#include "gpuaasd/state.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/jobstate.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/park.h"

struct local_job {
	struct local_job *next;
	struct local *lx;
	int64_t job_id;
	pid_t pid;
	int out_fd;
	int log_fd;
	int64_t log_bytes;
	bool truncated;
	int64_t started_ms;
	struct timer *deadline;
	struct timer *kill_timer;
	bool stopping;
	bool timed_out;
	bool daemon_stopping;
};

struct local {
	struct daemon *d;
	struct exec_host host;
	struct local_job *jobs;
	bool drop_privileges;
	uid_t uid;
	gid_t gid;
	char home[512];
	char user[64];
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A job's working directory, which holds its output. */
static int job_dir(const struct config *cfg, int64_t job_id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/jobs/%lld", cfg->state_dir, (long long)job_id);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int local_log_path(const struct config *cfg, int64_t job_id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/jobs/%lld/output.log", cfg->state_dir, (long long)job_id);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void *local_create(const struct exec_host *host)
{
	struct local *lx = calloc(1, sizeof *lx);
	if (!lx)
		return NULL;
	struct daemon *d = host->d;
	lx->d = d;
	lx->host = *host;
	struct passwd *pw;
	if (geteuid() == 0) {
		/* Never run users' code as root. */
		pw = getpwnam(d->cfg.job_user);
		if (!pw || pw->pw_uid == 0) {
			log_event(LOG_ERROR, "exec.local", "error=\"job user '%s' %s\"", d->cfg.job_user,
				pw ? "is root: refusing" : "does not exist");
			free(lx);
			return NULL;
		}
		lx->drop_privileges = true;
	} else {
		pw = getpwuid(getuid());
	}
	lx->uid = pw ? pw->pw_uid : getuid();
	lx->gid = pw ? pw->pw_gid : getgid();
	snprintf(lx->home, sizeof lx->home, "%s", pw && pw->pw_dir ? pw->pw_dir : "/");
	snprintf(lx->user, sizeof lx->user, "%s", pw ? pw->pw_name : "gpuaas");
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/jobs", d->cfg.state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_event(LOG_ERROR, "exec.local", "error=\"cannot create %s: %s\"", dir, strerror(errno));
		free(lx);
		return NULL;
	}
	return lx;
}

/* Signals the job's process group; right after fork the child may not
 * have made its group yet: then the process itself. */
static void signal_job(struct local_job *j, int sig)
{
	if (kill(-j->pid, sig) < 0 && errno == ESRCH)
		kill(j->pid, sig);
}

static void job_free(struct local_job *j)
{
	struct loop *loop = j->lx->d->loop;
	loop_timer_cancel(loop, j->deadline);
	loop_timer_cancel(loop, j->kill_timer);
	if (j->out_fd >= 0) {
		loop_del(loop, j->out_fd);
		close(j->out_fd);
	}
	if (j->log_fd >= 0)
		close(j->log_fd);
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
	/* The daemon is going away: so do its jobs (they would get SIGKILL from
	 * PR_SET_PDEATHSIG anyway); the next start marks them lost. */
	while (lx->jobs) {
		struct local_job *j = lx->jobs;
		lx->jobs = j->next;
		signal_job(j, SIGKILL);
		job_free(j);
	}
	free(lx);
}

static void log_write(struct local_job *j, const char *buf, size_t n)
{
	int64_t cap = j->lx->d->cfg.max_log_bytes;
	if (j->truncated || j->log_fd < 0)
		return;
	if (j->log_bytes + (int64_t)n > cap) {
		size_t room = (size_t)(cap - j->log_bytes);
		if (room > 0)
			(void)!write(j->log_fd, buf, room);
		char note[160];
		int m = snprintf(note, sizeof note, "\n[gpuaas: log cut at %lld bytes (--max-log-bytes); the rest of the "
			"output was discarded]\n", (long long)cap);
		(void)!write(j->log_fd, note, (size_t)m);
		j->log_bytes = cap;
		j->truncated = true;
		return;
	}
	if (write(j->log_fd, buf, n) == (ssize_t)n)
		j->log_bytes += (int64_t)n;
}

/* Reads what the job wrote; true when the pipe reached EOF. */
static bool drain(struct local_job *j)
{
	char buf[65536];
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(j->out_fd, buf, sizeof buf);
		if (n > 0) {
			log_write(j, buf, (size_t)n);
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

static void on_output(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct local_job *j = data;
	(void)events;
	bool eof = drain(j);
	park_signal(j->lx->d->park, PARK_JOB_OUTPUT, j->job_id);
	if (eof) {
		loop_del(loop, fd);
		close(fd);
		j->out_fd = -1;
	}
}

static void kill_now(struct loop *loop, void *data)
{
	struct local_job *j = data;
	(void)loop;
	j->kill_timer = NULL;
	signal_job(j, SIGKILL);
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

/* The child's side: never returns. */
static void run_child(struct local *lx, const struct exec_spec *spec, char **argv, char **envp, int out_w,
	const char *workdir, pid_t parent)
{
	/* Its own session and process group: the daemon signals the group. */
	if (setsid() < 0)
		_exit(126);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	/* chdir first: once unprivileged, the job could not traverse the
	 * 0700 state dir, but it keeps the directory it is in. */
	if (chdir(workdir) < 0) {
		dprintf(2, "gpuaas: cannot enter %s: %s\n", workdir, strerror(errno));
		_exit(126);
	}
	if (lx->drop_privileges) {
		if (setgroups(0, NULL) < 0 || setgid(lx->gid) < 0 || setuid(lx->uid) < 0 || getuid() == 0 ||
		    geteuid() == 0) {
			dprintf(2, "gpuaas: cannot switch to user %s: %s\n", lx->user, strerror(errno));
			_exit(126);
		}
	}
	/* After setuid: changing credentials clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126); /* the daemon died before we got here */
	(void)spec;
	execvpe(argv[0], argv, envp);
	dprintf(2, "gpuaas: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Fills envp (room for 16) from buf: the job's whole environment. */
static void job_env(struct local *lx, const struct exec_spec *spec, const char *devs, char buf[][1024], char **envp)
{
	const char *lang = getenv("LANG");
	int e = 0;
	snprintf(buf[e++], 1024, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	snprintf(buf[e++], 1024, "HOME=%s", lx->home);
	snprintf(buf[e++], 1024, "USER=%s", lx->user);
	snprintf(buf[e++], 1024, "LOGNAME=%s", lx->user);
	snprintf(buf[e++], 1024, "LANG=%s", lang && *lang ? lang : "C.UTF-8");
	snprintf(buf[e++], 1024, "CUDA_VISIBLE_DEVICES=%s", devs);
	snprintf(buf[e++], 1024, "NVIDIA_VISIBLE_DEVICES=%s", devs);
	snprintf(buf[e++], 1024, "GPUAAS_JOB_ID=%lld", (long long)spec->job_id);
	snprintf(buf[e++], 1024, "GPUAAS_GPU_TYPE=%s", spec->gpu_type);
	snprintf(buf[e++], 1024, "GPUAAS_GPU_COUNT=%d", spec->gpu_count);
	for (int i = 0; i < e; i++)
		envp[i] = buf[i];
	envp[e] = NULL;
}

/* Exactly its devices, by UUID when nvidia-smi told us, else by index. */
static void job_devices(const struct daemon *d, const struct exec_spec *spec, char *devs, size_t size)
{
	int type_idx = inventory_find(&d->inv, spec->gpu_type);
	size_t off = 0;
	devs[0] = '\0';
	for (int i = 0; i < spec->gpu_count && off < size; i++) {
		const struct gpu_device *dev = inventory_device(&d->inv, type_idx, spec->devices[i]);
		int w;
		if (dev && dev->uuid[0])
			w = snprintf(devs + off, size - off, "%s%s", i ? "," : "", dev->uuid);
		else
			w = snprintf(devs + off, size - off, "%s%d", i ? "," : "",
				inventory_device_index(&d->inv, type_idx, spec->devices[i]));
		off += (size_t)(w > 0 ? w : 0);
	}
}

/* Creates the job's directory and opens its log; the log fd or -1. */
static int open_job_log(struct local *lx, int64_t job_id, char *workdir, size_t wlen, int64_t *size)
{
	char logpath[4300];
	const struct config *cfg = &lx->d->cfg;
	if (job_dir(cfg, job_id, workdir, wlen) < 0 || local_log_path(cfg, job_id, logpath, sizeof logpath) < 0 ||
	    (mkdir(workdir, 0700) < 0 && errno != EEXIST) ||
	    (lx->drop_privileges && chown(workdir, lx->uid, lx->gid) < 0)) {
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"%s: %s\"", (long long)job_id, workdir,
			strerror(errno));
		return -1;
	}
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"%s: %s\"", (long long)job_id, logpath,
			strerror(errno));
		return -1;
	}
	struct stat st;
	*size = fstat(fd, &st) == 0 ? st.st_size : 0;
	return fd;
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
		signal_job(j, SIGKILL);
		close(fd);
		j->out_fd = -1;
	}
}

static int local_launch(void *self, const struct exec_spec *spec)
{
	struct local *lx = self;
	struct daemon *d = lx->d;
	int result = -1;
	cJSON *cmd = spec->command_json ? cJSON_Parse(spec->command_json) : NULL;
	int argc = cJSON_GetArraySize(cmd);
	char **argv = calloc((size_t)argc + 1, sizeof *argv);
	char *envp[16] = {0};
	char env_buf[12][1024];
	int pipefd[2] = {-1, -1};
	struct local_job *j = NULL;
	if (!cJSON_IsArray(cmd) || argc < 1 || !argv) {
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"no command to run\"", (long long)spec->job_id);
		goto out;
	}
	int k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cmd) argv[k++] = it->valuestring;
	char devs[2048], workdir[4200];
	job_devices(d, spec, devs, sizeof devs);
	job_env(lx, spec, devs, env_buf, envp);
	j = calloc(1, sizeof *j);
	if (!j)
		goto out;
	j->lx = lx;
	j->job_id = spec->job_id;
	j->out_fd = -1;
	j->log_fd = open_job_log(lx, spec->job_id, workdir, sizeof workdir, &j->log_bytes);
	if (j->log_fd < 0)
		goto out;
	pid_t parent = getpid();
	pid_t pid = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		log_event(LOG_ERROR, "exec.local", "job=%lld error=\"pipe/fork: %s\"", (long long)spec->job_id,
			strerror(errno));
		goto out;
	}
	if (pid == 0)
		run_child(lx, spec, argv, envp, pipefd[1], workdir, parent);
	close(pipefd[1]);
	pipefd[1] = -1;
	j->pid = pid;
	watch_output(j, pipefd[0]);
	pipefd[0] = -1;
	j->started_ms = spec->started_at_ms;
	int64_t left = spec->run_until_ms - wall_ms();
	j->deadline = loop_timer_at(d->loop, loop_now_ms() + (left > 0 ? left : 0), on_deadline, j);
	j->next = lx->jobs;
	lx->jobs = j;
	log_event(LOG_INFO, "job.launched", "job=%lld pid=%d devices=%s", (long long)spec->job_id, (int)pid, devs);
	j = NULL;
	result = 0;
out:
	if (j) {
		if (j->log_fd >= 0)
			close(j->log_fd);
		free(j);
	}
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(argv);
	cJSON_Delete(cmd);
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

static void finish(struct local *lx, struct local_job *j, int status)
{
	/* Whatever the leader left behind in its group goes too: no orphan
	 * keeps a GPU. */
	kill(-j->pid, SIGKILL);
	if (j->out_fd >= 0) {
		drain(j);
		loop_del(lx->d->loop, j->out_fd);
		close(j->out_fd);
		j->out_fd = -1;
	}
	int64_t ran = (wall_ms() - j->started_ms + 999) / 1000;
	if (ran < 0)
		ran = 0;
	char reason[128];
	enum job_state to;
	int exit_code = -1;
	if (j->daemon_stopping) {
		to = JOB_FAILED;
		snprintf(reason, sizeof reason, "lost: daemon stopped");
	} else if (j->timed_out) {
		to = JOB_FAILED;
		snprintf(reason, sizeof reason, "time limit");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		to = JOB_COMPLETED;
		exit_code = 0;
		snprintf(reason, sizeof reason, "completed");
	} else if (WIFEXITED(status)) {
		to = JOB_FAILED;
		exit_code = WEXITSTATUS(status);
		snprintf(reason, sizeof reason, "exit code %d", exit_code);
	} else {
		to = JOB_FAILED;
		int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		snprintf(reason, sizeof reason, "killed by signal %s (%d)", signal_name(sig), sig);
	}
	int64_t id = j->job_id;
	unlink_job(lx, j);
	job_free(j);
	lx->host.job_done(lx->host.owner, id, to, reason, ran, exit_code);
	park_signal(lx->d->park, PARK_JOB_OUTPUT, id);
}

static void local_on_sigchld(void *self)
{
	struct local *lx = self;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct local_job *j = lx->jobs; j; j = j->next) {
			if (j->pid == pid) {
				finish(lx, j, status);
				break;
			}
		}
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
		signal_job(j, SIGKILL);
		int status = 0;
		while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
			;
		finish(lx, j, status);
	}
}

const struct executor exec_local = {
	.name = "local",
	.resumable = false,
	.zero_time_inline = false,
	.needs_command = true,
	.discovers_gpus = true,
	.time_scale = exec_real_time,
	.log_path = local_log_path,
	.create = local_create,
	.destroy = local_destroy,
	.launch = local_launch,
	.cancel = local_cancel,
	.stop_all = local_stop_all,
	.on_sigchld = local_on_sigchld,
};
