/* Who submits a Slurm job (--job-user): with a root daemon, the Unix
 * account named like the job's owner (owner, the default with Slurm: the
 * cluster's accounting and file permissions see the right person), or one
 * named account for every job. dynamic cannot work on a cluster (its uids
 * are unknown on the nodes) and is refused. A daemon that is not root
 * submits everything as itself. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gpuaasd/config.h"
#include "gpuaasd/exec-slurm.h"

/* Fills an identity from a passwd entry. */
static void from_account(struct slurm_ident *id, const struct passwd *pw, bool drop)
{
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->drop = drop;
	snprintf(id->user, sizeof id->user, "%s", pw->pw_name);
	snprintf(id->home, sizeof id->home, "%s", pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	id->ngroups = SLURM_MAX_GROUPS;
	if (!drop || getgrouplist(pw->pw_name, pw->pw_gid, id->groups, &id->ngroups) < 0) {
		id->groups[0] = pw->pw_gid;
		id->ngroups = 1;
	}
}

/* Whether --job-user was given on the command line. config.c records that
 * per option index; the index of job-user is found by parsing it alone.
 * (A job_user of dynamic that was not given is the local executor's
 * default, which means owner here.) */
static bool job_user_given(const struct config *cfg)
{
	return cfg->job_user_given;
}

static int init_self(struct slurm_ident_policy *p)
{
	errno = 0;
	struct passwd *pw = getpwuid(getuid());
	p->mode = SLURM_IDENT_SELF;
	if (pw) {
		from_account(&p->shared, pw, false);
		return 0;
	}
	p->shared.uid = getuid();
	p->shared.gid = getgid();
	snprintf(p->shared.user, sizeof p->shared.user, "uid%u", (unsigned)getuid());
	snprintf(p->shared.home, sizeof p->shared.home, "/");
	return 0;
}

int slurm_ident_init(struct slurm_ident_policy *p, const struct config *cfg, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->min_uid = (uid_t)cfg->job_min_uid;
	bool dynamic = strcmp(cfg->job_user, "dynamic") == 0;
	if (dynamic && job_user_given(cfg)) {
		snprintf(err, errlen, "--executor slurm cannot use --job-user dynamic: the cluster's nodes do not "
			"know those uids. Use --job-user owner (the default with Slurm: each job is submitted as the "
			"Unix account named like its owner) or --job-user ACCOUNT");
		return -1;
	}
	if (geteuid() != 0)
		return init_self(p);
	if (dynamic || strcmp(cfg->job_user, "owner") == 0) {
		p->mode = SLURM_IDENT_OWNER;
		return 0;
	}
	errno = 0;
	struct passwd *pw = getpwnam(cfg->job_user);
	if (!pw) {
		snprintf(err, errlen, "--job-user %s: no such account", cfg->job_user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "--job-user %s: the account is root: refusing to submit jobs as root",
			cfg->job_user);
		return -1;
	}
	p->mode = SLURM_IDENT_ACCOUNT;
	from_account(&p->shared, pw, true);
	log_event(LOG_WARN, "exec.slurm.shared_account",
		"user=%s note=\"every job is submitted as this one account\"", cfg->job_user);
	return 0;
}

int slurm_ident_of(const struct slurm_ident_policy *p, const char *owner, struct slurm_ident *out, char *err,
	size_t errlen)
{
	if (p->mode != SLURM_IDENT_OWNER) {
		*out = p->shared;
		return 0;
	}
	errno = 0;
	struct passwd *pw = getpwnam(owner);
	if (!pw) {
		snprintf(err, errlen, "--job-user owner: there is no Unix account named '%s' to submit the job as",
			owner);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0 || pw->pw_uid < p->min_uid) {
		snprintf(err, errlen, "--job-user owner: account '%s' has uid %u, below --job-min-uid %u (or is root)",
			owner, (unsigned)pw->pw_uid, (unsigned)p->min_uid);
		return -1;
	}
	from_account(out, pw, true);
	return 0;
}
