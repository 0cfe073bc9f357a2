/* What a local job needs before it is forked: its argv, the identity it
 * runs as, its directory, its environment and the device nodes of its /dev.
 * The forked child then only makes system calls (jail.c). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpuaasd/exec-local.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/inventory.h"
#include "gpuaasd/state.h"

/* The command, an array of strings, as argv (pointing into l->cmd). */
static int command_argv(struct launch *l, const struct exec_spec *spec, char *err, size_t errlen)
{
	l->cmd = spec->command_json ? cJSON_Parse(spec->command_json) : NULL;
	int argc = cJSON_GetArraySize(l->cmd);
	if (!cJSON_IsArray(l->cmd) || argc < 1) {
		snprintf(err, errlen, "no command to run");
		return -1;
	}
	l->argv = calloc((size_t)argc + 1, sizeof *l->argv);
	if (!l->argv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, l->cmd) {
		if (!cJSON_IsString(it)) {
			snprintf(err, errlen, "the command is not a list of strings");
			return -1;
		}
		l->argv[k++] = it->valuestring;
	}
	return 0;
}

/* The minor number of the GPU with this UUID (its /dev/nvidiaN), from the
 * driver's /proc/driver/nvidia/gpus/<bus>/information; -1 when unknown. The
 * nvidia-smi index is not always the minor number. */
static int gpu_minor(const char *uuid)
{
	DIR *dir = opendir("/proc/driver/nvidia/gpus");
	int minor = -1;
	struct dirent *e;
	while (dir && minor < 0 && (e = readdir(dir))) {
		char path[512], line[256];
		snprintf(path, sizeof path, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
		FILE *f = e->d_name[0] == '.' ? NULL : fopen(path, "re");
		bool match = false;
		int m = -1;
		while (f && fgets(line, sizeof line, f)) {
			char val[128];
			if (sscanf(line, "GPU UUID: %127s", val) == 1)
				match = strcmp(val, uuid) == 0;
			else
				sscanf(line, "Device Minor: %d", &m);
		}
		if (f)
			fclose(f);
		if (match)
			minor = m;
	}
	if (dir)
		closedir(dir);
	return minor;
}

/* Exactly its devices, by UUID when nvidia-smi told us, else by index;
 * their device node numbers go to gpu_index. */
static void job_devices(struct launch *l, const struct daemon *d, const struct exec_spec *spec, int *gpu_index)
{
	int type_idx = inventory_find(&d->inv, spec->gpu_type);
	size_t off = 0, size = sizeof l->devs;
	l->devs[0] = '\0';
	for (int i = 0; i < spec->gpu_count; i++) {
		const struct gpu_device *dev = inventory_device(&d->inv, type_idx, spec->devices[i]);
		int index = inventory_device_index(&d->inv, type_idx, spec->devices[i]);
		int minor = dev && dev->uuid[0] ? gpu_minor(dev->uuid) : -1;
		gpu_index[i] = minor >= 0 ? minor : index;
		int w = off >= size ? 0 : dev && dev->uuid[0]
			? snprintf(l->devs + off, size - off, "%s%s", i ? "," : "", dev->uuid)
			: snprintf(l->devs + off, size - off, "%s%d", i ? "," : "", index);
		off += (size_t)(w > 0 ? w : 0);
	}
}

/* The job's whole environment. */
static void job_env(struct launch *l, const struct exec_spec *spec)
{
	const char *lang = getenv("LANG");
	const char *home = l->who.home[0] ? l->who.home : l->workdir;
	int e = 0;
	snprintf(l->env_buf[e++], 1024, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	snprintf(l->env_buf[e++], 1024, "HOME=%s", home);
	snprintf(l->env_buf[e++], 1024, "USER=%s", l->who.user);
	snprintf(l->env_buf[e++], 1024, "LOGNAME=%s", l->who.user);
	snprintf(l->env_buf[e++], 1024, "LANG=%s", lang && *lang ? lang : "C.UTF-8");
	snprintf(l->env_buf[e++], 1024, "CUDA_VISIBLE_DEVICES=%s", l->devs);
	snprintf(l->env_buf[e++], 1024, "NVIDIA_VISIBLE_DEVICES=%s", l->devs);
	snprintf(l->env_buf[e++], 1024, "GPUAAS_JOB_ID=%lld", (long long)spec->job_id);
	snprintf(l->env_buf[e++], 1024, "GPUAAS_GPU_TYPE=%s", spec->gpu_type);
	snprintf(l->env_buf[e++], 1024, "GPUAAS_GPU_COUNT=%d", spec->gpu_count);
	for (int i = 0; i < e; i++)
		l->envp[i] = l->env_buf[i];
	for (int i = 0; i < l->nextra; i++)
		l->envp[e++] = l->env_extra[i];
	l->envp[e] = NULL;
}

/* The submit's --env / --export variables (checked by the daemon at
 * submit: names, no variable the daemon sets) as "KEY=VALUE" strings. */
static int extra_env(struct launch *l, const struct exec_spec *spec, char *err, size_t errlen)
{
	cJSON *env = spec->env_json ? cJSON_Parse(spec->env_json) : NULL;
	const cJSON *it;
	int rc = 0;
	cJSON_ArrayForEach(it, env)
	{
		size_t n = strlen(it->string) + (cJSON_IsString(it) ? strlen(it->valuestring) : 0) + 2;
		char *kv = l->nextra < 128 && cJSON_IsString(it) ? malloc(n) : NULL;
		if (!kv) {
			snprintf(err, errlen, "cannot pass the job's environment");
			rc = -1;
			break;
		}
		snprintf(kv, n, "%s=%s", it->string, it->valuestring);
		l->env_extra[l->nextra++] = kv;
	}
	cJSON_Delete(env);
	return rc;
}

/* <state>/jobs/ID, 0700, owned by the job's identity. */
static int make_workdir(struct launch *l, const struct config *cfg, int64_t job_id, char *err, size_t errlen)
{
	int n = snprintf(l->workdir, sizeof l->workdir, "%s/jobs/%lld", cfg->state_dir, (long long)job_id);
	if (n < 0 || (size_t)n >= sizeof l->workdir) {
		snprintf(err, errlen, "job directory path too long");
		return -1;
	}
	if ((mkdir(l->workdir, 0700) < 0 && errno != EEXIST) ||
	    (l->who.drop && chown(l->workdir, l->who.uid, l->who.gid) < 0)) {
		snprintf(err, errlen, "%s: %s", l->workdir, strerror(errno));
		return -1;
	}
	return 0;
}

int launch_prepare(struct launch *l, struct daemon *d, const struct ident_policy *ip, bool isolate,
	const struct exec_spec *spec, char *err, size_t errlen)
{
	int gpu_index[INVENTORY_MAX_PER_TYPE];
	memset(l, 0, sizeof *l);
	if (command_argv(l, spec, err, errlen) < 0 || extra_env(l, spec, err, errlen) < 0)
		return -1;
	if (ident_of_job(ip, spec->owner_id, spec->owner_name ? spec->owner_name : "", &l->who, err, errlen) < 0 ||
	    make_workdir(l, &d->cfg, spec->job_id, err, errlen) < 0)
		return -1;
	if (spec->gpu_count < 0 || spec->gpu_count > INVENTORY_MAX_PER_TYPE) {
		snprintf(err, errlen, "bad GPU count %d", spec->gpu_count);
		return -1;
	}
	job_devices(l, d, spec, gpu_index);
	job_env(l, spec);
	struct jail_spec *j = &l->jail;
	j->isolate = isolate;
	j->workdir = l->workdir;
	/* Only a job that runs as its owner's own account starts where the
	 * submit asked (as sbatch does); other identities start in their own
	 * job directory. */
	j->start_dir = ip->mode == IDENT_OWNER ? spec->workdir : NULL;
	j->state_dir = d->cfg.state_dir;
	j->gpu_dev_dir = d->cfg.gpu_dev_dir;
	j->who = &l->who;
	j->argv = l->argv;
	j->envp = l->envp;
	j->cgroup_procs_fd = j->out_fd = j->status_fd = -1;
	j->daemon_pid = getpid();
	return isolate ? jail_prepare_nodes(j, &d->cfg, gpu_index, spec->gpu_count, err, errlen) : 0;
}

void launch_finish(struct launch *l)
{
	for (int i = 0; i < l->nextra; i++)
		free(l->env_extra[i]);
	l->nextra = 0;
	free(l->argv);
	l->argv = NULL;
	cJSON_Delete(l->cmd);
	l->cmd = NULL;
}
