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

/* The one ID argument of show and logs. */
static int one_id(struct ctl *c, const char *cmd, int npos, char **pos, int64_t *id)
{
	if (npos != 1) {
		ctl_fail(c, ST_USAGE, "usage: gpuctl %s ID (see gpuctl %s --help)", cmd, cmd);
		return -1;
	}
	return parse_id(c, cmd, pos[0], id);
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

int cmd_submit(struct ctl *c, int argc, char **argv)
{
	const char *gpu = NULL, *count = NULL, *tm = NULL, *name = NULL;
	const struct opt_spec specs[] = {{"gpu", 'g', true, &gpu, NULL},
		{"count", 'c', true, &count, NULL},
		{"time", 't', true, &tm, NULL},
		{"name", 'n', true, &name, NULL},
		{0}};
	char *pos[1];
	int npos, nrest = 0;
	char **rest = NULL;
	if (parse_opts(c, argc, argv, specs, pos, 0, &npos, &rest, &nrest) < 0)
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject();
	if (gpu)
		cJSON_AddStringToObject(args, "gpu_type", gpu);
	if (count) {
		char *end;
		errno = 0;
		long long n = strtoll(count, &end, 10);
		if (errno || end == count || *end) {
			cJSON_Delete(args);
			return ctl_fail(c, ST_USAGE, "submit: --count '%s' is not a whole number", count);
		}
		cJSON_AddNumberToObject(args, "gpu_count", (double)n);
	}
	if (tm) {
		int64_t secs;
		if (parse_dur(c, "submit", "--time", tm, &secs) < 0) {
			cJSON_Delete(args);
			return EXIT_USAGE;
		}
		cJSON_AddNumberToObject(args, "time_limit", (double)secs);
	}
	if (name)
		cJSON_AddStringToObject(args, "name", name);
	if (rest && nrest > 0) {
		cJSON *cmd = cJSON_AddArrayToObject(args, "command");
		for (int i = 0; i < nrest; i++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(rest[i]));
	}
	cJSON *data = NULL;
	enum status st = ctl_call(c, "job.submit", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json)
		print_json(data);
	else
		printf("%lld\n", (long long)jint(data, "id"));
	cJSON_Delete(data);
	return 0;
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

int cmd_list(struct ctl *c, int argc, char **argv)
{
	bool all = false, quiet = false;
	const char *states = NULL, *user = NULL, *limit = NULL;
	const struct opt_spec specs[] = {{"all", 'a', false, NULL, &all},
		{"state", 0, true, &states, NULL},
		{"user", 'u', true, &user, NULL},
		{"limit", 'n', true, &limit, NULL},
		{"quiet", 'q', false, NULL, &quiet},
		{0}};
	char *pos[1];
	int npos;
	if (parse_opts(c, argc, argv, specs, pos, 0, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
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
	if (all)
		cJSON_AddTrueToObject(args, "all");
	if (user)
		cJSON_AddStringToObject(args, "user", user);
	if (states)
		cJSON_AddStringToObject(args, "states", states);
	return list_common(c, args, n, quiet, false);
}

int cmd_admin_pending(struct ctl *c, int argc, char **argv)
{
	bool quiet = false;
	const struct opt_spec specs[] = {{"quiet", 'q', false, NULL, &quiet}, {0}};
	char *pos[1];
	int npos;
	if (parse_opts(c, argc, argv, specs, pos, 0, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddTrueToObject(args, "all");
	cJSON_AddStringToObject(args, "states", "PENDING");
	return list_common(c, args, 1000000, quiet, true);
}

int cmd_show(struct ctl *c, int argc, char **argv)
{
	char *pos[1];
	int npos;
	if (parse_opts(c, argc, argv, NULL, pos, 1, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	int64_t id;
	if (one_id(c, "show", npos, pos, &id) < 0)
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

/* Runs op on every ID (pipelined) with optional extra args; prints each
 * result. Returns the exit code of the first failure, else 0. */
static int per_id(struct ctl *c, const char *cmd, const char *op, int nids, char **ids, const cJSON *extra,
	const char *done_word)
{
	if (nids < 1)
		return ctl_fail(c, ST_USAGE, "usage: gpuctl %s ID...", cmd);
	cJSON **args = calloc((size_t)nids, sizeof *args);
	cJSON **data = calloc((size_t)nids, sizeof *data);
	enum status *st = calloc((size_t)nids, sizeof *st);
	char (*errs)[256] = calloc((size_t)nids, sizeof *errs);
	int rc = 0;
	if (!args || !data || !st || !errs) {
		rc = ctl_fail(c, ST_INTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < nids; i++) {
		int64_t id;
		if (parse_id(c, cmd, ids[i], &id) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		args[i] = extra ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
		cJSON_AddNumberToObject(args[i], "id", (double)id);
	}
	ctl_call_many(c, op, args, (size_t)nids, st, data, errs);
	cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
	for (int i = 0; i < nids; i++) {
		if (st[i] != ST_OK) {
			fprintf(stderr, "gpuctl: %s %s: %s\n", cmd, ids[i], errs[i]);
			if (!rc)
				rc = status_exit_code(st[i]);
			continue;
		}
		if (arr)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(data[i], 1));
		else
			printf("%lld %s\n", (long long)jint(data[i], "id"), done_word ? done_word : jstr(data[i], "status"));
	}
	if (arr) {
		if (nids == 1 && cJSON_GetArraySize(arr) == 1) {
			print_json(cJSON_GetArrayItem(arr, 0));
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, "jobs", arr);
			arr = NULL;
			print_json(o);
			cJSON_Delete(o);
		}
		cJSON_Delete(arr);
	}
out:
	if (data)
		for (int i = 0; i < nids; i++)
			cJSON_Delete(data[i]);
	if (args && rc == EXIT_USAGE)
		for (int i = 0; i < nids; i++)
			cJSON_Delete(args[i]);
	free(args);
	free(data);
	free(st);
	free(errs);
	return rc;
}

int cmd_cancel(struct ctl *c, int argc, char **argv)
{
	char *pos[256];
	int npos;
	if (parse_opts(c, argc, argv, NULL, pos, 256, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	return per_id(c, "cancel", "job.cancel", npos, pos, NULL, NULL);
}

int cmd_admin_approve(struct ctl *c, int argc, char **argv)
{
	char *pos[256];
	int npos;
	if (parse_opts(c, argc, argv, NULL, pos, 256, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	return per_id(c, "admin approve", "job.approve", npos, pos, NULL, NULL);
}

int cmd_admin_reject(struct ctl *c, int argc, char **argv)
{
	const char *reason = NULL;
	const struct opt_spec specs[] = {{"reason", 'r', true, &reason, NULL}, {0}};
	char *pos[256];
	int npos;
	if (parse_opts(c, argc, argv, specs, pos, 256, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	cJSON *extra = cJSON_CreateObject();
	if (reason)
		cJSON_AddStringToObject(extra, "reason", reason);
	int rc = per_id(c, "admin reject", "job.reject", npos, pos, extra, NULL);
	cJSON_Delete(extra);
	return rc;
}

int cmd_wait(struct ctl *c, int argc, char **argv)
{
	const char *timeout = NULL;
	const struct opt_spec specs[] = {{"timeout", 't', true, &timeout, NULL}, {0}};
	char *pos[256];
	int npos;
	if (parse_opts(c, argc, argv, specs, pos, 256, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	if (npos < 1)
		return ctl_fail(c, ST_USAGE, "usage: gpuctl wait ID... [--timeout DURATION]");
	int64_t secs = -1;
	if (timeout && parse_dur(c, "wait", "--timeout", timeout, &secs) < 0)
		return EXIT_USAGE;
	cJSON **args = calloc((size_t)npos, sizeof *args);
	cJSON **data = calloc((size_t)npos, sizeof *data);
	enum status *st = calloc((size_t)npos, sizeof *st);
	char (*errs)[256] = calloc((size_t)npos, sizeof *errs);
	int rc = 0;
	bool timed_out = false, failed = false;
	if (!args || !data || !st || !errs) {
		rc = ctl_fail(c, ST_INTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; i < npos; i++) {
		int64_t id;
		if (parse_id(c, "wait", pos[i], &id) < 0) {
			for (int k = 0; k < i; k++)
				cJSON_Delete(args[k]);
			rc = EXIT_USAGE;
			goto out;
		}
		args[i] = cJSON_CreateObject();
		cJSON_AddNumberToObject(args[i], "id", (double)id);
		if (secs >= 0)
			cJSON_AddNumberToObject(args[i], "timeout", (double)secs);
	}
	/* Each wait is parked on the daemon; the replies come in order. */
	ctl_call_many(c, "job.wait", args, (size_t)npos, st, data, errs);
	cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
	for (int i = 0; i < npos; i++) {
		if (st[i] != ST_OK) {
			fprintf(stderr, "gpuctl: wait %s: %s\n", pos[i], errs[i]);
			if (!rc)
				rc = status_exit_code(st[i]);
			continue;
		}
		const char *s = jstr(data[i], "status");
		bool final = strcmp(s, "COMPLETED") == 0 || strcmp(s, "FAILED") == 0 || strcmp(s, "CANCELLED") == 0 ||
			strcmp(s, "REJECTED") == 0;
		if (!final)
			timed_out = true;
		else if (strcmp(s, "COMPLETED") != 0)
			failed = true;
		if (arr)
			cJSON_AddItemToArray(arr, cJSON_Duplicate(data[i], 1));
		else
			printf("%lld %s\n", (long long)jint(data[i], "id"), final ? s : "TIMEOUT");
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
	if (data)
		for (int i = 0; i < npos; i++)
			cJSON_Delete(data[i]);
	free(args);
	free(data);
	free(st);
	free(errs);
	return rc;
}

int cmd_gpus(struct ctl *c, int argc, char **argv)
{
	char *pos[1];
	int npos;
	if (parse_opts(c, argc, argv, NULL, pos, 0, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
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

int cmd_logs(struct ctl *c, int argc, char **argv)
{
	bool follow = false;
	const struct opt_spec specs[] = {{"follow", 'f', false, NULL, &follow}, {0}};
	char *pos[1];
	int npos;
	if (parse_opts(c, argc, argv, specs, pos, 1, &npos, NULL, NULL) < 0)
		return EXIT_USAGE;
	int64_t id;
	if (one_id(c, "logs", npos, pos, &id) < 0)
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
