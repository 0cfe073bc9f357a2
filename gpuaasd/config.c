#include "gpuaasd/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/optable.h"
#include "common/paths.h"
#include "gpuaasd/exec.h"
#include "gpuaasd/inventory.h"

/* gpuaasd's own value types, besides optable's. */
enum { OPT_DOUBLE = OPT_OWN, OPT_EXECUTOR, OPT_GPUS };

#define OFF(f) offsetof(struct config, f)
static const struct opt opts[] = {
	{"config", OPT_STRING, OFF(config_path), 0, 0, false, "FILE  config file (key = value lines)"},
	{"socket", OPT_STRING, OFF(socket_path), 0, 0, false, "PATH  Unix socket to listen on"},
	{"state-dir", OPT_STRING, OFF(state_dir), 0, 0, false, "DIR  database, JWT key, job logs"},
	{"gpus", OPT_GPUS, OFF(gpus), 0, 0, false, "SPEC  inventory, e.g. A100:2,V100:2,T4:4"},
	{"executor", OPT_EXECUTOR, OFF(executor), 0, 0, false, "NAME  how jobs run (sim); the executors are listed below"},
	{"sim-time-scale", OPT_DOUBLE, OFF(sim_time_scale), 0, 0, false, "F  sim job of T s runs T*F wall seconds"},
	{"default-time", OPT_DURATION, OFF(default_time), 1, DURATION_MAX, true, "DURATION  time limit when submit gives none (1h)"},
	{"max-time", OPT_DURATION, OFF(max_time), 1, DURATION_MAX, true, "DURATION  largest time limit (24h)"},
	{"token-ttl", OPT_DURATION, OFF(token_ttl), 60, 366 * 86400, true, "DURATION  token lifetime (12h)"},
	{"log-level", OPT_LOGLEVEL, OFF(log_level), 0, 0, true, "LEVEL  error, warn, info or debug (info)"},
	{"job-user", OPT_STRING, OFF(job_user), 0, 0, false, "dynamic|owner|ACCOUNT  who local jobs run as (root daemon): "
		"dynamic (default): each gpuaas user its own uid from --job-uid-base; owner: the Unix account of "
		"the same name; ACCOUNT: every job shares that one account and jobs are NOT isolated from each other; "
		"with --executor slurm: owner (default) or ACCOUNT"},
	{"kill-grace", OPT_DURATION, OFF(kill_grace), 0, 3600, true, "DURATION  SIGTERM to SIGKILL delay (10s)"},
	{"max-log-bytes", OPT_INT, OFF(max_log_bytes), 1024, INT64_C(1) << 40, true, "N  cap of one job's log (64 MiB)"},
	{"bcrypt-cost", OPT_INT, OFF(bcrypt_cost), 4, 31, true, "N  bcrypt cost of new hashes (12)"},
	{"max-connections", OPT_INT, OFF(max_connections), 1, 100000, true, "N  open connections at once (512)"},
	{"idle-timeout", OPT_DURATION, OFF(idle_timeout), 1, DURATION_MAX, true, "DURATION  idle connections closed after (10m)"},
	{"frame-timeout", OPT_DURATION, OFF(frame_timeout), 1, 3600, true, "DURATION  half-sent frame limit (10s)"},
	{"login-max-failures", OPT_INT, OFF(login_max_failures), 1, 1000000, true, "N  failed logins per user per minute (5)"},
	{"login-lockout", OPT_DURATION, OFF(login_lockout), 1, 86400, true, "DURATION  cool-down after them (60s)"},
	{"max-parked-per-user", OPT_INT, OFF(max_parked_per_user), 1, 1000000, true, "N  waiting requests (wait, logs -f, events) one user may hold (1024)"},
	{"pending-ttl", OPT_DURATION, OFF(pending_ttl), 0, DURATION_MAX, true, "DURATION  unapproved jobs expire after it; 0: never (7d)"},
	{"gpu-weights", OPT_STRING, OFF(gpu_weights), 0, 0, true, "SPEC  charge weight per GPU type, e.g. A100=4,V100=2 (1 each)"},
	{"event-retention", OPT_DURATION, OFF(event_retention), 0, DURATION_MAX, true, "DURATION  events older than this are pruned; 0: keep all (0)"},
	{"default-quota", OPT_DURATION, OFF(default_quota), 0, DURATION_MAX, true, "DURATION  GPU-time a new user gets when none is given (0)"},
	{"default-gpu", OPT_STRING, OFF(default_gpu), 0, 0, true, "TYPE  GPU type of a submit that names none (the first type)"},
	{"queue-visibility", OPT_STRING, OFF(queue_visibility), 0, 0, true, "full|anonymous  other users' jobs in gpuctl queue (anonymous)"},
	{"isolation", OPT_STRING, OFF(isolation), 0, 0, false, "full|none  local jobs: full (default): own mount, PID "
		"and IPC namespaces, a /dev with only their GPUs, a cgroup; the daemon refuses to start when the "
		"system cannot provide them. none: only the identity and a process group"},
	{"job-uid-base", OPT_INT, OFF(job_uid_base), 1000, 2147418112, false, "UID  --job-user dynamic: gpuaas user N "
		"runs as uid and gid UID+N, N < 4336 (61184); uids of existing accounts are refused"},
	{"job-min-uid", OPT_INT, OFF(job_min_uid), 1, 2147483647, false, "UID  --job-user owner: lowest uid accepted (1000)"},
	{"gpu-dev-dir", OPT_STRING, OFF(gpu_dev_dir), 0, 0, false, "DIR  where the GPU device nodes (nvidiaN, nvidiactl, "
		"...) are found (/dev)"},
	{"slurm-gres", OPT_STRING, OFF(slurm_gres), 0, 0, true, "MAP  GPU type to gres, e.g. A100=gpu:a100 (lower-case type)"},
	{"slurm-partition", OPT_STRING, OFF(slurm_partition), 0, 0, true, "NAME  Slurm partition for jobs (the cluster's default)"},
	{"slurm-account", OPT_STRING, OFF(slurm_account), 0, 0, true, "NAME  Slurm account for jobs (the user's default)"},
	{"slurm-log-dir", OPT_STRING, OFF(slurm_log_dir), 0, 0, false, "DIR  where Slurm writes job output; shared by "
		"the nodes (root: /var/spool/gpuaas-slurm/<hash>, else <state>/slurm-logs)"},
	{"slurm-poll", OPT_DURATION, OFF(slurm_poll), 1, 3600, true, "DURATION  how often Slurm is asked about running jobs (5s)"},
	{"backfill", OPT_BOOL, OFF(backfill), 0, 0, true, "on|off  start later jobs early when that delays nobody (on)"},
	{"check-config", OPT_FLAG, OFF(check_config), 0, 0, false, "validate the configuration and exit"},
};
#define NOPTS (sizeof opts / sizeof opts[0])
_Static_assert(NOPTS <= sizeof ((struct config *)0)->set_on_cmdline, "set_on_cmdline too small");

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	char buf[4096];
	if (paths_daemon_socket(buf, sizeof buf) == 0)
		cfg->socket_path = strdup(buf);
	if (paths_state_dir(buf, sizeof buf) == 0)
		cfg->state_dir = strdup(buf);
	cfg->gpus = strdup("A100:2,V100:2,T4:4");
	cfg->executor = strdup("sim");
	cfg->sim_time_scale = 1.0;
	cfg->default_time = 3600;
	cfg->max_time = 86400;
	cfg->token_ttl = 12 * 3600;
	cfg->log_level = LOG_INFO;
	cfg->job_user = strdup("dynamic");
	cfg->kill_grace = 10;
	cfg->max_log_bytes = INT64_C(64) << 20;
	cfg->bcrypt_cost = 12;
	cfg->max_connections = 512;
	cfg->idle_timeout = 600;
	cfg->frame_timeout = 10;
	cfg->login_max_failures = 5;
	cfg->login_lockout = 60;
	cfg->max_parked_per_user = 1024;
	cfg->pending_ttl = 7 * 86400;
	cfg->queue_visibility = strdup("anonymous");
	cfg->isolation = strdup("full");
	cfg->job_uid_base = 61184;
	cfg->job_min_uid = 1000;
	cfg->gpu_dev_dir = strdup("/dev");
	cfg->slurm_poll = 5;
	cfg->backfill = true;
}

void config_finish(struct config *cfg)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].type == OPT_STRING || opts[i].type == OPT_EXECUTOR || opts[i].type == OPT_GPUS) {
			char **p = (char **)((char *)cfg + opts[i].offset);
			free(*p);
			*p = NULL;
		}
	}
}

/* Executor names and GPU lists: checked, then stored as strings. */
static int set_checked_string(struct config *cfg, const struct opt *o, const char *value, char *why, size_t whylen)
{
	if (o->type == OPT_EXECUTOR && *value && !exec_find(value)) {
		snprintf(why, whylen, "'%s': valid executors are %s", value, exec_names());
		return -1;
	}
	if (o->type == OPT_GPUS && *value) {
		struct inventory inv;
		if (inventory_parse(value, &inv, why, whylen) < 0)
			return -1;
		cfg->gpus_explicit = true;
	}
	struct opt as_string = *o;
	as_string.type = OPT_STRING;
	return optable_set_common(cfg, &as_string, value, why, whylen);
}

static int set_double(double *field, const char *value, char *why, size_t whylen)
{
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	if (errno || end == value || *end || !isfinite(v) || v <= 0 || v > 1e6) {
		snprintf(why, whylen, "'%s' is not a number > 0 and <= 1e6", value);
		return -1;
	}
	*field = v;
	return 0;
}

/* Stores value into the option (optable's set): 0, or -1 with why. */
static int opt_set(void *base, const struct opt *o, const char *value, char *why, size_t whylen)
{
	struct config *cfg = base;
	if (o->offset == OFF(job_user))
		cfg->job_user_given = true;
	switch (o->type) {
	case OPT_EXECUTOR:
	case OPT_GPUS:
		return set_checked_string(cfg, o, value, why, whylen);
	case OPT_DOUBLE:
		return set_double((double *)((char *)cfg + o->offset), value, why, whylen);
	default:
		return optable_set_common(cfg, o, value, why, whylen);
	}
}

static const struct optable table = {opts, NOPTS, opt_set};

static void print_help(void)
{
	printf("Usage: gpuaasd [OPTION]...\n"
	       "GPU-as-a-Service daemon: accounts, approval, scheduling and GPU-seconds accounting.\n\n");
	optable_print_help(&table);
	printf("Executors: %s.\n", exec_names());
	printf("Every long option can be set in the config file as key = value, with '-' written '_'.\n"
	       "See gpuaasd(8) and gpuaasd.conf(5).\n");
}

enum config_result config_parse_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help();
			return CONFIG_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("gpuaasd %s\n", GPUAAS_VERSION);
			return CONFIG_EXIT_OK;
		}
		if (optable_parse_arg(&table, cfg, cfg->set_on_cmdline, argc, argv, &i, err, errlen) < 0)
			return CONFIG_ERROR;
	}
	return CONFIG_OK;
}

/* A key that needs a restart, met during a reload: validated anyway so a
 * broken file is reported; a changed value is logged. 0 or -1 with why. */
static int check_unreloadable(const struct config *cfg, const struct opt *o, const char *value, bool *changed,
	char *why, size_t whylen)
{
	struct config scratch;
	config_init(&scratch);
	int rc = opt_set(&scratch, o, value, why, whylen);
	*changed = false;
	if (rc == 0) {
		const char *fa = (const char *)cfg + o->offset, *fb = (const char *)&scratch + o->offset;
		if (o->type == OPT_STRING || o->type == OPT_EXECUTOR || o->type == OPT_GPUS) {
			const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
			*changed = !sa || !sb || strcmp(sa, sb) != 0;
		} else {
			size_t sz = o->type == OPT_DOUBLE ? sizeof(double) : o->type == OPT_LOGLEVEL ?
				sizeof(enum log_level) : o->type == OPT_BOOL ? sizeof(bool) : sizeof(int64_t);
			*changed = memcmp(fa, fb, sz) != 0;
		}
	}
	config_finish(&scratch);
	return rc;
}

struct file_pass {
	struct config *cfg;
	bool only_reloadable; /* a reload: other keys are checked, not applied */
};

/* One "key = value" line of the config file (optable_read_file). */
static int parse_line(void *arg, const char *key, const char *value, const char *path, int lineno, char *err,
	size_t errlen)
{
	struct file_pass *f = arg;
	size_t idx = 0;
	const struct opt *o = optable_file_key(&table, key, path, lineno, &idx, err, errlen);
	if (!o)
		return -1;
	if (!f->only_reloadable || o->reloadable)
		return optable_apply_line(&table, f->cfg, f->cfg->set_on_cmdline, key, value, path, lineno, err, errlen);
	if (f->cfg->set_on_cmdline[idx])
		return 0;
	char why[512];
	bool changed = false;
	if (check_unreloadable(f->cfg, o, value, &changed, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s:%d: bad value for %s: %s", path, lineno, key, why);
		return -1;
	}
	if (changed)
		log_event(LOG_WARN, "config.reload.needs_restart", "file=%s line=%d key=%s", path, lineno, key);
	return 0;
}

static enum config_result parse_file(struct config *cfg, const char *path, bool only_reloadable,
	char *err, size_t errlen)
{
	struct file_pass f = {cfg, only_reloadable};
	return optable_read_file(path, parse_line, &f, err, errlen) < 0 ? CONFIG_ERROR : CONFIG_OK;
}

enum config_result config_load_file(struct config *cfg, bool explicit_path, char *err, size_t errlen)
{
	if (!cfg->config_path) {
		if (explicit_path || getuid() != 0 || access(PATHS_ROOT_CONFIG, F_OK) != 0)
			return CONFIG_OK;
		cfg->config_path = strdup(PATHS_ROOT_CONFIG);
		if (!cfg->config_path)
			return CONFIG_ERROR;
	}
	return parse_file(cfg, cfg->config_path, false, err, errlen);
}

/* An account name as useradd accepts it. */
static bool account_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
			    (c == '$' && i == n - 1)))
			return false;
	}
	return true;
}

/* The local executor's identity and device options. */
static enum config_result validate_jobs(const struct config *cfg, char *err, size_t errlen)
{
	if (strcmp(cfg->job_user, "dynamic") != 0 && strcmp(cfg->job_user, "owner") != 0 &&
	    !account_name_ok(cfg->job_user)) {
		snprintf(err, errlen, "job-user must be dynamic, owner or an account name, not '%.*s'",
			(int)utf8_prefix(cfg->job_user, 40), cfg->job_user);
		return CONFIG_ERROR;
	}
	if (strcmp(cfg->job_user, "root") == 0) {
		snprintf(err, errlen, "job-user root: jobs never run as root");
		return CONFIG_ERROR;
	}
	if (cfg->job_uid_base + 4336 > INT64_C(2147483647)) {
		snprintf(err, errlen, "job-uid-base %lld leaves no room for 4336 uids", (long long)cfg->job_uid_base);
		return CONFIG_ERROR;
	}
	if (!cfg->gpu_dev_dir || cfg->gpu_dev_dir[0] != '/') {
		snprintf(err, errlen, "gpu-dev-dir must be an absolute path");
		return CONFIG_ERROR;
	}
	return CONFIG_OK;
}

enum config_result config_validate(const struct config *cfg, char *err, size_t errlen)
{
	if (!cfg->socket_path || !cfg->state_dir || !cfg->gpus || !cfg->executor || !cfg->job_user) {
		snprintf(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	if (cfg->default_time > cfg->max_time) {
		char a[32], b[32];
		snprintf(err, errlen, "default-time %s is over max-time %s",
			duration_format(cfg->default_time, a, sizeof a), duration_format(cfg->max_time, b, sizeof b));
		return CONFIG_ERROR;
	}
	if (cfg->state_dir[0] != '/') {
		snprintf(err, errlen, "state-dir must be an absolute path: %s", cfg->state_dir);
		return CONFIG_ERROR;
	}
	if (!cfg->queue_visibility || (strcmp(cfg->queue_visibility, "full") != 0 &&
					      strcmp(cfg->queue_visibility, "anonymous") != 0)) {
		snprintf(err, errlen, "queue-visibility must be full or anonymous");
		return CONFIG_ERROR;
	}
	if (!cfg->isolation || (strcmp(cfg->isolation, "full") != 0 && strcmp(cfg->isolation, "none") != 0)) {
		snprintf(err, errlen, "isolation must be full or none");
		return CONFIG_ERROR;
	}
	return validate_jobs(cfg, err, errlen);
}

/* A deep copy of cfg's strings into next (a bitwise copy of cfg). 0 or -1
 * (then next's strings are freed). */
static int copy_strings(struct config *next)
{
	int rc = 0;
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].type != OPT_STRING && opts[i].type != OPT_EXECUTOR && opts[i].type != OPT_GPUS)
			continue;
		char **p = (char **)((char *)next + opts[i].offset);
		if (*p && !(*p = strdup(*p)))
			rc = -1;
	}
	if (rc < 0)
		config_finish(next);
	return rc;
}

enum config_result config_reload(struct config *cfg, char *err, size_t errlen)
{
	if (!cfg->config_path)
		return CONFIG_OK;
	/* Parsed into a copy: a bad file leaves the running configuration as
	 * it was. */
	struct config next = *cfg;
	if (copy_strings(&next) < 0) {
		snprintf(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	enum config_result r = parse_file(&next, cfg->config_path, true, err, errlen);
	if (r == CONFIG_OK)
		r = config_validate(&next, err, errlen);
	if (r != CONFIG_OK) {
		config_finish(&next);
		return r;
	}
	config_finish(cfg);
	*cfg = next;
	return CONFIG_OK;
}
