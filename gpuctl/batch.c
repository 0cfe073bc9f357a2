/* One op on many job ids, pipelined (batch.h). */
#include "gpuctl/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "gpuctl/commands.h"

void batch_free(struct batch *b)
{
	for (int i = 0; b->args && i < b->n; i++)
		cJSON_Delete(b->args[i]);
	for (int i = 0; b->data && i < b->n; i++)
		cJSON_Delete(b->data[i]);
	free(b->args);
	free(b->data);
	free(b->st);
	free(b->errs);
	memset(b, 0, sizeof *b);
}

/* Parses the ids and builds one request each: a copy of extra (may be NULL)
 * plus "id". 0, or the exit code after an error. */
static int batch_open(struct ctl *c, struct batch *b, int nids, char **ids, const cJSON *extra)
{
	memset(b, 0, sizeof *b);
	b->n = nids;
	b->ids = ids;
	b->args = calloc((size_t)nids, sizeof *b->args);
	b->data = calloc((size_t)nids, sizeof *b->data);
	b->st = calloc((size_t)nids, sizeof *b->st);
	b->errs = calloc((size_t)nids, sizeof *b->errs);
	if (!b->args || !b->data || !b->st || !b->errs)
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	for (int i = 0; i < nids; i++) {
		int64_t id;
		if (parse_job_id(c, ids[i], &id) < 0)
			return EXIT_USAGE;
		b->args[i] = extra ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
		if (!b->args[i] || !json_add_int(b->args[i], "id", id))
			return ctl_fail(c, ST_INTERNAL, "out of memory");
	}
	return 0;
}

int batch_run(struct ctl *c, struct batch *b, const char *op, int nids, char **ids, const cJSON *extra)
{
	int rc = batch_open(c, b, nids, ids, extra);
	if (rc == 0)
		ctl_call_many(c, op, b->args, (size_t)nids, b->st, b->data, b->errs);
	return rc;
}

void batch_report(struct ctl *c, const struct batch *b, int i, int *rc)
{
	if (ctl_interrupted) {
		*rc = EXIT_INTERRUPTED;
		return;
	}
	char msg[256];
	snprintf(msg, sizeof msg, "%s", b->errs[i]);
	errmap_rewrite(c->cmd, b->st[i], msg, sizeof msg);
	fflush(stdout);
	/* "needs the admin role" is about the command, not each id: said once. */
	if (b->st[i] == ST_FORBIDDEN && *rc == EXIT_FORBIDDEN)
		return;
	if (b->st[i] == ST_FORBIDDEN)
		fprintf(stderr, "gpuctl: %s\n", msg);
	else
		fprintf(stderr, "gpuctl: %s %s: %s\n", c->cmd ? c->cmd->name : "", b->ids[i], msg);
	if (!*rc)
		*rc = status_exit_code(b->st[i]);
}

void batch_emit(const struct ctl *c, const struct batch *b, bool list)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < b->n; i++)
		if (b->st[i] == ST_OK)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(b->data[i], 1));
	if (!list && b->n == 1 && cJSON_GetArraySize(arr) == 1) {
		ctl_emit(c, cJSON_GetArrayItem(arr, 0));
		cJSON_Delete(arr);
		return;
	}
	ctl_emit_list(c, "jobs", arr);
}

int batch_print(struct ctl *c, const struct batch *b)
{
	int rc = 0;
	for (int i = 0; i < b->n; i++) {
		if (b->st[i] != ST_OK)
			batch_report(c, b, i, &rc);
		else if (c->out == OUT_NAME)
			printf("%lld\n", (long long)jint(b->data[i], "id"));
		else if (!ctl_structured(c))
			printf("%lld %s\n", (long long)jint(b->data[i], "id"), job_shown_status(b->data[i]));
	}
	if (ctl_structured(c))
		batch_emit(c, b, false);
	return rc;
}

int batch_per_id(struct ctl *c, const char *op, int nids, char **ids, const cJSON *extra)
{
	struct batch b;
	int rc = batch_run(c, &b, op, nids, ids, extra);
	if (rc == 0)
		rc = batch_print(c, &b);
	batch_free(&b);
	return rc;
}

const char *job_shown_status(const cJSON *job)
{
	const char *s = jstr(job, "status");
	if (strcmp(s, "RUNNING") == 0 && strncmp(jstr(job, "reason"), "cancelling", 10) == 0)
		return "CANCELLING";
	return s;
}
