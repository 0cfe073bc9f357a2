/* Job logs of the local executor: <state>/logs/ID.log, in a 0700 directory
 * of the daemon's, written by the daemon from the job's output pipe. A job
 * cannot reach, replace or forge it (docs/SECURITY.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpuaasd/config.h"
#include "common/log.h"
#include "gpuaasd/exec-local.h"

int job_log_path(const struct config *cfg, int64_t job_id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/logs/%lld.log", cfg->state_dir, (long long)job_id);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* <state>/logs: a real directory of ours, 0700. */
static int logs_dir(const struct config *cfg, char *err, size_t errlen)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/logs", cfg->state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is not a directory of this daemon's", dir);
		return -1;
	}
	if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot chmod 0700 %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int job_log_open(struct job_log *log, const struct config *cfg, int64_t job_id, char *err, size_t errlen)
{
	char path[4300];
	log->fd = -1;
	log->bytes = 0;
	log->cap = cfg->max_log_bytes;
	log->truncated = false;
	if (logs_dir(cfg, err, errlen) < 0)
		return -1;
	if (job_log_path(cfg, job_id, path, sizeof path) < 0) {
		snprintf(err, errlen, "log path too long");
		return -1;
	}
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct stat st;
	if (log->fd < 0 || fstat(log->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, log->fd < 0 ? strerror(errno) : "not a regular file");
		job_log_close(log);
		return -1;
	}
	log->bytes = st.st_size;
	return 0;
}

void job_log_write(struct job_log *log, const char *buf, size_t n)
{
	if (log->truncated || log->fd < 0)
		return;
	if (log->bytes + (int64_t)n <= log->cap) {
		ssize_t w = write(log->fd, buf, n);
		if (w > 0)
			log->bytes += w;
		return;
	}
	size_t room = (size_t)(log->cap > log->bytes ? log->cap - log->bytes : 0);
	if (room > 0 && write(log->fd, buf, room) < 0)
		return;
	char note[160];
	int m = snprintf(note, sizeof note, "\n[gpuaas: log cut at %lld bytes (--max-log-bytes); the rest of the "
		"output was discarded]\n", (long long)log->cap);
	if (write(log->fd, note, (size_t)m) < 0)
		return;
	log->bytes = log->cap;
	log->truncated = true;
}

void job_log_close(struct job_log *log)
{
	if (log->fd >= 0) {
		close(log->fd);
		log->fd = -1;
	}
}

/* Moves one job's old log, <state>/jobs/ID/output.log, to logs/ID.log. */
static void migrate_one(const struct config *cfg, const char *id)
{
	char from[4300], to[4300];
	struct stat st;
	snprintf(from, sizeof from, "%s/jobs/%s/output.log", cfg->state_dir, id);
	snprintf(to, sizeof to, "%s/logs/%s.log", cfg->state_dir, id);
	/* Only a regular file: what a job left in its directory is not
	 * trusted to be anything else. */
	if (lstat(from, &st) < 0 || !S_ISREG(st.st_mode) || access(to, F_OK) == 0)
		return;
	if (rename(from, to) < 0 || chown(to, geteuid(), getegid()) < 0 || chmod(to, 0600) < 0)
		log_event(LOG_WARN, "exec.local.log_migrate", "file=%s error=\"%s\"", from, strerror(errno));
}

int job_logs_migrate(const struct config *cfg, char *err, size_t errlen)
{
	char dir[4200];
	if (logs_dir(cfg, err, errlen) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/jobs", cfg->state_dir);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && strspn(e->d_name, "0123456789") == strlen(e->d_name))
			migrate_one(cfg, e->d_name);
	closedir(d);
	return 0;
}
