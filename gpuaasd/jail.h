/* The process side of a local job: what the forked child does between
 * fork and exec. With isolation it makes a private mount, PID and IPC
 * namespace whose /dev holds only the job's GPU nodes, the NVIDIA control
 * nodes and the usual pseudo devices, a private /tmp, /var/tmp and /dev/shm,
 * the state dir hidden but for the job's own directory, and /proc showing
 * only the job's processes. Everything is prepared by the daemon before the
 * fork (jail_prepare): the child only makes system calls.
 *
 * Processes (isolated):  gpuaasd -> supervisor (root, daemon's PID namespace,
 * forwards SIGTERM) -> init (PID 1 of the job's namespace, reaps, writes the
 * command's wait status) -> the command (as the job's identity). When the
 * command ends, init kills what is left and the namespace dies with it; each
 * level dies with its parent (PR_SET_PDEATHSIG). */
#ifndef GPUAAS_GPUAASD_JAIL_H
#define GPUAAS_GPUAASD_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>


#define JAIL_MAX_NODES 80
#define IDENT_MAX_GROUPS 64

struct config;

/* Who one job runs as, resolved before the fork (the child only makes
 * system calls). */
struct job_ident {
	uid_t uid;
	gid_t gid;
	bool drop;                      /* setgroups/setgid/setuid in the child */
	int ngroups;
	gid_t groups[IDENT_MAX_GROUPS]; /* supplementary groups */
	char user[64];                  /* USER and LOGNAME */
	char home[4096];                /* HOME; "" means the job's directory */
};

/* A device node to make in the job's /dev. */
struct jail_node {
	char name[32];
	mode_t mode;
	dev_t rdev;
};

struct jail_spec {
	bool isolate;
	const char *workdir;    /* <state>/jobs/ID, the job's own */
	const char *start_dir;  /* where the command starts (submit --chdir, as
				 * the job's user), or NULL: workdir */
	const char *state_dir;  /* hidden in the job's namespace */
	const char *gpu_dev_dir; /* hidden too when it is not /dev */
	int nnodes;
	struct jail_node nodes[JAIL_MAX_NODES];
	const struct job_ident *who;
	char *const *argv;
	char *const *envp;
	int cgroup_procs_fd; /* the job's cgroup.procs, or -1 */
	int out_fd;          /* the job's stdout and stderr */
	int status_fd;       /* init writes the command's wait status here; -1 */
	pid_t daemon_pid;
};

/* Fills spec->nodes: the GPUs' nodes (nvidiaN from gpu_dev_dir, N their
 * minor numbers),
 * the NVIDIA control nodes there, and null, zero, full, random, urandom,
 * tty. 0, or -1 with err (a GPU's node is missing or not a device). */
int jail_prepare_nodes(struct jail_spec *spec, const struct config *cfg, const int *gpu_index, int ngpus,
	char *err, size_t errlen);
/* In the forked child: sets up and runs the job; never returns. Failures
 * are written to out_fd ("gpuaas: ...") and end the child with 126. */
void jail_run(const struct jail_spec *spec) __attribute__((noreturn));
/* Checks at start, in a throwaway child, that this kernel lets us build a
 * jail (namespaces, tmpfs, mknod, /proc). 0, or -1 with what is missing. */
int jail_probe(const struct config *cfg, char *why, size_t whylen);

#endif
