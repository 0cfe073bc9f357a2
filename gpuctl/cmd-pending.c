/* admin pending: the approval inbox, oldest first. Each PENDING job with
 * what deciding on it needs: its age and when it expires, what its owner
 * has available after it and used in the last 30 days, and when it would
 * start if approved now. -q and -o name print ids only, from brief rows
 * (list.c). */
#include <stdio.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/jobs.h"
#include "gpuctl/table.h"

/* A time member as "in 6d23h" / "14:20:00"; "never" or "-" when null. */
static void time_cell(struct table *t, const cJSON *j, const char *key, bool relative, int64_t now, const char *none)
{
	int64_t at = fmt_member_time(j, key);
	char b[64];
	if (at <= 0)
		table_add(t, none);
	else
		table_add(t, relative ? fmt_age(at, now, b, sizeof b) : fmt_when(at, now, b, sizeof b));
}

/* One inbox row (wide: the job's name and reason too). */
static void inbox_cells(struct table *t, const cJSON *j, int64_t now, bool wide)
{
	char tl[48];
	table_add_int(t, jint(j, "id"));
	if (wide)
		table_add(t, jstr(j, "name"));
	table_add(t, jstr(j, "owner"));
	table_add(t, jstr(j, "gpu_type"));
	table_add_int(t, jint(j, "gpu_count"));
	table_add(t, duration_format(jint(j, "time_limit"), tl, sizeof tl));
	time_cell(t, j, "created_at", true, now, "");
	time_cell(t, j, "expires_at", true, now, "never");
	table_add_hours(t, jint(j, "owner_available"));
	table_add_hours(t, jint(j, "owner_charged_30d"));
	time_cell(t, j, "estimated_start", false, now, "unknown");
	if (wide)
		table_add(t, jstr(j, "reason"));
}

static void print_inbox(const struct ctl *c, const cJSON *jobs)
{
	static const char *const heads[] = {"ID", "USER", "GPU", ">COUNT", ">TIME", "AGE", "EXPIRES", ">AVAILABLE",
		">USED 30D", "EST. START"};
	static const char *const wide_heads[] = {"ID", "NAME", "USER", "GPU", ">COUNT", ">TIME", "AGE", "EXPIRES",
		">AVAILABLE", ">USED 30D", "EST. START", "REASON"};
	bool wide = c->out == OUT_WIDE;
	struct table t;
	table_init(&t, wide ? 12 : 10, wide ? wide_heads : heads);
	int64_t now = (int64_t)time(NULL);
	const cJSON *j;
	cJSON_ArrayForEach(j, jobs) inbox_cells(&t, j, now, wide);
	table_print(&t, stdout, false);
	table_free(&t);
}

int pending_inbox(struct ctl *c)
{
	cJSON *base = cJSON_CreateObject(), *jobs = NULL, *rev = cJSON_CreateArray(), *j;
	int rc = base && rev && cJSON_AddTrueToObject(base, "inbox") ? jobs_fetch_full(c, base, NULL, 1000000, &jobs)
								       : ctl_fail(c, ST_INTERNAL, "out of memory");
	/* Newest first from the daemon; the inbox reads oldest first. */
	while (rc == 0 && (j = cJSON_DetachItemFromArray(jobs, 0)) != NULL)
		cJSON_InsertItemInArray(rev, 0, j);
	if (rc == 0 && ctl_structured(c)) {
		ctl_emit_list(c, "jobs", rev);
		rev = NULL;
	} else if (rc == 0 && cJSON_GetArraySize(rev) == 0) {
		fprintf(stderr, "no jobs waiting for approval\n");
	} else if (rc == 0) {
		print_inbox(c, rev);
	}
	cJSON_Delete(rev);
	cJSON_Delete(jobs);
	cJSON_Delete(base);
	return rc;
}
