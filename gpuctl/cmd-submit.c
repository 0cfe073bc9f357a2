/* submit: asks for GPU time; --like ID starts from another job's request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"

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

int cmd_submit(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	const char *like = args_get(a, "like");
	int rc = like ? like_job(c, like, args) : 0;
	if (rc == 0)
		rc = submit_args(c, a, args);
	if (rc != 0)
		goto out;
	enum status st = ctl_call(c, "job.submit", args, true, &data);
	args = NULL; /* ctl_call consumed it */
	if (st != ST_OK) {
		rc = ctl_report(c, st);
		goto out;
	}
	if (ctl_structured(c))
		ctl_emit(c, data);
	else
		printf("%lld\n", (long long)jint(data, "id"));
out:
	cJSON_Delete(args);
	cJSON_Delete(data);
	return rc;
}
