/* Who a local job runs as (--job-user): a reserved uid per gpuaas user
 * (dynamic), the Unix account of the same name (owner), or one shared
 * account; and, for dynamic uids, the sweep that kills whatever a dead
 * daemon's jobs left running. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaasd/config.h"
#include "gpuaasd/exec-local.h"

/* Fills the account part of an identity from a passwd entry. */
static void from_account(struct job_ident *id, const struct passwd *pw, bool drop)
{
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->drop = drop;
	snprintf(id->user, sizeof id->user, "%s", pw->pw_name);
	snprintf(id->home, sizeof id->home, "%s", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	id->ngroups = IDENT_MAX_GROUPS;
	if (!drop || getgrouplist(pw->pw_name, pw->pw_gid, id->groups, &id->ngroups) < 0) {
		/* More groups than we carry: the primary one only. */
		id->groups[0] = pw->pw_gid;
		id->ngroups = 1;
	}
}

static int init_account(struct ident_policy *p, const char *name, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		snprintf(err, errlen, "--job-user %s: no such account", name);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "--job-user %s: the account is root: refusing to run jobs as root", name);
		return -1;
	}
	p->mode = IDENT_ACCOUNT;
	from_account(&p->shared, pw, true);
	log_event(LOG_WARN, "exec.local.shared_account",
		"user=%s note=\"every job runs as this one account: jobs are not isolated from each other\"", name);
	return 0;
}

int ident_init(struct ident_policy *p, const struct config *cfg, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->base = (uid_t)cfg->job_uid_base;
	p->min_uid = (uid_t)cfg->job_min_uid;
	if (geteuid() != 0) {
		/* Not root: jobs can only run as the daemon's own user. */
		struct passwd *pw = getpwuid(getuid());
		p->mode = IDENT_SELF;
		p->shared.uid = getuid();
		p->shared.gid = getgid();
		snprintf(p->shared.user, sizeof p->shared.user, "%s", pw ? pw->pw_name : "gpuaas");
		snprintf(p->shared.home, sizeof p->shared.home, "%s", pw && pw->pw_dir ? pw->pw_dir : "/");
		return 0;
	}
	if (strcmp(cfg->job_user, "dynamic") == 0) {
		p->mode = IDENT_DYNAMIC;
		return 0;
	}
	if (strcmp(cfg->job_user, "owner") == 0) {
		p->mode = IDENT_OWNER;
		return 0;
	}
	return init_account(p, cfg->job_user, err, errlen);
}

/* A reserved uid for gpuaas user owner_id; refused when an account or a
 * group already has that number. */
static int dynamic_ident(const struct ident_policy *p, int64_t owner_id, const char *owner_name,
	struct job_ident *out, char *err, size_t errlen)
{
	if (owner_id < 1 || owner_id >= IDENT_DYNAMIC_COUNT) {
		snprintf(err, errlen, "gpuaas user id %lld is outside the %d uids from --job-uid-base %u",
			(long long)owner_id, IDENT_DYNAMIC_COUNT, (unsigned)p->base);
		return -1;
	}
	uid_t uid = p->base + (uid_t)owner_id;
	struct passwd *pw = getpwuid(uid);
	struct group *gr = pw ? NULL : getgrgid((gid_t)uid);
	if (pw || gr) {
		snprintf(err, errlen, "uid %u (gpuaas user %s) belongs to the existing %s '%s': refusing to share "
			"it; choose another --job-uid-base", (unsigned)uid, owner_name, pw ? "account" : "group",
			pw ? pw->pw_name : gr->gr_name);
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->uid = uid;
	out->gid = (gid_t)uid;
	out->drop = true;
	out->ngroups = 0;
	snprintf(out->user, sizeof out->user, "%s", owner_name);
	out->home[0] = '\0';
	return 0;
}

/* The Unix account named like the gpuaas user. */
static int owner_ident(const struct ident_policy *p, const char *owner_name, struct job_ident *out, char *err,
	size_t errlen)
{
	struct passwd *pw = getpwnam(owner_name);
	if (!pw) {
		snprintf(err, errlen, "--job-user owner: there is no Unix account named '%s'", owner_name);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0 || pw->pw_uid < p->min_uid) {
		snprintf(err, errlen, "--job-user owner: account '%s' has uid %u, below --job-min-uid %u (or is root)",
			owner_name, (unsigned)pw->pw_uid, (unsigned)p->min_uid);
		return -1;
	}
	from_account(out, pw, true);
	return 0;
}

int ident_of_job(const struct ident_policy *p, int64_t owner_id, const char *owner_name, struct job_ident *out,
	char *err, size_t errlen)
{
	switch (p->mode) {
	case IDENT_DYNAMIC:
		return dynamic_ident(p, owner_id, owner_name, out, err, errlen);
	case IDENT_OWNER:
		return owner_ident(p, owner_name, out, err, errlen);
	case IDENT_SELF:
	case IDENT_ACCOUNT:
		*out = p->shared;
		return 0;
	}
	snprintf(err, errlen, "unknown identity mode");
	return -1;
}

bool ident_uids_are_jobs(const struct ident_policy *p)
{
	return p->mode == IDENT_DYNAMIC;
}

/* A live (not zombie) process's real, effective, saved and fs uids. */
static bool proc_uids(const char *pid, uid_t uids[4])
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool got = false, zombie = false;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "State:", 6) == 0)
			zombie = strchr(line, 'Z') || strchr(line, 'X');
		unsigned a, b, c, d;
		if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4) {
			uids[0] = a, uids[1] = b, uids[2] = c, uids[3] = d;
			got = true;
			break;
		}
	}
	fclose(f);
	return got && !zombie;
}

/* One pass over /proc: SIGKILL to each process of a free job uid. */
static int sweep_once(const struct ident_policy *p)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return -1;
	int killed = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		uid_t u[4];
		if (!proc_uids(e->d_name, u))
			continue;
		for (int i = 0; i < 4; i++) {
			/* A uid of the range that an account now owns is not ours. */
			if (u[i] >= p->base && u[i] < p->base + IDENT_DYNAMIC_COUNT && !getpwuid(u[i])) {
				if (kill((pid_t)atol(e->d_name), SIGKILL) == 0)
					killed++;
				break;
			}
		}
	}
	closedir(dir);
	return killed;
}

int ident_sweep(const struct ident_policy *p, int timeout_ms)
{
	if (!ident_uids_are_jobs(p))
		return 0;
	int total = 0;
	for (int waited = 0;; waited += 10) {
		int n = sweep_once(p);
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		total += n;
		if (waited >= timeout_ms)
			return -1;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}
