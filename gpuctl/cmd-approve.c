/* admin approve and admin reject: one job (the reply is the job), several
 * ids in one request (one commit), or every PENDING job with
 * --all-pending, narrowed by --user and --gpu. A bulk reply names the ids
 * acted on and those that failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "gpuctl/batch.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"

/* What one of the two commands does. */
struct verdict {
	const char *op;   /* job.approve, job.reject */
	const char *done; /* APPROVED, REJECTED: the state of a job acted on */
	bool has_reason;  /* the command takes --reason */
};

/* Reports the entries of a bulk reply's "failed" ({id, code, message});
 * *rc gets the first one's exit code. */
static void report_failed(struct ctl *c, const cJSON *failed, int *rc)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, failed)
	{
		enum status st = status_from_code(jstr(f, "code"));
		char msg[512];
		snprintf(msg, sizeof msg, "%s", jstr(f, "message"));
		errmap_rewrite(c->cmd, st, msg, sizeof msg);
		fflush(stdout);
		fprintf(stderr, "gpuctl: %s %lld: %s\n", c->cmd->name, (long long)jint(f, "id"), msg);
		if (!*rc)
			*rc = status_exit_code(st == ST_OK ? ST_INTERNAL : st);
	}
}

/* The jobs acted on as objects ({"jobs": [...]}), as a single-id action
 * prints them: one pipelined job.get each. */
static int emit_jobs(struct ctl *c, const cJSON *acted)
{
	int n = cJSON_GetArraySize(acted), k = 0;
	char (*nums)[24] = calloc((size_t)n + 1, sizeof *nums);
	char **ids = calloc((size_t)n + 1, sizeof *ids);
	struct batch b = {0};
	int rc = nums && ids ? 0 : ctl_fail(c, ST_INTERNAL, "out of memory");
	const cJSON *id;
	for (id = acted ? acted->child : NULL; rc == 0 && id && k < n; id = id->next, k++) {
		snprintf(nums[k], sizeof nums[k], "%lld", (long long)id->valuedouble);
		ids[k] = nums[k];
	}
	if (rc == 0 && k == 0)
		ctl_emit_list(c, "jobs", cJSON_CreateArray());
	else if (rc == 0 && (rc = batch_run(c, &b, "job.get", k, ids, NULL)) == 0)
		batch_emit(c, &b, true);
	batch_free(&b);
	free(ids);
	free(nums);
	return rc;
}

/* Prints what a bulk request did: ids one a line (--all-pending, -o
 * name), "ID APPROVED" lines (several ids), or the objects. */
static int print_bulk(struct ctl *c, const struct verdict *v, const cJSON *data, bool all_pending)
{
	const cJSON *acted = json_get(data, "jobs"), *id;
	int rc = 0;
	if (ctl_structured(c) && all_pending)
		ctl_emit(c, data);
	else if (ctl_structured(c))
		rc = emit_jobs(c, acted);
	else
		cJSON_ArrayForEach(id, acted)
		{
			if (all_pending || c->out == OUT_NAME)
				printf("%lld\n", (long long)id->valuedouble);
			else
				printf("%lld %s\n", (long long)id->valuedouble, v->done);
		}
	if (all_pending && cJSON_GetArraySize(acted) == 0 && cJSON_GetArraySize(json_get(data, "failed")) == 0) {
		fflush(stdout);
		fprintf(stderr, "no PENDING jobs to %s\n", strcmp(v->op, "job.approve") == 0 ? "approve" : "reject");
	}
	return rc;
}

/* The ids of the command line as an "ids" array in args. 0 or an exit code. */
static int add_ids(struct ctl *c, const struct ctl_args *a, cJSON *args)
{
	cJSON *arr = cJSON_AddArrayToObject(args, "ids");
	for (int i = 0; arr && i < a->npos; i++) {
		int64_t id;
		if (parse_job_id(c, a->pos[i], &id) < 0)
			return EXIT_USAGE;
		cJSON_AddItemToArray(arr, json_create_int(id));
	}
	return arr ? 0 : ctl_fail(c, ST_INTERNAL, "out of memory");
}

/* Several ids or --all-pending: one request, one commit. */
static int bulk(struct ctl *c, const struct ctl_args *a, const struct verdict *v, cJSON *args)
{
	bool all = args_has(a, "all-pending");
	const char *user = args_get(a, "user"), *gpu = args_get(a, "gpu");
	int rc = all ? 0 : add_ids(c, a, args);
	if (all)
		cJSON_AddTrueToObject(args, "all_pending");
	if (user)
		cJSON_AddStringToObject(args, "user", user);
	if (gpu)
		cJSON_AddStringToObject(args, "gpu_type", gpu);
	if (rc != 0) {
		cJSON_Delete(args);
		return rc;
	}
	cJSON *data = NULL;
	if ((rc = ctl_ask(c, v->op, args, &data)) != 0)
		return rc;
	rc = print_bulk(c, v, data, all);
	report_failed(c, json_get(data, "failed"), &rc);
	cJSON_Delete(data);
	return rc;
}

/* Checks the command line, then acts on one job or many. */
static int approve_or_reject(struct ctl *c, const struct ctl_args *a, const struct verdict *v)
{
	bool all = args_has(a, "all-pending");
	const char *reason = v->has_reason ? args_get(a, "reason") : NULL;
	if (all && a->npos > 0)
		return ctl_fail(c, ST_USAGE, "%s: give job ids or --all-pending, not both", a->cmd->name);
	if (!all && (args_has(a, "user") || args_has(a, "gpu")))
		return ctl_fail(c, ST_USAGE, "%s: --user and --gpu choose among the pending jobs: add --all-pending",
			a->cmd->name);
	if (!all && a->npos == 0)
		return ctl_fail(c, ST_USAGE, "usage: gpuctl %s (see gpuctl %s --help)", a->cmd->usage, a->cmd->name);
	cJSON *args = cJSON_CreateObject();
	if (!args)
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	if (reason)
		cJSON_AddStringToObject(args, "reason", reason);
	if (all || a->npos > 1)
		return bulk(c, a, v, args);
	int rc = batch_per_id(c, v->op, a->npos, a->pos, args);
	cJSON_Delete(args);
	return rc;
}

int cmd_admin_approve(struct ctl *c, const struct ctl_args *a)
{
	static const struct verdict v = {"job.approve", "APPROVED", false};
	return approve_or_reject(c, a, &v);
}

int cmd_admin_reject(struct ctl *c, const struct ctl_args *a)
{
	static const struct verdict v = {"job.reject", "REJECTED", true};
	return approve_or_reject(c, a, &v);
}
