/* Per-job cgroups v2 (see cgroup.h). */
#include "gpuaasd/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
		    p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* The first cgroup2 mount: its mount point and the hierarchy path it shows
 * (mountinfo fields 5 and 4). 0, or -1 when there is none. */
static int find_cgroup2(char *mnt, size_t mlen, char *root, size_t rlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char line[8192];
	int rc = -1;
	while (rc < 0 && fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		char *save = NULL, *field[5] = {0};
		char *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 5; i++, tok = strtok_r(NULL, " ", &save))
			field[i] = tok;
		if (!field[3] || !field[4])
			continue;
		unescape(field[3]);
		unescape(field[4]);
		snprintf(mnt, mlen, "%s", field[4]);
		snprintf(root, rlen, "%s", field[3]);
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* This process's cgroup v2 path (the "0::" line of /proc/self/cgroup). */
static int own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char line[4096];
	int rc = -1;
	while (rc < 0 && fgets(line, sizeof line, f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "%s", line + 3);
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* Writes text into the file `name` under dir_fd. 0 or -1 with errno. */
static int write_at(int dir_fd, const char *name, const char *text)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	int rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Makes a scratch cgroup to check that jobs' cgroups can be made and
 * killed here. 0, or -1 with why. */
static int probe_tree(struct cgroup_tree *t, char *why, size_t whylen)
{
	char name[64];
	snprintf(name, sizeof name, "probe-%d", (int)getpid());
	if (mkdirat(t->dir_fd, name, 0755) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create a cgroup in %s: %s", t->path, strerror(errno));
		return -1;
	}
	int dfd = openat(t->dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = dfd >= 0 && faccessat(dfd, "cgroup.procs", W_OK, 0) == 0 &&
		faccessat(dfd, "cgroup.events", R_OK, 0) == 0;
	if (dfd >= 0)
		close(dfd);
	if (unlinkat(t->dir_fd, name, AT_REMOVEDIR) < 0)
		ok = false;
	if (!ok)
		snprintf(why, whylen, "cgroups in %s cannot be used (cgroup.procs, cgroup.events)", t->path);
	return ok ? 0 : -1;
}

int cgroup_tree_open(struct cgroup_tree *t, const char *name, char *why, size_t whylen)
{
	char mnt[4096], root[4096], own[4096];
	t->dir_fd = -1;
	if (find_cgroup2(mnt, sizeof mnt, root, sizeof root) < 0) {
		snprintf(why, whylen, "no cgroup2 file system is mounted");
		return -1;
	}
	if (own_cgroup(own, sizeof own) < 0) {
		snprintf(why, whylen, "this process has no cgroup v2 path (/proc/self/cgroup)");
		return -1;
	}
	/* A mount of a sub-hierarchy shows paths below its root. */
	size_t rl = strlen(root);
	const char *rel = own;
	if (strcmp(root, "/") != 0 && strncmp(own, root, rl) == 0 && (own[rl] == '/' || own[rl] == '\0'))
		rel = own + rl;
	int n = snprintf(t->path, sizeof t->path, "%s%s%s/%s", mnt, *rel == '/' ? "" : "/",
		strcmp(rel, "/") == 0 ? "" : rel, name);
	if (n < 0 || (size_t)n >= sizeof t->path) {
		snprintf(why, whylen, "cgroup path too long");
		return -1;
	}
	if (mkdir(t->path, 0755) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create cgroup %s: %s", t->path, strerror(errno));
		return -1;
	}
	t->dir_fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dir_fd < 0) {
		snprintf(why, whylen, "cannot open cgroup %s: %s", t->path, strerror(errno));
		return -1;
	}
	if (probe_tree(t, why, whylen) < 0) {
		cgroup_tree_close(t);
		return -1;
	}
	return 0;
}

void cgroup_tree_close(struct cgroup_tree *t)
{
	if (t && t->dir_fd >= 0) {
		close(t->dir_fd);
		t->dir_fd = -1;
	}
}

static void job_name(int64_t job_id, char *buf, size_t len)
{
	snprintf(buf, len, "job-%lld", (long long)job_id);
}

int cgroup_job_create(struct cgroup_tree *t, int64_t job_id)
{
	char name[64], procs[96];
	job_name(job_id, name, sizeof name);
	if (mkdirat(t->dir_fd, name, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(procs, sizeof procs, "%s/cgroup.procs", name);
	return openat(t->dir_fd, procs, O_WRONLY | O_CLOEXEC);
}

/* Sends sig to each pid listed in job-<id>/cgroup.procs. */
static int signal_procs(struct cgroup_tree *t, int64_t job_id, int sig)
{
	char path[96];
	snprintf(path, sizeof path, "job-%lld/cgroup.procs", (long long)job_id);
	int fd = openat(t->dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -1;
	}
	long pid;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0 && kill((pid_t)pid, sig) < 0 && errno != ESRCH)
			break;
	fclose(f);
	return 0;
}

int cgroup_job_kill(struct cgroup_tree *t, int64_t job_id)
{
	char path[96];
	snprintf(path, sizeof path, "job-%lld/cgroup.kill", (long long)job_id);
	if (write_at(t->dir_fd, path, "1") == 0)
		return 0;
	/* Kernels before 5.14 have no cgroup.kill: each process, until the
	 * caller sees the cgroup empty. */
	return errno == ENOENT ? signal_procs(t, job_id, SIGKILL) : -1;
}

int cgroup_job_signal(struct cgroup_tree *t, int64_t job_id, int sig)
{
	return signal_procs(t, job_id, sig);
}

int cgroup_job_populated(struct cgroup_tree *t, int64_t job_id)
{
	char path[96];
	snprintf(path, sizeof path, "job-%lld/cgroup.events", (long long)job_id);
	int fd = openat(t->dir_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *p = strstr(buf, "populated ");
	return p ? p[10] == '1' : -1;
}

int cgroup_job_remove(struct cgroup_tree *t, int64_t job_id)
{
	char name[64];
	job_name(job_id, name, sizeof name);
	if (unlinkat(t->dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Kills every leftover job-* cgroup once; returns how many held processes. */
static int kill_leftovers(struct cgroup_tree *t, bool *any_left)
{
	int dup_fd = fcntl(t->dir_fd, F_DUPFD_CLOEXEC, 0);
	DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!dir) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	int busy = 0;
	*any_left = false;
	struct dirent *e;
	while ((e = readdir(dir))) {
		long long id;
		char tail;
		if (sscanf(e->d_name, "job-%lld%c", &id, &tail) != 1)
			continue;
		*any_left = true;
		if (cgroup_job_populated(t, id) == 1) {
			busy++;
			cgroup_job_kill(t, id);
		} else {
			cgroup_job_remove(t, id);
		}
	}
	closedir(dir);
	return busy;
}

int cgroup_reap_stale(struct cgroup_tree *t, int timeout_ms)
{
	bool left = false;
	int first = kill_leftovers(t, &left);
	if (first < 0)
		return -1;
	for (int waited = 0; left; waited += 10) {
		if (waited >= timeout_ms)
			return -1;
		sleep_ms(10);
		if (kill_leftovers(t, &left) < 0)
			return -1;
	}
	return first;
}
