/* queue [--gpu TYPE]: every live job, as squeue shows a cluster's queue:
 * per GPU type the running jobs, then the approved ones in queue order
 * with their position and estimated start, then the pending ones. Another
 * user's job never shows its name, and shows its id and owner only when
 * the daemon runs with --queue-visibility full ("(other)" otherwise). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/table.h"

/* START: when a running job started, or by when a waiting one starts at
 * the latest ("by 14:20:00"); "-" when the daemon cannot say. */
static void start_cell(struct table *t, const cJSON *j, int64_t now)
{
	int64_t started = fmt_member_time(j, "started_at"), est = fmt_member_time(j, "estimated_start");
	char when[48], b[64] = "";
	if (started > 0)
		snprintf(b, sizeof b, "%s", fmt_when(started, now, when, sizeof when));
	else if (est > 0)
		snprintf(b, sizeof b, "by %s", fmt_when(est, now, when, sizeof when));
	table_add(t, b);
}

static void print_queue(const cJSON *data)
{
	static const char *const heads[] = {"ID", "USER", "NAME", "TYPE", ">COUNT", "STATUS", ">POS", ">TIME",
		"START"};
	struct table t;
	table_init(&t, 9, heads);
	int64_t now = (int64_t)time(NULL);
	const cJSON *j;
	cJSON_ArrayForEach(j, json_get(data, "jobs"))
	{
		char tl[48];
		table_add_opt(&t, cJSON_IsNumber(json_get(j, "id")), jint(j, "id"));
		table_add(&t, jstr(j, "owner"));
		table_add(&t, jstr(j, "name"));
		table_add(&t, jstr(j, "gpu_type"));
		table_add_int(&t, jint(j, "gpu_count"));
		table_add(&t, jstr(j, "status"));
		table_colour(&t, fmt_status_colour(jstr(j, "status")));
		table_add_opt(&t, jint(j, "position") > 0, jint(j, "position"));
		table_add(&t, duration_format(jint(j, "time_limit"), tl, sizeof tl));
		start_cell(&t, j, now);
	}
	table_print(&t, stdout, fmt_colour_on());
	table_free(&t);
	if (cJSON_IsNumber(json_get(data, "ahead_of_you"))) {
		char n[48];
		printf("%s ahead of you\n", fmt_count(jint(data, "ahead_of_you"), "job", n, sizeof n));
	}
}

int cmd_queue(struct ctl *c, const struct ctl_args *a)
{
	const char *gpu = args_get(a, "gpu");
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	if (gpu)
		cJSON_AddStringToObject(args, "gpu_type", gpu);
	int rc = ctl_ask(c, "job.queue", args, &data);
	if (rc != 0)
		return rc;
	const cJSON *jobs = json_get(data, "jobs"), *j;
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		cJSON_ArrayForEach(j, jobs)
		{
			if (cJSON_IsNumber(json_get(j, "id")))
				printf("%lld\n", (long long)jint(j, "id"));
		}
	else if (cJSON_GetArraySize(jobs) == 0)
		fprintf(stderr, "no jobs in the queue%s%s\n", gpu ? " for " : "", gpu ? gpu : "");
	else
		print_queue(data);
	cJSON_Delete(data);
	return 0;
}
