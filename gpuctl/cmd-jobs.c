/* Commands on jobs by id: show, cancel (also --all, --state, --wait) and
 * wait. Several ids are pipelined on one connection (batch.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/batch.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/jobs.h"

/* "started:  14:02:05 (5m ago)" for an RFC 3339 member. */
static void time_line(const char *label, const cJSON *j, const char *key, int64_t now, const char *suffix)
{
	char b[96];
	printf("%-17s%s%s\n", label, fmt_when_age(fmt_member_time(j, key), now, b, sizeof b), suffix);
}

/* A running job: how long it has run and when it ends at the latest. */
static void running_lines(const cJSON *j, int64_t now)
{
	int64_t started = fmt_member_time(j, "started_at");
	if (started <= 0)
		return;
	char el[48], end[96];
	printf("%-17s%s\n", "elapsed:", duration_format(now > started ? now - started : 0, el, sizeof el));
	printf("%-17s%s (start + time limit)\n", "ends by:",
		fmt_when_age(started + jint(j, "time_limit"), now, end, sizeof end));
}

/* A waiting job: when it starts at the latest (a PENDING one: if approved
 * now); nothing when the daemon cannot say. */
static void estimate_line(const cJSON *j, int64_t now)
{
	int64_t est = fmt_member_time(j, "estimated_start");
	const char *s = jstr(j, "status");
	if (est <= 0 || (strcmp(s, "PENDING") != 0 && strcmp(s, "APPROVED") != 0))
		return;
	char b[96];
	printf("%-17s%s%s\n", "starts by:", fmt_when_age(est, now, b, sizeof b),
		strcmp(s, "PENDING") == 0 ? " if approved now" : "");
}

/* What it asks for and where it stands: id to reason, weight and start. */
static void print_job_head(const cJSON *j, int64_t now)
{
	char b[96];
	printf("%-17s%lld\n", "id:", (long long)jint(j, "id"));
	printf("%-17s%s\n", "name:", *jstr(j, "name") ? jstr(j, "name") : "-");
	printf("%-17s%s\n", "owner:", jstr(j, "owner"));
	printf("%-17s%lld x %s\n", "gpu:", (long long)jint(j, "gpu_count"), jstr(j, "gpu_type"));
	if (cJSON_IsNumber(json_get(j, "weight")))
		printf("%-17s%lld (GPU-seconds here are weighted: count x seconds x weight)\n", "weight:",
			(long long)jint(j, "weight"));
	printf("%-17s%s\n", "time limit:", duration_format(jint(j, "time_limit"), b, sizeof b));
	printf("%-17s%s\n", "status:", jstr(j, "status"));
	printf("%-17s%s\n", "reason:", jstr(j, "reason"));
	estimate_line(j, now);
	if (*jstr(j, "slurm_job_id"))
		printf("%-17s%s\n", "slurm job:", jstr(j, "slurm_job_id"));
}

static void print_job_full(const cJSON *j)
{
	char b[96];
	int64_t now = (int64_t)time(NULL);
	const cJSON *cmd = json_get(j, "command");
	print_job_head(j, now);
	time_line("created:", j, "created_at", now, "");
	snprintf(b, sizeof b, "%s%s", *jstr(j, "approved_by") ? " by " : "", jstr(j, "approved_by"));
	time_line("approved:", j, "approved_at", now, b);
	time_line("started:", j, "started_at", now, "");
	if (strcmp(jstr(j, "status"), "RUNNING") == 0)
		running_lines(j, now);
	time_line("finished:", j, "finished_at", now, "");
	if (cJSON_IsNumber(json_get(j, "charged_seconds")))
		printf("%-17s%s (%lld GPU-seconds)\n", "charged:", fmt_gpu_hours(jint(j, "charged_seconds"), b, sizeof b),
			(long long)jint(j, "charged_seconds"));
	else
		printf("%-17s-\n", "charged:");
	if (cJSON_IsNumber(json_get(j, "exit_code")))
		printf("%-17s%lld\n", "exit code:", (long long)jint(j, "exit_code"));
	else
		printf("%-17s-\n", "exit code:");
	char *text = cJSON_IsArray(cmd) ? cJSON_PrintUnformatted(cmd) : NULL;
	printf("%-17s%s\n", "command:", text ? text : "-");
	free(text);
}

int cmd_show(struct ctl *c, const struct ctl_args *a)
{
	int64_t id;
	if (parse_job_id(c, a->pos[0], &id) < 0)
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject();
	json_add_int(args, "id", id);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "job.get", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		printf("%lld\n", (long long)jint(data, "id"));
	else
		print_job_full(data);
	cJSON_Delete(data);
	return 0;
}

/* cancel --wait: cancels (failures reported), then waits until every job
 * cancelled is gone and prints how each ended, as docker stop does. */
static int cancel_and_wait(struct ctl *c, int nids, char **ids)
{
	struct batch b;
	char **done = calloc((size_t)nids, sizeof *done);
	int ndone = 0;
	int rc = done ? batch_run(c, &b, "job.cancel", nids, ids, NULL) : ctl_fail(c, ST_INTERNAL, "out of memory");
	for (int i = 0; done && rc == 0 && i < b.n; i++) {
		if (b.st[i] != ST_OK)
			batch_report(c, &b, i, &rc);
		else
			done[ndone++] = ids[i];
	}
	if (done)
		batch_free(&b);
	int wrc = ndone > 0 && !ctl_interrupted ? batch_per_id(c, "job.wait", ndone, done, NULL) : 0;
	free(done);
	return rc ? rc : wrc;
}

/* Cancels the jobs named by ids; with wait, until they are gone. */
static int cancel_ids(struct ctl *c, int nids, char **ids, bool wait)
{
	return wait ? cancel_and_wait(c, nids, ids) : batch_per_id(c, "job.cancel", nids, ids, NULL);
}

/* --all / --state: your own live jobs (newest first) as id words. */
static int own_live_ids(struct ctl *c, const char *states, char ***ids, int *n)
{
	cJSON *base = cJSON_CreateObject();
	struct brief_set s = {0};
	int64_t before = 0;
	*ids = NULL;
	*n = 0;
	/* Without its states the request would name every job of yours. */
	int rc = cJSON_AddStringToObject(base, "states", states ? states : "PENDING,APPROVED,RUNNING")
			 ? brief_fetch(c, base, NULL, 1000000, &before, &s, NULL, NULL)
			 : ctl_fail(c, ST_INTERNAL, "out of memory");
	cJSON_Delete(base);
	if (rc == 0 && s.n > 0 && !(*ids = calloc(s.n, sizeof **ids)))
		rc = ctl_fail(c, ST_INTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		char num[24];
		snprintf(num, sizeof num, "%lld", (long long)s.rows[i].id);
		if (!((*ids)[(*n)++] = strdup(num)))
			rc = ctl_fail(c, ST_INTERNAL, "out of memory");
	}
	brief_set_free(&s);
	return rc;
}

/* Asks before cancelling n jobs (unless --yes). 0 to go on, else an exit code. */
static int confirm_cancel(struct ctl *c, char **ids, int n, bool yes)
{
	if (yes)
		return 0;
	char q[256], count[32];
	snprintf(q, sizeof q, "Cancel %s (%s%s%s)?", fmt_count(n, "job", count, sizeof count), ids[0],
		n > 1 ? (n > 2 ? ", ..., " : ", ") : "", n > 1 ? ids[n - 1] : "");
	bool no_tty;
	if (ask_yes(c, q, &no_tty))
		return 0;
	if (no_tty)
		return ctl_fail(c, ST_USAGE, "cancel: no terminal to ask whether to cancel %s: add --yes", count);
	return ctl_interrupted ? EXIT_INTERRUPTED : ctl_fail(c, ST_CONFLICT, "cancel: nothing cancelled");
}

/* Checks --state for cancel: only live states can be cancelled. */
static int check_cancel_states(struct ctl *c, const char *states)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", states);
	for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save))
		if (strcmp(s, "PENDING") != 0 && strcmp(s, "APPROVED") != 0 && strcmp(s, "RUNNING") != 0)
			return ctl_fail(c, ST_USAGE, "cancel: --state %s: only PENDING, APPROVED and RUNNING jobs can be "
				"cancelled", s);
	return 0;
}

/* cancel --all / --state S: your own live jobs, after asking. */
static int cancel_own(struct ctl *c, const struct ctl_args *a)
{
	const char *states = args_get(a, "state");
	if (a->npos > 0)
		return ctl_fail(c, ST_USAGE, "cancel: give job ids or --all/--state, not both");
	if (states && check_cancel_states(c, states) != 0)
		return EXIT_USAGE;
	char **ids = NULL;
	int n = 0;
	int rc = own_live_ids(c, states, &ids, &n);
	if (rc == 0 && n == 0)
		fprintf(stderr, "no live jobs of yours to cancel\n");
	if (rc == 0 && n > 0)
		rc = confirm_cancel(c, ids, n, args_has(a, "yes"));
	if (rc == 0 && n > 0)
		rc = cancel_ids(c, n, ids, args_has(a, "wait"));
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

int cmd_cancel(struct ctl *c, const struct ctl_args *a)
{
	if (args_has(a, "all") || args_has(a, "state"))
		return cancel_own(c, a);
	if (a->npos == 0)
		return ctl_fail(c, ST_USAGE, "usage: gpuctl %s (see gpuctl cancel --help)", a->cmd->usage);
	return cancel_ids(c, a->npos, a->pos, args_has(a, "wait"));
}

/* One waited job's line: "7 COMPLETED", "7 FAILED (exit code 1)",
 * "7 TIMEOUT (still RUNNING: running on T4 device 0)"; nothing for JSON
 * and YAML (printed whole afterwards). */
static void wait_line(const struct ctl *c, const cJSON *j, bool *timed_out, bool *failed)
{
	const char *s = jstr(j, "status"), *why = jstr(j, "reason");
	bool final = job_status_final(s);
	*timed_out |= !final;
	*failed |= final && strcmp(s, "COMPLETED") != 0;
	long long id = (long long)jint(j, "id");
	if (ctl_structured(c))
		return;
	if (c->out == OUT_NAME)
		printf("%lld\n", id);
	else if (!final)
		printf("%lld TIMEOUT (still %s%s%s)\n", id, s, *why ? ": " : "", why);
	else if (strcmp(s, "COMPLETED") != 0 && *why)
		printf("%lld %s (%s)\n", id, s, why);
	else
		printf("%lld %s\n", id, s);
}

int cmd_wait(struct ctl *c, const struct ctl_args *a)
{
	int64_t secs = -1;
	const char *timeout = args_get(a, "timeout");
	if (timeout && parse_duration_opt(c, "--timeout", timeout, &secs) < 0)
		return EXIT_USAGE;
	cJSON *extra = cJSON_CreateObject();
	if (secs >= 0)
		json_add_int(extra, "timeout", secs);
	struct batch b;
	bool timed_out = false, failed = false;
	/* Each wait is parked on the daemon; the replies come in order. */
	int rc = batch_run(c, &b, "job.wait", a->npos, a->pos, extra);
	if (rc != 0)
		goto out;
	for (int i = 0; i < b.n; i++) {
		if (b.st[i] != ST_OK)
			batch_report(c, &b, i, &rc);
		else
			wait_line(c, b.data[i], &timed_out, &failed);
	}
	if (ctl_structured(c))
		batch_emit(c, &b, true);
	if (!rc)
		rc = timed_out ? EXIT_TIMEOUT : (failed ? EXIT_FAILED : 0);
out:
	batch_free(&b);
	cJSON_Delete(extra);
	return rc;
}
