/* Job commands: submit, list, show, cancel, wait, gpus, admin pending,
 * admin approve, admin reject. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/table.h"

static int parse_id(struct ctl *c, const char *cmd, const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 1) {
		ctl_fail(c, ST_USAGE, "%s: '%s' is not a job id (a positive integer)", cmd, text);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_dur(struct ctl *c, const char *cmd, const char *opt, const char *text, int64_t *out)
{
	if (duration_parse(text, out) < 0) {
		ctl_fail(c, ST_USAGE, "%s: %s '%s' is not a duration (like 90, 90s, 15m, 2h, 1h30m, 1d)", cmd, opt, text);
		return -1;
	}
	return 0;
}

static void print_job_full(const cJSON *j)
{
	char b[96];
	const cJSON *cmd = json_get(j, "command");
	printf("id:              %lld\n", (long long)jint(j, "id"));
	printf("name:            %s\n", jstr(j, "name"));
	printf("owner:           %s\n", jstr(j, "owner"));
	printf("gpu:             %lld x %s\n", (long long)jint(j, "gpu_count"), jstr(j, "gpu_type"));
	printf("time limit:      %s\n", fmt_secs(jint(j, "time_limit"), b, sizeof b));
	printf("status:          %s\n", jstr(j, "status"));
	printf("reason:          %s\n", jstr(j, "reason"));
	printf("created:         %s\n", *jstr(j, "created_at") ? jstr(j, "created_at") : "-");
	printf("approved:        %s%s%s\n", *jstr(j, "approved_at") ? jstr(j, "approved_at") : "-",
		*jstr(j, "approved_by") ? " by " : "", jstr(j, "approved_by"));
	printf("started:         %s\n", *jstr(j, "started_at") ? jstr(j, "started_at") : "-");
	printf("finished:        %s\n", *jstr(j, "finished_at") ? jstr(j, "finished_at") : "-");
	const cJSON *ch = json_get(j, "charged_seconds");
	if (cJSON_IsNumber(ch))
		printf("charged:         %lld GPU-seconds\n", (long long)jint(j, "charged_seconds"));
	else
		printf("charged:         -\n");
	const cJSON *ec = json_get(j, "exit_code");
	if (cJSON_IsNumber(ec))
		printf("exit code:       %lld\n", (long long)jint(j, "exit_code"));
	else
		printf("exit code:       -\n");
	if (cJSON_IsArray(cmd)) {
		char *s = cJSON_PrintUnformatted(cmd);
		printf("command:         %s\n", s ? s : "?");
		free(s);
	} else {
		printf("command:         -\n");
	}
}

int cmd_submit(struct ctl *c, const struct ctl_args *a)
{
	const char *gpu = args_get(a, "gpu"), *count = args_get(a, "count");
	const char *tm = args_get(a, "time"), *name = args_get(a, "name");
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	int rc = EXIT_USAGE;
	if (gpu)
		cJSON_AddStringToObject(args, "gpu_type", gpu);
	if (count) {
		char *end;
		errno = 0;
		long long n = strtoll(count, &end, 10);
		if (errno || end == count || *end) {
			rc = ctl_fail(c, ST_USAGE, "submit: --count '%s' is not a whole number", count);
			goto out;
		}
		cJSON_AddNumberToObject(args, "gpu_count", (double)n);
	}
	int64_t secs;
	if (tm && parse_dur(c, "submit", "--time", tm, &secs) < 0)
		goto out;
	if (tm)
		cJSON_AddNumberToObject(args, "time_limit", (double)secs);
	if (name)
		cJSON_AddStringToObject(args, "name", name);
	if (a->nrest > 0) {
		cJSON *cmd = cJSON_AddArrayToObject(args, "command");
		for (int i = 0; i < a->nrest; i++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(a->rest[i]));
	}
	enum status st = ctl_call(c, "job.submit", args, true, &data);
	args = NULL; /* ctl_call consumed it */
	if (st != ST_OK) {
		rc = ctl_report(c, st);
		goto out;
	}
	if (c->json)
		print_json(data);
	else
		printf("%lld\n", (long long)jint(data, "id"));
	rc = 0;
out:
	cJSON_Delete(args);
	cJSON_Delete(data);
	return rc;
}

/* Fetches up to limit jobs, following next_before_id across frames. */
static enum status fetch_jobs(struct ctl *c, cJSON *base_args, int64_t limit, cJSON **jobs_out)
{
	cJSON *all = cJSON_CreateArray();
	int64_t have = 0, before = 0;
	enum status st = ST_OK;
	while (have < limit) {
		cJSON *args = cJSON_Duplicate(base_args, 1);
		cJSON_AddNumberToObject(args, "limit", (double)(limit - have));
		if (before)
			cJSON_AddNumberToObject(args, "before_id", (double)before);
		cJSON *data = NULL;
		st = ctl_call(c, "job.list", args, true, &data);
		if (st != ST_OK)
			break;
		cJSON *jobs = json_get(data, "jobs");
		cJSON *j;
		while ((j = cJSON_DetachItemFromArray(jobs, 0)) != NULL) {
			cJSON_AddItemToArray(all, j);
			have++;
		}
		before = jint(data, "next_before_id");
		cJSON_Delete(data);
		if (!before)
			break;
	}
	if (st != ST_OK) {
		cJSON_Delete(all);
		return st;
	}
	*jobs_out = all;
	return ST_OK;
}

/* --json list: pages are spliced as text, never parsed and printed again. */
static int list_json_text(struct ctl *c, cJSON *base_args, int64_t limit)
{
	static const char head[] = "{\"jobs\":[", tail[] = "],\"next_before_id\":";
	int64_t have = 0, before = 0;
	bool first = true;
	struct strbuf out;
	strbuf_init(&out, 0);
	strbuf_adds(&out, head);
	while (have < limit) {
		cJSON *args = cJSON_Duplicate(base_args, 1);
		cJSON_AddNumberToObject(args, "limit", (double)(limit - have));
		if (before)
			cJSON_AddNumberToObject(args, "before_id", (double)before);
		char *text = NULL;
		size_t len = 0;
		enum status st = ctl_call_text(c, "job.list", args, &text, &len);
		if (st != ST_OK) {
			strbuf_finish(&out);
			return ctl_report(c, st);
		}
		/* {"jobs":[ ... ],"next_before_id":N} */
		char *t = NULL;
		for (char *p = text; (p = strstr(p, tail)) != NULL; p++)
			t = p;
		if (strncmp(text, head, sizeof head - 1) != 0 || !t) {
			free(text);
			strbuf_finish(&out);
			return ctl_fail(c, ST_INTERNAL, "unexpected job.list reply layout");
		}
		const char *items = text + sizeof head - 1;
		size_t ilen = (size_t)(t - items);
		if (ilen > 0) {
			if (!first)
				strbuf_addc(&out, ',');
			strbuf_add(&out, items, ilen);
			first = false;
			/* Count the rows: one '{"id":' per job at depth 1. */
			for (const char *p = items; (p = strstr(p, "{\"id\":")) && p < t; p++)
				have++;
		}
		before = strtoll(t + sizeof tail - 1, NULL, 10);
		free(text);
		if (before <= 0)
			break;
	}
	strbuf_adds(&out, "]}\n");
	if (out.failed) {
		strbuf_finish(&out);
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	}
	fwrite(out.data, 1, out.len, stdout);
	strbuf_finish(&out);
	return 0;
}

/* Table or ids: brief rows parsed in place, printed through one buffer. */
static int list_table_text(struct ctl *c, cJSON *base_args, int64_t limit, bool quiet, bool oldest_first)
{
	struct brief_row *rows = NULL;
	size_t n = 0, cap = 0, ntexts = 0;
	char *texts[64];
	int64_t before = 0;
	int rc = 0;
	while ((int64_t)n < limit && ntexts < sizeof texts / sizeof texts[0]) {
		cJSON *args = cJSON_Duplicate(base_args, 1);
		cJSON_AddTrueToObject(args, "brief");
		cJSON_AddNumberToObject(args, "limit", (double)(limit - (int64_t)n));
		if (before)
			cJSON_AddNumberToObject(args, "before_id", (double)before);
		char *text = NULL;
		size_t len = 0;
		enum status st = ctl_call_text(c, "job.list", args, &text, &len);
		if (st != ST_OK) {
			rc = ctl_report(c, st);
			goto out;
		}
		texts[ntexts++] = text; /* the rows point into it */
		if (brief_parse(text, &rows, &n, &cap, &before) < 0) {
			rc = ctl_fail(c, ST_INTERNAL, "malformed job.list reply from gpuaasd");
			goto out;
		}
		if (before <= 0)
			break;
	}
	brief_print(rows, n, oldest_first, quiet);
out:
	for (size_t i = 0; i < ntexts; i++)
		free(texts[i]);
	free(rows);
	return rc;
}

static int list_common(struct ctl *c, cJSON *args, int64_t limit, bool quiet, bool oldest_first)
{
	if (c->json && !oldest_first) {
		int rc = list_json_text(c, args, limit);
		cJSON_Delete(args);
		return rc;
	}
	if (!c->json) {
		int rc = list_table_text(c, args, limit, quiet, oldest_first);
		cJSON_Delete(args);
		return rc;
	}
	cJSON *jobs = NULL;
	enum status st = fetch_jobs(c, args, limit, &jobs);
	cJSON_Delete(args);
	if (st != ST_OK)
		return ctl_report(c, st);
	int n = cJSON_GetArraySize(jobs);
	cJSON *o = cJSON_CreateObject();
	if (oldest_first) {
		cJSON *rev = cJSON_CreateArray();
		for (int i = n - 1; i >= 0; i--)
			cJSON_AddItemToArray(rev, cJSON_DetachItemFromArray(jobs, i));
		cJSON_Delete(jobs);
		jobs = rev;
	}
	cJSON_AddItemToObject(o, "jobs", jobs);
	print_json(o);
	cJSON_Delete(o);
	return 0;
}

int cmd_list(struct ctl *c, const struct ctl_args *a)
{
	const char *states = args_get(a, "state"), *user = args_get(a, "user"), *limit = args_get(a, "limit");
	int64_t n = 100;
	if (limit) {
		char *end;
		errno = 0;
		long long v = strtoll(limit, &end, 10);
		if (errno || end == limit || *end || v < 1 || v > 1000000)
			return ctl_fail(c, ST_USAGE, "list: --limit must be from 1 to 1000000");
		n = v;
	}
	cJSON *args = cJSON_CreateObject();
	if (args_has(a, "all"))
		cJSON_AddTrueToObject(args, "all");
	if (user)
		cJSON_AddStringToObject(args, "user", user);
	if (states)
		cJSON_AddStringToObject(args, "states", states);
	return list_common(c, args, n, args_has(a, "quiet"), false);
}

int cmd_admin_pending(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddTrueToObject(args, "all");
	cJSON_AddStringToObject(args, "states", "PENDING");
	return list_common(c, args, 1000000, args_has(a, "quiet"), true);
}

int cmd_show(struct ctl *c, const struct ctl_args *a)
{
	int64_t id;
	if (parse_id(c, "show", a->pos[0], &id) < 0)
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "id", (double)id);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "job.get", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json)
		print_json(data);
	else
		print_job_full(data);
	cJSON_Delete(data);
	return 0;
}

/* One pipelined request per job id, and what ctl_call_many fills in. */
struct batch {
	int n;
	cJSON **args;      /* owned until ctl_call_many consumes them (and sets them NULL) */
	cJSON **data;      /* owned: the replies */
	enum status *st;
	char (*errs)[256];
};

static void batch_free(struct batch *b)
{
	for (int i = 0; b->args && i < b->n; i++)
		cJSON_Delete(b->args[i]);
	for (int i = 0; b->data && i < b->n; i++)
		cJSON_Delete(b->data[i]);
	free(b->args);
	free(b->data);
	free(b->st);
	free(b->errs);
}

/* Parses the ids and builds one request each: a copy of extra (may be NULL)
 * plus "id". 0, or the exit code after an error; batch_free either way. */
static int batch_open(struct ctl *c, struct batch *b, const char *cmd, int nids, char **ids, const cJSON *extra)
{
	memset(b, 0, sizeof *b);
	b->n = nids;
	b->args = calloc((size_t)nids, sizeof *b->args);
	b->data = calloc((size_t)nids, sizeof *b->data);
	b->st = calloc((size_t)nids, sizeof *b->st);
	b->errs = calloc((size_t)nids, sizeof *b->errs);
	if (!b->args || !b->data || !b->st || !b->errs)
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	for (int i = 0; i < nids; i++) {
		int64_t id;
		if (parse_id(c, cmd, ids[i], &id) < 0)
			return EXIT_USAGE;
		b->args[i] = extra ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
		cJSON_AddNumberToObject(b->args[i], "id", (double)id);
	}
	return 0;
}

/* Prints the failure of request i ("gpuctl: cancel 7: no job 7"); *rc
 * gets its exit code when it is the first failure. */
static void batch_report(const struct batch *b, int i, const char *cmd, char **ids, int *rc)
{
	fprintf(stderr, "gpuctl: %s %s: %s\n", cmd, ids[i], b->errs[i]);
	if (!*rc)
		*rc = status_exit_code(b->st[i]);
}

/* Runs op on every ID (pipelined) with optional extra args; prints each
 * result. Returns the exit code of the first failure, else 0. */
static int per_id(struct ctl *c, const char *cmd, const char *op, int nids, char **ids, const cJSON *extra)
{
	struct batch b;
	int rc = batch_open(c, &b, cmd, nids, ids, extra);
	if (rc != 0)
		goto out;
	ctl_call_many(c, op, b.args, (size_t)nids, b.st, b.data, b.errs);
	cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
	for (int i = 0; i < nids; i++) {
		if (b.st[i] != ST_OK)
			batch_report(&b, i, cmd, ids, &rc);
		else if (arr)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(b.data[i], 1));
		else
			printf("%lld %s\n", (long long)jint(b.data[i], "id"), jstr(b.data[i], "status"));
	}
	if (arr && nids == 1 && cJSON_GetArraySize(arr) == 1) {
		print_json(cJSON_GetArrayItem(arr, 0));
		cJSON_Delete(arr);
	} else if (arr) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "jobs", arr);
		print_json(o);
		cJSON_Delete(o);
	}
out:
	batch_free(&b);
	return rc;
}

int cmd_cancel(struct ctl *c, const struct ctl_args *a)
{
	return per_id(c, "cancel", "job.cancel", a->npos, a->pos, NULL);
}

int cmd_admin_approve(struct ctl *c, const struct ctl_args *a)
{
	return per_id(c, "admin approve", "job.approve", a->npos, a->pos, NULL);
}

int cmd_admin_reject(struct ctl *c, const struct ctl_args *a)
{
	const char *reason = args_get(a, "reason");
	cJSON *extra = cJSON_CreateObject();
	if (reason)
		cJSON_AddStringToObject(extra, "reason", reason);
	int rc = per_id(c, "admin reject", "job.reject", a->npos, a->pos, extra);
	cJSON_Delete(extra);
	return rc;
}

static bool is_final(const char *status)
{
	return strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0 || strcmp(status, "CANCELLED") == 0 ||
	       strcmp(status, "REJECTED") == 0;
}

int cmd_wait(struct ctl *c, const struct ctl_args *a)
{
	int64_t secs = -1;
	const char *timeout = args_get(a, "timeout");
	if (timeout && parse_dur(c, "wait", "--timeout", timeout, &secs) < 0)
		return EXIT_USAGE;
	cJSON *extra = cJSON_CreateObject();
	if (secs >= 0)
		cJSON_AddNumberToObject(extra, "timeout", (double)secs);
	struct batch b;
	bool timed_out = false, failed = false;
	int rc = batch_open(c, &b, "wait", a->npos, a->pos, extra);
	if (rc != 0)
		goto out;
	/* Each wait is parked on the daemon; the replies come in order. */
	ctl_call_many(c, "job.wait", b.args, (size_t)b.n, b.st, b.data, b.errs);
	cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
	for (int i = 0; i < b.n; i++) {
		if (b.st[i] != ST_OK) {
			batch_report(&b, i, "wait", a->pos, &rc);
			continue;
		}
		const char *s = jstr(b.data[i], "status");
		bool final = is_final(s);
		timed_out |= !final;
		failed |= final && strcmp(s, "COMPLETED") != 0;
		if (arr)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(b.data[i], 1));
		else
			printf("%lld %s\n", (long long)jint(b.data[i], "id"), final ? s : "TIMEOUT");
	}
	if (arr) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "jobs", arr);
		print_json(o);
		cJSON_Delete(o);
	}
	if (!rc)
		rc = timed_out ? EXIT_TIMEOUT : (failed ? EXIT_FAILED : 0);
out:
	batch_free(&b);
	cJSON_Delete(extra);
	return rc;
}

int cmd_gpus(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "gpu.list", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json) {
		print_json(data);
	} else {
		printf("%-16s  %5s  %5s  %5s\n", "TYPE", "TOTAL", "BUSY", "FREE");
		const cJSON *g;
		cJSON_ArrayForEach(g, json_get(data, "gpus"))
		{
			printf("%-16s  %5lld  %5lld  %5lld\n", jstr(g, "type"), (long long)jint(g, "total"),
				(long long)jint(g, "busy"), (long long)jint(g, "free"));
		}
		/* Then each device and the job holding it. */
		printf("\n%-6s  %-16s  %-10s  %-40s  %s\n", "DEVICE", "TYPE", "JOB", "UUID", "MEMORY");
		cJSON_ArrayForEach(g, json_get(data, "gpus"))
		{
			const cJSON *dv;
			cJSON_ArrayForEach(dv, json_get(g, "devices"))
			{
				char job[32] = "-", mem[32] = "-";
				if (cJSON_IsNumber(json_get(dv, "job")))
					snprintf(job, sizeof job, "%lld", (long long)jint(dv, "job"));
				if (jint(dv, "memory_mib") > 0)
					snprintf(mem, sizeof mem, "%lld MiB", (long long)jint(dv, "memory_mib"));
				printf("%-6lld  %-16s  %-10s  %-40s  %s\n", (long long)jint(dv, "index"), jstr(g, "type"), job,
					*jstr(dv, "uuid") ? jstr(dv, "uuid") : "-", mem);
			}
		}
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_logs(struct ctl *c, const struct ctl_args *a)
{
	bool follow = args_has(a, "follow");
	int64_t id;
	if (parse_id(c, "logs", a->pos[0], &id) < 0)
		return EXIT_USAGE;
	int64_t offset = 0;
	for (;;) {
		cJSON *args = cJSON_CreateObject();
		cJSON_AddNumberToObject(args, "id", (double)id);
		cJSON_AddNumberToObject(args, "offset", (double)offset);
		if (follow)
			cJSON_AddTrueToObject(args, "follow");
		cJSON *data = NULL;
		enum status st = ctl_call(c, "job.logs", args, true, &data);
		if (st != ST_OK)
			return ctl_report(c, st);
		const char *text = jstr(data, "data");
		size_t len = strlen(text);
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		int64_t next = jint(data, "offset");
		bool eof = cJSON_IsTrue(json_get(data, "eof"));
		cJSON_Delete(data);
		/* Without -f: what is there now. With -f: until the job is final. */
		if (eof || (!follow && next == offset))
			break;
		offset = next;
	}
	return 0;
}
