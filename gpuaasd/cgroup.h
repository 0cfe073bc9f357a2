/* One cgroup v2 per local job, under a subtree of the daemon's own cgroup
 * (the one systemd delegates to it with Delegate=yes). A job's whole process
 * tree is killed at once through cgroup.kill, and the job is gone when its
 * cgroup is empty (cgroup.events: populated 0). The cgroup2 mount is found
 * in /proc/self/mountinfo: on a hybrid layout it is not /sys/fs/cgroup. */
#ifndef GPUAAS_GPUAASD_CGROUP_H
#define GPUAAS_GPUAASD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_tree {
	int dir_fd;      /* the subtree holding job-<id> cgroups; -1 when none */
	char path[4096]; /* its path, for messages */
};

/* Opens (creating it when needed) the subtree `name` under the daemon's own
 * cgroup and checks that a job cgroup can be made and killed there. 0, or
 * -1 with the reason in why (no cgroup2 mount, read-only, no cgroup.kill). */
int cgroup_tree_open(struct cgroup_tree *t, const char *name, char *why, size_t whylen);
/* Closes the subtree (its cgroups stay). NULL or unopened: no-op. */
void cgroup_tree_close(struct cgroup_tree *t);
/* Makes job-<id> and returns an open O_WRONLY descriptor of its
 * cgroup.procs (the child writes "0" there to join), or -1 with errno. */
int cgroup_job_create(struct cgroup_tree *t, int64_t job_id);
/* Kills every process of job-<id> (cgroup.kill, else SIGKILL to each pid it
 * lists). 0, or -1 when the cgroup is gone or cannot be written. */
int cgroup_job_kill(struct cgroup_tree *t, int64_t job_id);
/* Sends sig to every process of job-<id>, once. 0 or -1. */
int cgroup_job_signal(struct cgroup_tree *t, int64_t job_id, int sig);
/* 1 while job-<id> holds a process, 0 when it is empty or gone, -1 when
 * it cannot be read. */
int cgroup_job_populated(struct cgroup_tree *t, int64_t job_id);
/* Removes job-<id> (it must be empty); 0, or -1 with errno. */
int cgroup_job_remove(struct cgroup_tree *t, int64_t job_id);
/* After a restart: kills what is left in every job-* cgroup of the subtree,
 * waits up to timeout_ms for them to empty and removes them. Returns the
 * number of cgroups that still held processes when it started, or -1 when
 * some could not be emptied in time. */
int cgroup_reap_stale(struct cgroup_tree *t, int timeout_ms);

#endif
