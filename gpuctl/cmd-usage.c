/* admin usage [USER...] [--since WHEN] [--ledger]: per user, from the
 * quota ledger, the net of what was granted and set, what was charged (and
 * charged since WHEN), what live jobs hold reserved and what remains; with
 * --ledger, one user's ledger rows. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/table.h"

/* The totals per user, in GPU-hours. since: the --since column's time, or 0. */
static void print_totals(const cJSON *users, int64_t since)
{
	char charged_since[64];
	int64_t now = (int64_t)time(NULL);
	snprintf(charged_since, sizeof charged_since, ">CHARGED SINCE ");
	fmt_when(since, now, charged_since + strlen(charged_since), sizeof charged_since - strlen(charged_since));
	const char *heads[] = {"USER", ">GRANTED NET", ">CHARGED", charged_since, ">RESERVED", ">REMAINING",
		">JOBS CHARGED"};
	/* Without --since the column is left out: heads shift over it. */
	if (since <= 0)
		memmove(&heads[3], &heads[4], 3 * sizeof heads[0]);
	struct table t;
	table_init(&t, since > 0 ? 7 : 6, heads);
	const cJSON *u;
	cJSON_ArrayForEach(u, users)
	{
		table_add(&t, jstr(u, "username"));
		table_add_hours(&t, jint(u, "granted"));
		table_add_hours(&t, jint(u, "charged"));
		if (since > 0)
			table_add_hours(&t, jint(u, "charged_since"));
		table_add_hours(&t, jint(u, "reserved"));
		table_add_hours(&t, jint(u, "remaining"));
		table_add_int(&t, jint(u, "jobs_charged"));
	}
	table_print(&t, stdout, false);
	table_free(&t);
}

/* One user's ledger rows: when, what, how much, for which job, by whom, why. */
static void print_ledger(const cJSON *rows)
{
	static const char *const heads[] = {"TIME", "KIND", ">DELTA", ">JOB", "ACTOR", "REASON"};
	struct table t;
	table_init(&t, 6, heads);
	const cJSON *r;
	cJSON_ArrayForEach(r, rows)
	{
		char when[48], delta[64];
		int64_t d = jint(r, "delta");
		table_add(&t, fmt_stamp(fmt_member_time(r, "at"), when, sizeof when));
		table_add(&t, jstr(r, "kind"));
		delta[0] = d > 0 ? '+' : '\0';
		fmt_gpu_hours(d, delta + (d > 0), sizeof delta - 1);
		table_add(&t, delta);
		table_add_opt(&t, jint(r, "job_id") > 0, jint(r, "job_id"));
		table_add(&t, jstr(r, "actor"));
		table_add(&t, jstr(r, "reason"));
	}
	if (table_rows(&t) == 0)
		fprintf(stderr, "no ledger rows\n");
	else
		table_print(&t, stdout, false);
	table_free(&t);
}

/* The command line as usage.report's arguments. 0 or an exit code. */
static int usage_args(struct ctl *c, const struct ctl_args *a, cJSON *args, int64_t *since)
{
	const char *when = args_get(a, "since");
	if (args_has(a, "ledger") && a->npos != 1)
		return ctl_fail(c, ST_USAGE, "admin usage: --ledger shows one user's rows: name exactly one USER");
	if (when && parse_when_opt(c, "--since", when, since) < 0)
		return EXIT_USAGE;
	if (when)
		json_add_int(args, "since", *since > 0 ? *since : 1);
	cJSON *names = a->npos > 0 ? cJSON_AddArrayToObject(args, "usernames") : NULL;
	for (int i = 0; names && i < a->npos; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(a->pos[i]));
	if (args_has(a, "ledger"))
		cJSON_AddTrueToObject(args, "ledger");
	return 0;
}

int cmd_admin_usage(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	int64_t since = 0;
	int rc = args ? usage_args(c, a, args, &since) : ctl_fail(c, ST_INTERNAL, "out of memory");
	if (rc != 0) {
		cJSON_Delete(args);
		return rc;
	}
	if ((rc = ctl_ask(c, "usage.report", args, &data)) != 0)
		return rc;
	const cJSON *users = json_get(data, "users"), *u;
	if (ctl_structured(c)) {
		ctl_emit(c, data);
	} else if (c->out == OUT_NAME) {
		cJSON_ArrayForEach(u, users) printf("%s\n", jstr(u, "username"));
	} else {
		print_totals(users, args_has(a, "since") ? (since > 0 ? since : 1) : 0);
		if (args_has(a, "ledger")) {
			putchar('\n');
			print_ledger(json_get(cJSON_GetArrayItem(users, 0), "ledger"));
		}
	}
	cJSON_Delete(data);
	return 0;
}
