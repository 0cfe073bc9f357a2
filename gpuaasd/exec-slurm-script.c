/* What one Slurm submission is made of: the batch script (the stored argv,
 * every argument single-quoted, so that it reaches the job byte for byte),
 * sbatch's arguments, the GPU type to gres map (--slurm-gres) and the log
 * file Slurm writes the job's output to.
 *
 * Logs: Slurm opens the --output file on the node as the job's user, so it
 * must lie where that user can reach it. A daemon that is not root submits
 * as itself: <state>/slurm-logs (0700). A root daemon submits as other
 * accounts, which must not see into the 0700 state dir: the logs are in
 * /var/spool/gpuaas-slurm/<hash of the state dir>/ (0711, root's: a job
 * cannot list, create, rename or replace anything there), each file made by
 * gpuaasd before sbatch, owned by the job's account, 0600. On a cluster of
 * several nodes that directory must be on a filesystem the nodes share. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/strbuf.h"
#include "gpuaasd/config.h"
#include "gpuaasd/exec-slurm.h"

#define SPOOL_ROOT "/var/spool/gpuaas-slurm"

/* ---- gres ---------------------------------------------------------------- */

static bool gres_ok(const char *s, size_t n)
{
	if (n == 0 || n >= SLURM_GRES_MAX || s[n - 1] == ':')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
			    s[i] == '_' || s[i] == ':' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* One "TYPE=gres" entry of --slurm-gres. */
static int gres_entry(struct slurm_gres_map *map, const char *entry, size_t n, const struct inventory *inv,
	char *err, size_t errlen)
{
	const char *eq = memchr(entry, '=', n);
	char type[GPU_TYPE_MAX + 1];
	size_t tlen = eq ? (size_t)(eq - entry) : 0;
	if (!eq || tlen == 0 || tlen > GPU_TYPE_MAX || !gres_ok(eq + 1, n - tlen - 1)) {
		snprintf(err, errlen, "--slurm-gres: '%.*s' is not TYPE=GRES (e.g. A100=gpu:a100)", (int)n, entry);
		return -1;
	}
	memcpy(type, entry, tlen);
	type[tlen] = '\0';
	int idx = inventory_find(inv, type);
	if (idx < 0) {
		snprintf(err, errlen, "--slurm-gres: GPU type %s is not in the inventory (--gpus)", type);
		return -1;
	}
	snprintf(map->gres[idx], sizeof map->gres[idx], "%.*s", (int)(n - tlen - 1), eq + 1);
	return 0;
}

int slurm_gres_parse(struct slurm_gres_map *map, const char *spec, const struct inventory *inv, char *err,
	size_t errlen)
{
	memset(map, 0, sizeof *map);
	for (int i = 0; i < inv->ntypes; i++) {
		char *g = map->gres[i];
		int n = snprintf(g, SLURM_GRES_MAX, "gpu:%s", inv->types[i].name);
		for (int k = 4; k < n && g[k]; k++)
			if (g[k] >= 'A' && g[k] <= 'Z')
				g[k] = (char)(g[k] - 'A' + 'a');
	}
	for (const char *p = spec; p && *p;) {
		size_t n = strcspn(p, ",");
		if (gres_entry(map, p, n, inv, err, errlen) < 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int64_t slurm_time_minutes(int64_t seconds)
{
	int64_t m = (seconds + 59) / 60;
	return m < 1 ? 1 : m;
}

/* ---- the batch script -------------------------------------------------- */

/* Appends s single-quoted for sh: every byte stands for itself inside
 * single quotes, and a quote is written '\''. */
static void shell_quote(struct strbuf *b, const char *s)
{
	strbuf_addc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			strbuf_adds(b, "'\\''");
		else
			strbuf_addc(b, *p);
	}
	strbuf_addc(b, '\'');
}

char *slurm_batch_script(int64_t job_id, const char *command_json, size_t *len, char *err, size_t errlen)
{
	cJSON *cmd = command_json ? cJSON_Parse(command_json) : NULL;
	struct strbuf b;
	strbuf_init(&b, 0);
	char *text = NULL;
	if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) < 1) {
		snprintf(err, errlen, "no command to run");
		goto out;
	}
	/* sbatch reads #SBATCH lines only up to the first command: the
	 * arguments come after it, so none can pass as an option. */
	strbuf_adds(&b, "#!/bin/sh\n# gpuaas job ");
	strbuf_add_int(&b, job_id);
	strbuf_adds(&b, ", written by gpuaasd: the command, each argument single-quoted\n"
			": \"${PATH:=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}\"\n"
			"export PATH\nexec");
	const cJSON *it;
	cJSON_ArrayForEach(it, cmd) {
		if (!cJSON_IsString(it)) {
			snprintf(err, errlen, "the command is not a list of strings");
			goto out;
		}
		strbuf_addc(&b, ' ');
		shell_quote(&b, it->valuestring);
	}
	strbuf_addc(&b, '\n');
	if (b.failed) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*len = b.len;
	text = b.data;
	b.data = NULL;
out:
	strbuf_finish(&b);
	cJSON_Delete(cmd);
	return text;
}

/* ---- sbatch's arguments ------------------------------------------------- */

/* Adds one argument; false when it does not fit. */
static bool arg(struct sbatch_argv *a, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool arg(struct sbatch_argv *a, int *n, const char *fmt, ...)
{
	if (*n >= SBATCH_MAX_ARGS - 1)
		return false;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(a->buf[*n], sizeof a->buf[*n], fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof a->buf[*n])
		return false;
	a->argv[*n] = a->buf[*n];
	(*n)++;
	return true;
}

int slurm_sbatch_argv(struct sbatch_argv *a, const char *sbatch, const struct slurm_submit *s)
{
	int n = 0;
	bool ok = arg(a, &n, "%s", sbatch) && arg(a, &n, "--parsable") &&
		arg(a, &n, "--job-name=gpuaas-%lld", (long long)s->job_id) &&
		arg(a, &n, "--comment=%s", s->instance) &&
		arg(a, &n, "--gres=%s:%d", s->gres, s->gpu_count) &&
		arg(a, &n, "--time=%lld", (long long)slurm_time_minutes(s->time_limit)) &&
		arg(a, &n, "--output=%s", s->log_path) && arg(a, &n, "--open-mode=append") &&
		arg(a, &n, "--export=NONE,GPUAAS_JOB_ID=%lld,GPUAAS_GPU_TYPE=%s,GPUAAS_GPU_COUNT=%d",
			(long long)s->job_id, s->gpu_type, s->gpu_count) &&
		arg(a, &n, "--chdir=%s", s->workdir) && arg(a, &n, "--nodes=1") && arg(a, &n, "--ntasks=1");
	if (ok && s->partition && *s->partition)
		ok = arg(a, &n, "--partition=%s", s->partition);
	if (ok && s->account && *s->account)
		ok = arg(a, &n, "--account=%s", s->account);
	a->argv[n] = NULL;
	return ok ? 0 : -1;
}

/* ---- logs ---------------------------------------------------------------- */

int slurm_log_dir(const struct config *cfg, char *buf, size_t len)
{
	int n;
	if (cfg->slurm_log_dir) {
		n = snprintf(buf, len, "%s", cfg->slurm_log_dir);
	} else if (geteuid() != 0) {
		n = snprintf(buf, len, "%s/slurm-logs", cfg->state_dir);
	} else {
		uint32_t h = 2166136261u;
		for (const char *p = cfg->state_dir; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		n = snprintf(buf, len, SPOOL_ROOT "/%08x", (unsigned)h);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int slurm_log_path(const struct config *cfg, int64_t job_id, char *buf, size_t len)
{
	char dir[4200];
	if (slurm_log_dir(cfg, dir, sizeof dir) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/%lld.log", dir, (long long)job_id);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A real directory of this daemon's with exactly mode: made when absent. */
static int own_dir(const char *dir, mode_t mode, char *err, size_t errlen)
{
	struct stat st;
	if (mkdir(dir, mode) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is not a directory of this daemon's", dir);
		return -1;
	}
	if ((st.st_mode & 07777) != mode && chmod(dir, mode) < 0) {
		snprintf(err, errlen, "cannot chmod %o %s: %s", (unsigned)mode, dir, strerror(errno));
		return -1;
	}
	return 0;
}

int slurm_log_dir_open(const struct config *cfg, char *err, size_t errlen)
{
	char dir[4200];
	bool root = geteuid() == 0;
	if (slurm_log_dir(cfg, dir, sizeof dir) < 0) {
		snprintf(err, errlen, "the log directory's path is too long");
		return -1;
	}
	/* sbatch would expand %j and friends in --output. */
	if (strpbrk(dir, "%\\")) {
		snprintf(err, errlen, "the log directory %s holds '%%' or '\\', which Slurm would expand", dir);
		return -1;
	}
	if ((root && own_dir(SPOOL_ROOT, 0711, err, errlen) < 0) || own_dir(dir, root ? 0711 : 0700, err, errlen) < 0)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	return fd;
}

int slurm_log_prepare(int dir_fd, int64_t job_id, const struct slurm_ident *who, bool truncate, char *err,
	size_t errlen)
{
	char name[32];
	struct stat st;
	snprintf(name, sizeof name, "%lld.log", (long long)job_id);
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (truncate ? O_TRUNC : 0),
		0600);
	int rc = -1;
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the job's log %s: %s", name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the job's log %s is not a regular file", name);
		goto out;
	}
	if ((who && who->drop && fchown(fd, who->uid, who->gid) < 0) || fchmod(fd, 0600) < 0) {
		snprintf(err, errlen, "cannot give the job's log %s to %s: %s", name, who ? who->user : "?",
			strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}
