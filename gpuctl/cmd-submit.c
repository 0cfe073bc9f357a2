/* submit: asks for GPU time; --like ID starts from another job's request;
 * --chdir, --env and --export say where and with what the job runs;
 * --dry-run asks what would happen and stores nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"

/* --like ID: the job.submit arguments of job ID (type, count, time, name,
 * command) into args. 0, or the exit code after the error. */
static int like_job(struct ctl *c, const char *text, cJSON *args)
{
	int64_t id;
	if (parse_job_id(c, text, &id) < 0)
		return EXIT_USAGE;
	cJSON *get = cJSON_CreateObject(), *job = NULL;
	json_add_int(get, "id", id);
	enum status st = ctl_call(c, "job.get", get, true, &job);
	if (st != ST_OK)
		return ctl_report(c, st);
	static const char *const keys[] = {"gpu_type", "gpu_count", "time_limit", "name", "command"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(job, keys[i]);
		if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !*v->valuestring))
			cJSON_AddItemToObject(args, keys[i], v);
		else
			cJSON_Delete(v);
	}
	cJSON_Delete(job);
	return 0;
}

/* Replaces (or adds) member key of o. */
static void set_member(cJSON *o, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
}

/* The options and "-- CMD" into args, over what --like put there. */
static int submit_args(struct ctl *c, const struct ctl_args *a, cJSON *args)
{
	const char *gpu = args_get(a, "gpu"), *count = args_get(a, "count");
	const char *tm = args_get(a, "time"), *name = args_get(a, "name");
	if (gpu)
		set_member(args, "gpu_type", cJSON_CreateString(gpu));
	if (count) {
		int64_t n;
		/* The range is the daemon's to say (it knows the inventory). */
		if (parse_count_opt(c, "--count", count, -JSON_INT_MAX, JSON_INT_MAX, &n) < 0)
			return EXIT_USAGE;
		set_member(args, "gpu_count", cJSON_CreateNumber((double)n));
	}
	if (tm) {
		int64_t secs;
		if (parse_duration_opt(c, "--time", tm, &secs) < 0)
			return EXIT_USAGE;
		set_member(args, "time_limit", cJSON_CreateNumber((double)secs));
	}
	if (name)
		set_member(args, "name", cJSON_CreateString(name));
	if (a->has_rest) {
		cJSON *cmd = cJSON_CreateArray();
		for (int i = 0; i < a->nrest; i++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(a->rest[i]));
		if (a->nrest > 0)
			set_member(args, "command", cmd);
		else {
			cJSON_Delete(cmd);
			cJSON_DeleteItemFromObjectCaseSensitive(args, "command");
		}
	}
	return 0;
}

/* --chdir DIR (relative to here), else the current directory: where a
 * job run as its owner's account starts (the daemon ignores it otherwise).
 * A current directory that cannot be named is left out. */
static int add_chdir(struct ctl *c, const char *dir, cJSON *args)
{
	char cwd[4096], path[8192];
	if (dir && dir[0] == '/') {
		set_member(args, "chdir", cJSON_CreateString(dir));
		return 0;
	}
	if (!getcwd(cwd, sizeof cwd)) {
		if (!dir)
			return 0;
		return ctl_fail(c, ST_USAGE, "submit: --chdir %s: cannot name the current directory (%s); give an "
			"absolute path", dir, strerror(errno));
	}
	if (dir)
		snprintf(path, sizeof path, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", dir);
	set_member(args, "chdir", cJSON_CreateString(dir ? path : cwd));
	return 0;
}

/* --env KEY=VAL and --export NAME (from this environment), in the order
 * given (a later one wins), as the "env" object. 0 or an exit code. */
static int add_env(struct ctl *c, const struct ctl_args *a, cJSON *args)
{
	cJSON *env = cJSON_CreateObject();
	int rc = env ? 0 : ctl_fail(c, ST_INTERNAL, "out of memory");
	for (int i = 0; rc == 0 && i < a->ngiven; i++) {
		const char *lng = a->cmd->opts[a->given[i].opt].lng, *v = a->given[i].val, *eq;
		char key[256];
		if (strcmp(lng, "env") == 0) {
			if (!(eq = strchr(v, '=')) || eq == v || (size_t)(eq - v) >= sizeof key) {
				rc = ctl_fail(c, ST_USAGE, "submit: --env %s: write KEY=VALUE", v);
				break;
			}
			snprintf(key, sizeof key, "%.*s", (int)(eq - v), v);
			set_member(env, key, cJSON_CreateString(eq + 1));
		} else if (strcmp(lng, "export") == 0) {
			const char *val = getenv(v);
			if (!val || !*v)
				rc = ctl_fail(c, ST_USAGE, "submit: --export %s: %s is not set here (--env %s=VALUE sets a "
					"value)", v, v, v);
			else
				set_member(env, v, cJSON_CreateString(val));
		}
	}
	if (rc == 0 && cJSON_GetArraySize(env) > 0)
		set_member(args, "env", env);
	else
		cJSON_Delete(env);
	return rc;
}

/* What a dry run says would happen: the reservation, the quota left after
 * it, who approves it, when it starts. */
static void print_dry_run(const cJSON *d)
{
	char b[96], left[64];
	int64_t now = (int64_t)time(NULL), est = fmt_member_time(d, "estimated_start");
	printf("dry run: nothing was stored\n");
	printf("%-17s%lld x %s for %s", "request:", (long long)jint(d, "gpu_count"), jstr(d, "gpu_type"),
		duration_format(jint(d, "time_limit"), b, sizeof b));
	if (jint(d, "weight") > 1)
		printf(" (weight %lld)", (long long)jint(d, "weight"));
	printf("\n%-17s%s (%lld GPU-seconds)\n", "reservation:", fmt_gpu_hours(jint(d, "reservation"), b, sizeof b),
		(long long)jint(d, "reservation"));
	printf("%-17s%s\n", "available after:", fmt_gpu_hours(jint(d, "available_after"), left, sizeof left));
	if (*jstr(d, "auto_approved_by"))
		printf("%-17sAPPROVED at once by %s\n", "approval:", jstr(d, "auto_approved_by"));
	else
		printf("%-17sPENDING: %s\n", "approval:", jstr(d, "reason"));
	printf("%-17s%s%s\n", "starts by:", est > 0 ? fmt_when_age(est, now, b, sizeof b) : "unknown",
		est > 0 && !*jstr(d, "auto_approved_by") ? " if approved now" : "");
}

/* Prints the reply of a submit or a dry run. */
static void print_submitted(const struct ctl *c, const cJSON *data, bool dry)
{
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (dry)
		print_dry_run(data);
	else
		printf("%lld\n", (long long)jint(data, "id"));
}

int cmd_submit(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	const char *like = args_get(a, "like");
	bool dry = args_has(a, "dry-run");
	/* A dry run has no id to print. */
	int rc = dry && c->out == OUT_NAME ? ctl_no_names(c) : 0;
	if (rc == 0 && like)
		rc = like_job(c, like, args);
	if (rc == 0)
		rc = submit_args(c, a, args);
	if (rc == 0)
		rc = add_chdir(c, args_get(a, "chdir"), args);
	if (rc == 0)
		rc = add_env(c, a, args);
	if (rc != 0)
		goto out;
	if (dry)
		cJSON_AddTrueToObject(args, "dry_run");
	enum status st = ctl_call(c, "job.submit", args, true, &data);
	args = NULL; /* ctl_call consumed it */
	if (st != ST_OK) {
		rc = ctl_report(c, st);
		goto out;
	}
	print_submitted(c, data, dry);
out:
	cJSON_Delete(args);
	cJSON_Delete(data);
	return rc;
}
