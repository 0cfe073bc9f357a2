/* The Slurm executor: an approved job is submitted to a Slurm cluster with
 * sbatch (as the job's owner's Unix account, exec-slurm-ident.c), tracked
 * by one squeue poll for all jobs (exec-slurm-track.c), cancelled with
 * scancel, and ended with what Slurm says: state, exit code, seconds run.
 * Slurm places the jobs and enforces their time limits; gpuaas keeps the
 * accounts, the approval and the quota per GPU type of --gpus.
 *
 * Jobs outlive the daemon: a job's Slurm id is stored with it, and a
 * restart re-adopts every RUNNING job by that id. A job whose id may not
 * have been stored (the daemon died between sbatch and the commit, or
 * sbatch failed in a way that leaves it unknown whether Slurm took the
 * job) is looked up by its name gpuaas-ID and this daemon's --comment
 * before it is submitted again: a job is never submitted twice. Every
 * Slurm command is a child process on the loop; the loop never waits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaasd/batch.h"
#include "gpuaasd/db.h"
#include "gpuaasd/exec-slurm.h"
#include "gpuaasd/loop.h"
#include "gpuaasd/park.h"
#include "gpuaasd/state.h"

/* sbatch children at once; the rest wait in the submit queue. */
#define MAX_SUBMITTING 4
/* A Slurm command that takes longer is killed (and counts as failed). */
#define COMMAND_TIMEOUT_MS 120000
/* What is kept of one command's output. */
#define OUTPUT_CAP (64u << 20)
/* Backoff of a submission that failed transiently: 1 s doubling to this. */
#define RETRY_MAX_MS 60000

/* ---- set-up -------------------------------------------------------------- */

/* The absolute path of name in $PATH, into buf; -1 when there is none. */
static int find_tool(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		int w = snprintf(buf, len, "%.*s/%s", (int)n, p, name);
		if (n > 0 && w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return -1;
}

static int find_tools(struct slurm *sx, char *err, size_t errlen)
{
	static const char *const names[] = {"sbatch", "squeue", "scancel"};
	char *paths[] = {sx->sbatch, sx->squeue, sx->scancel};
	for (int i = 0; i < 3; i++) {
		if (find_tool(names[i], paths[i], sizeof sx->sbatch) < 0) {
			snprintf(err, errlen, "%s not found in PATH: install Slurm's client commands (slurm-client)",
				names[i]);
			return -1;
		}
	}
	if (find_tool("sacct", sx->sacct, sizeof sx->sacct) < 0) {
		sx->sacct[0] = '\0';
		sx->no_sacct = true;
	}
	return 0;
}

/* The Slurm commands' whole environment: PATH, SLURM_CONF when the daemon
 * has it, LANG=C (nothing else of the daemon's reaches sbatch, e.g. no
 * SBATCH_* variable). */
static void make_env(struct slurm *sx)
{
	const char *path = getenv("PATH"), *conf = getenv("SLURM_CONF");
	int e = 0;
	snprintf(sx->env_buf[e++], sizeof sx->env_buf[0], "PATH=%s",
		path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	snprintf(sx->env_buf[e++], sizeof sx->env_buf[0], "LANG=C");
	if (conf && *conf)
		snprintf(sx->env_buf[e++], sizeof sx->env_buf[0], "SLURM_CONF=%s", conf);
	for (int i = 0; i < e; i++)
		sx->env[i] = sx->env_buf[i];
	sx->env[e] = NULL;
}

/* This daemon's mark on its Slurm jobs (--comment gpuaas:<hex>): random,
 * kept in <state>/slurm-instance, so that another gpuaas submitting to the
 * same cluster never adopts our jobs by name, nor we theirs. */
static int load_instance(struct slurm *sx, char *err, size_t errlen)
{
	char path[4200], hex[17] = "";
	snprintf(path, sizeof path, "%s/slurm-instance", sx->d->cfg.state_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd >= 0 ? read(fd, hex, 16) : -1;
	if (fd >= 0)
		close(fd);
	if (n == 16 && strspn(hex, "0123456789abcdef") == 16) {
		snprintf(sx->instance, sizeof sx->instance, "gpuaas:%s", hex);
		return 0;
	}
	unsigned char raw[8];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	bool ok = fd >= 0 && write(fd, hex, 16) == 16 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(sx->instance, sizeof sx->instance, "gpuaas:%s", hex);
	return 0;
}

/* The loop runs: launches from now on are new jobs, not recoveries. */
static void booted(struct loop *loop, void *data)
{
	struct slurm *sx = data;
	(void)loop;
	sx->boot_timer = NULL;
	sx->booting = false;
	slurm_poll_soon(sx, 0);
}

static void slurm_destroy(void *self);

static void *slurm_create(const struct exec_host *host)
{
	struct slurm *sx = calloc(1, sizeof *sx);
	char err[1024] = "out of memory", dir[4200];
	if (!sx)
		goto fail;
	sx->d = host->d;
	sx->host = *host;
	sx->log_dir_fd = -1;
	const struct config *cfg = &sx->d->cfg;
	if (slurm_ident_init(&sx->ident, cfg, err, sizeof err) < 0 ||
	    slurm_gres_parse(&sx->gres, cfg->slurm_gres, &sx->d->inv, err, sizeof err) < 0 ||
	    find_tools(sx, err, sizeof err) < 0 || load_instance(sx, err, sizeof err) < 0)
		goto fail;
	snprintf(err, sizeof err, "out of memory");
	if (cfg->slurm_gres && !(sx->gres_spec = strdup(cfg->slurm_gres)))
		goto fail;
	make_env(sx);
	sx->log_dir_fd = slurm_log_dir_open(cfg, err, sizeof err);
	if (sx->log_dir_fd < 0)
		goto fail;
	snprintf(err, sizeof err, "out of memory");
	sx->procs = sprocs_create(sx->d->loop, OUTPUT_CAP);
	sx->booting = true;
	sx->boot_timer = sx->procs ? loop_timer_at(sx->d->loop, loop_now_ms(), booted, sx) : NULL;
	if (!sx->boot_timer)
		goto fail;
	slurm_log_dir(cfg, dir, sizeof dir);
	log_event(LOG_INFO, "exec.slurm.ready", "log_dir=%s job_user=%s instance=%s sacct=%s poll=%llds", dir,
		sx->ident.mode == SLURM_IDENT_OWNER ? "owner" : sx->ident.shared.user, sx->instance,
		sx->no_sacct ? "none" : sx->sacct, (long long)cfg->slurm_poll);
	return sx;
fail:
	log_event(LOG_ERROR, "exec.slurm", "error=\"%s\"", err);
	if (sx)
		slurm_destroy(sx);
	return NULL;
}

static void job_free(struct slurm *sx, struct sjob *j)
{
	loop_timer_cancel(sx->d->loop, j->retry);
	free(j->command);
	free(j);
}

static void slurm_destroy(void *self)
{
	struct slurm *sx = self;
	/* Children still running are left alone: their jobs go on in Slurm
	 * and the next start adopts them. */
	sprocs_destroy(sx->procs);
	slurm_track_stop(sx);
	if (sx->d)
		loop_timer_cancel(sx->d->loop, sx->boot_timer);
	while (sx->jobs) {
		struct sjob *j = sx->jobs;
		sx->jobs = j->next;
		job_free(sx, j);
	}
	if (sx->log_dir_fd >= 0)
		close(sx->log_dir_fd);
	free(sx->gres_spec);
	free(sx);
}

/* ---- jobs ------------------------------------------------------------------ */

static struct sjob *find_job(struct slurm *sx, int64_t job_id)
{
	for (struct sjob *j = sx->jobs; j; j = j->next)
		if (j->job_id == job_id)
			return j;
	return NULL;
}

static void queue_remove(struct slurm *sx, struct sjob *j)
{
	struct sjob *prev = NULL;
	for (struct sjob *q = sx->queue_head; q; prev = q, q = q->qnext) {
		if (q != j)
			continue;
		if (prev)
			prev->qnext = q->qnext;
		else
			sx->queue_head = q->qnext;
		if (sx->queue_tail == q)
			sx->queue_tail = prev;
		q->qnext = NULL;
		return;
	}
}

void slurm_job_end(struct slurm *sx, struct sjob *j, enum job_state to, const char *reason, int64_t ran,
	int exit_code)
{
	int64_t id = j->job_id;
	if (j->prev)
		j->prev->next = j->next;
	else
		sx->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	queue_remove(sx, j);
	log_event(LOG_INFO, "job.slurm_ended", "job=%lld slurm_job=%lld status=%s reason=\"%s\" ran=%lld",
		(long long)id, (long long)j->slurm_id, job_state_name(to), reason, (long long)ran);
	job_free(sx, j);
	sx->host.job_done(sx->host.owner, id, to, reason, ran < 0 ? 0 : ran, exit_code);
	park_signal(sx->d->park, PARK_JOB_OUTPUT, id);
}

struct external {
	struct db *db;
	int64_t job_id;
	char text[24];
};

static int store_external(void *arg)
{
	struct external *e = arg;
	return db_job_set_external_id(e->db, e->job_id, e->text) == 0 ? 0 : -1;
}

void slurm_job_adopt(struct slurm *sx, struct sjob *j, int64_t slurm_id)
{
	struct external e = {sx->d->db, j->job_id, ""};
	snprintf(e.text, sizeof e.text, "%lld", (long long)slurm_id);
	j->slurm_id = slurm_id;
	j->phase = SJ_TRACKED;
	j->known_since = loop_now_ms();
	j->scancel_sent = false;
	/* Committed with this loop round; if it is lost, a restart finds the
	 * job by its name. */
	if (batch_run(sx->d->batch, store_external, &e) != 0)
		log_event(LOG_WARN, "exec.slurm.store_id", "job=%lld slurm_job=%lld error=\"database\"",
			(long long)j->job_id, (long long)slurm_id);
	slurm_logs_watch(sx);
	slurm_poll_soon(sx, sx->d->cfg.slurm_poll * 1000);
	if (j->cancel)
		slurm_send_scancel(sx, j);
}

/* ---- submitting ------------------------------------------------------------ */

static void retry_due(struct loop *loop, void *data)
{
	struct sjob *j = data;
	(void)loop;
	j->retry = NULL;
	/* It may have reached Slurm after all: look for it first. */
	j->phase = SJ_LOOKUP;
	slurm_poll_soon(j->sx, 0);
}

/* sbatch failed: a rejection of the job ends it; anything else is retried
 * with backoff, after a look for it by name. */
static void submit_failed(struct slurm *sx, struct sjob *j, const struct sproc_result *r)
{
	char text[1024], reason[1100];
	slurm_error_text(r->timed_out ? "sbatch timed out" : r->err, text, sizeof text);
	bool rejected = !r->timed_out && r->status > 0 && !slurm_error_transient(r->err);
	if (j->cancel && rejected) {
		slurm_job_end(sx, j, JOB_CANCELLED, "cancelled", j->carried, -1);
		return;
	}
	if (rejected) {
		snprintf(reason, sizeof reason, "Slurm refused the job: %s", text);
		slurm_job_end(sx, j, JOB_FAILED, reason, j->carried, -1);
		return;
	}
	int64_t delay = (int64_t)1000 << (j->attempts < 6 ? j->attempts : 6);
	j->attempts++;
	log_event(LOG_WARN, "exec.slurm.submit_retry", "job=%lld attempt=%d in_ms=%lld error=\"%s\"",
		(long long)j->job_id, j->attempts, (long long)(delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS), text);
	j->phase = SJ_QUEUED;
	j->retry = loop_timer_at(sx->d->loop, loop_now_ms() + (delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS),
		retry_due, j);
	if (!j->retry) {
		j->phase = SJ_LOOKUP;
		slurm_poll_soon(sx, 0);
	}
}

static void sbatch_done(void *arg, const struct sproc_result *r)
{
	struct sjob *j = arg;
	struct slurm *sx = j->sx;
	int64_t slurm_id = 0;
	sx->submitting--;
	if (r->status == 0 && !r->timed_out && slurm_parse_sbatch_id(r->out, &slurm_id) == 0) {
		log_event(LOG_INFO, "job.slurm_submitted", "job=%lld slurm_job=%lld took_ms=%lld",
			(long long)j->job_id, (long long)slurm_id, (long long)r->took_ms);
		slurm_job_adopt(sx, j, slurm_id);
	} else {
		submit_failed(sx, j, r);
	}
	slurm_pump(sx);
}

/* A sealed memory file holding text, for sbatch's stdin; -1 on error. */
static int text_fd(const char *text, size_t len)
{
	int fd = memfd_create("gpuaas-batch-script", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Who submits j, its log made ready for that account. 0, or -1 with the
 * job's failure reason in err. */
static int prepare_submit(struct slurm *sx, struct sjob *j, struct slurm_ident *who, char *err, size_t errlen)
{
	struct user_row owner;
	if (db_user_by_id(sx->d->db, j->owner_id, &owner) != 0) {
		snprintf(err, errlen, "the job's owner (user %lld) is gone", (long long)j->owner_id);
		return -1;
	}
	if (slurm_ident_of(&sx->ident, owner.username, who, err, errlen) < 0)
		return -1;
	if (slurm_log_prepare(sx->log_dir_fd, j->job_id, who, !j->submitted_once, err, errlen) < 0)
		return -1;
	j->submitted_once = true;
	return 0;
}

/* The workdir of a job: the account's home when it is a directory here,
 * else /tmp (Slurm falls back to /tmp too). */
static const char *workdir_of(const struct slurm_ident *who)
{
	struct stat st;
	return who->home[0] == '/' && stat(who->home, &st) == 0 && S_ISDIR(st.st_mode) ? who->home : "/tmp";
}

/* --slurm-gres changed (SIGHUP): the new map, or the old one when the
 * new value is bad (logged once). */
static void refresh_gres(struct slurm *sx)
{
	const char *spec = sx->d->cfg.slurm_gres;
	if ((!spec && !sx->gres_spec) || (spec && sx->gres_spec && strcmp(spec, sx->gres_spec) == 0))
		return;
	struct slurm_gres_map map;
	char err[512];
	char *copy = spec ? strdup(spec) : NULL;
	if (spec && !copy)
		return;
	free(sx->gres_spec);
	sx->gres_spec = copy;
	if (slurm_gres_parse(&map, spec, &sx->d->inv, err, sizeof err) < 0) {
		log_event(LOG_ERROR, "exec.slurm.gres", "error=\"%s\" (the previous map stays)", err);
		return;
	}
	sx->gres = map;
	log_event(LOG_INFO, "exec.slurm.gres", "map=\"%s\"", spec ? spec : "(lower-case types)");
}

/* Runs sbatch for j. 0, or -1 with the job's failure reason in err. */
static int start_sbatch(struct slurm *sx, struct sjob *j, char *err, size_t errlen)
{
	struct slurm_ident who;
	struct sbatch_argv *a = NULL;
	char log[4300];
	size_t len = 0;
	int fd = -1, rc = -1;
	char *script = slurm_batch_script(j->job_id, j->command, &len, err, errlen);
	if (!script || prepare_submit(sx, j, &who, err, errlen) < 0)
		goto out;
	refresh_gres(sx);
	int idx = inventory_find(&sx->d->inv, j->gpu_type);
	struct slurm_submit s = {
		.job_id = j->job_id, .gpu_type = j->gpu_type, .gpu_count = j->gpu_count,
		.time_limit = j->time_limit, .gres = idx >= 0 ? sx->gres.gres[idx] : "gpu",
		.log_path = log, .workdir = workdir_of(&who), .instance = sx->instance,
		.partition = sx->d->cfg.slurm_partition, .account = sx->d->cfg.slurm_account,
	};
	a = calloc(1, sizeof *a);
	if (!a || slurm_log_path(&sx->d->cfg, j->job_id, log, sizeof log) < 0 ||
	    slurm_sbatch_argv(a, sx->sbatch, &s) < 0) {
		snprintf(err, errlen, "cannot build sbatch's arguments");
		goto out;
	}
	fd = text_fd(script, len);
	struct sproc_spec spec = {.argv = a->argv, .envp = sx->env, .who = &who, .stdin_fd = fd,
		.timeout_ms = COMMAND_TIMEOUT_MS};
	if (fd < 0 || sprocs_start(sx->procs, &spec, sbatch_done, j) < 0) {
		snprintf(err, errlen, "cannot run sbatch: %s", strerror(errno));
		goto out;
	}
	j->phase = SJ_SUBMITTING;
	sx->submitting++;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(a);
	free(script);
	return rc;
}

void slurm_pump(struct slurm *sx)
{
	while (!sx->in_pass && sx->submitting < MAX_SUBMITTING && sx->queue_head) {
		struct sjob *j = sx->queue_head;
		sx->queue_head = j->qnext;
		if (!sx->queue_head)
			sx->queue_tail = NULL;
		j->qnext = NULL;
		char err[1024];
		if (start_sbatch(sx, j, err, sizeof err) < 0)
			slurm_job_end(sx, j, JOB_FAILED, err, j->carried, -1);
	}
}

void slurm_submit_later(struct slurm *sx, struct sjob *j)
{
	j->phase = SJ_QUEUED;
	j->slurm_id = 0;
	j->qnext = NULL;
	if (sx->queue_tail)
		sx->queue_tail->qnext = j;
	else
		sx->queue_head = j;
	sx->queue_tail = j;
	slurm_pump(sx);
}

/* ---- the vtable ---------------------------------------------------------- */

static int read_external(void *arg, const struct job_row *row)
{
	int64_t *id = arg;
	char *end;
	*id = row->external_id ? strtoll(row->external_id, &end, 10) : 0;
	if (row->external_id && *end != '\0')
		*id = 0;
	return 0;
}

static int slurm_launch(void *self, const struct exec_spec *spec)
{
	struct slurm *sx = self;
	int64_t slurm_id = 0;
	struct sjob *j = calloc(1, sizeof *j);
	if (!j || db_job_get(sx->d->db, spec->job_id, read_external, &slurm_id) < 0) {
		free(j);
		return -1;
	}
	j->sx = sx;
	j->job_id = spec->job_id;
	j->owner_id = spec->owner_id;
	snprintf(j->gpu_type, sizeof j->gpu_type, "%s", spec->gpu_type);
	j->gpu_count = spec->gpu_count;
	j->time_limit = spec->time_limit;
	j->started_ms = spec->started_at_ms;
	j->command = spec->command_json ? strdup(spec->command_json) : NULL;
	if (spec->command_json && !j->command) {
		free(j);
		return -1;
	}
	j->next = sx->jobs;
	if (sx->jobs)
		sx->jobs->prev = j;
	sx->jobs = j;
	if (slurm_id > 0) {
		/* A restart: the job is in Slurm under its stored id. */
		j->submitted_once = true;
		j->slurm_id = slurm_id;
		j->phase = SJ_TRACKED;
		j->known_since = loop_now_ms();
		log_event(LOG_INFO, "job.slurm_readopted", "job=%lld slurm_job=%lld", (long long)j->job_id,
			(long long)slurm_id);
		slurm_logs_watch(sx);
		slurm_poll_soon(sx, 0);
	} else if (sx->booting) {
		/* A restart, and sbatch may have run without its id being
		 * stored: look for the job by name before submitting it. */
		j->submitted_once = true;
		j->phase = SJ_LOOKUP;
		slurm_poll_soon(sx, 0);
	} else {
		slurm_submit_later(sx, j);
	}
	return 0;
}

static void slurm_cancel(void *self, int64_t job_id)
{
	struct slurm *sx = self;
	struct sjob *j = find_job(sx, job_id);
	if (!j)
		return;
	j->cancel = true;
	switch (j->phase) {
	case SJ_QUEUED:
		/* Never reached Slurm (a backoff may hide a submission that did:
		 * then it is looked up and cancelled there). */
		if (j->retry) {
			loop_timer_cancel(sx->d->loop, j->retry);
			j->retry = NULL;
			j->phase = SJ_LOOKUP;
			slurm_poll_soon(sx, 0);
			return;
		}
		slurm_job_end(sx, j, JOB_CANCELLED, "cancelled", j->carried, -1);
		return;
	case SJ_TRACKED:
		if (!j->scancel_sent)
			slurm_send_scancel(sx, j);
		return;
	case SJ_SUBMITTING:
	case SJ_LOOKUP:
		return; /* cancelled once its Slurm id is known */
	}
}

static void slurm_on_sigchld(void *self)
{
	struct slurm *sx = self;
	sprocs_reap(sx->procs);
}

const struct executor exec_slurm = {
	.name = "slurm",
	.resumable = true,
	.zero_time_inline = false,
	.needs_command = true,
	.discovers_gpus = false,
	.time_scale = exec_real_time,
	.log_path = slurm_log_path,
	.create = slurm_create,
	.destroy = slurm_destroy,
	.launch = slurm_launch,
	.cancel = slurm_cancel,
	.stop_all = NULL,
	.on_sigchld = slurm_on_sigchld,
};
