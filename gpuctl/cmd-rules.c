/* admin rule add, list and del: the auto-approval rules. A job that
 * matches a rule when it is submitted is approved at once by "rule:N"
 * (within the rule's daily cap per user; quota is checked first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/table.h"

/* "T4, V100" as ["T4", "V100"] (empty items dropped). */
static cJSON *comma_array(const char *list)
{
	cJSON *arr = cJSON_CreateArray();
	for (const char *p = list; arr && *p;) {
		size_t len = strcspn(p, ",");
		char item[256];
		snprintf(item, sizeof item, "%.*s", (int)len, p);
		char *s = item + strspn(item, " ");
		for (size_t n = strlen(s); n > 0 && s[n - 1] == ' '; n--)
			s[n - 1] = '\0';
		if (*s)
			cJSON_AddItemToArray(arr, cJSON_CreateString(s));
		p += len + (p[len] == ',');
	}
	return arr;
}

/* A duration option into args[key] (seconds). 0 or EXIT_USAGE. */
static int add_duration(struct ctl *c, cJSON *args, const char *key, const char *opt, const char *text)
{
	int64_t secs;
	if (!text)
		return 0;
	if (parse_duration_opt(c, opt, text, &secs) < 0)
		return EXIT_USAGE;
	json_add_int(args, key, secs);
	return 0;
}

/* The options of rule add as rule.add's arguments. 0 or an exit code. */
static int rule_args(struct ctl *c, const struct ctl_args *a, cJSON *args)
{
	const char *gpu = args_get(a, "gpu"), *users = args_get(a, "user"), *count = args_get(a, "max-count");
	const char *note = args_get(a, "note");
	int64_t n;
	if (users && args_has(a, "all-users"))
		return ctl_fail(c, ST_USAGE, "admin rule add: give --user NAME,... or --all-users, not both");
	if (gpu)
		cJSON_AddItemToObject(args, "gpu_types", comma_array(gpu));
	if (users)
		cJSON_AddItemToObject(args, "users", comma_array(users));
	if (args_has(a, "all-users"))
		cJSON_AddStringToObject(args, "scope", "all");
	if (count && parse_count_opt(c, "--max-count", count, 1, 1000000, &n) < 0)
		return EXIT_USAGE;
	if (count)
		json_add_int(args, "max_count", n);
	if (note)
		cJSON_AddStringToObject(args, "note", note);
	int rc = add_duration(c, args, "max_time", "--max-time", args_get(a, "max-time"));
	return rc ? rc : add_duration(c, args, "daily_cap", "--daily-cap", args_get(a, "daily-cap"));
}

int cmd_admin_rule_add(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	if (!args)
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	int rc = rule_args(c, a, args);
	if (rc != 0) {
		cJSON_Delete(args);
		return rc;
	}
	if ((rc = ctl_ask(c, "rule.add", args, &data)) != 0)
		return rc;
	if (ctl_structured(c))
		ctl_emit(c, data);
	else
		printf("%lld\n", (long long)jint(data, "id"));
	cJSON_Delete(data);
	return 0;
}

/* A list member ("T4,V100"), or what null means. */
static void names_cell(struct table *t, const cJSON *list, const char *none)
{
	char buf[1024] = "";
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		size_t len = strlen(buf);
		snprintf(buf + len, sizeof buf - len, "%s%s", len ? "," : "", cJSON_IsString(it) ? it->valuestring : "?");
	}
	table_add(t, buf[0] ? buf : none);
}

/* A member in seconds as a duration, "-" when absent. */
static void duration_cell(struct table *t, const cJSON *r, const char *key)
{
	char b[48] = "";
	if (cJSON_IsNumber(json_get(r, key)))
		duration_format(jint(r, key), b, sizeof b);
	table_add(t, b);
}

/* Who a rule is for: its users, every non-admin, or everyone. */
static const char *scope_text(const cJSON *r)
{
	const char *scope = jstr(r, "scope");
	return strcmp(scope, "all") == 0 ? "everyone" : strcmp(scope, "non_admins") == 0 ? "non-admins" : "";
}

static void print_rules(const cJSON *rules)
{
	static const char *const heads[] = {"ID", "GPU", ">MAX COUNT", ">MAX TIME", "USERS", ">DAILY CAP",
		"CREATED", "BY", "NOTE"};
	struct table t;
	table_init(&t, 9, heads);
	int64_t now = (int64_t)time(NULL);
	const cJSON *r;
	cJSON_ArrayForEach(r, rules)
	{
		char when[48];
		table_add_int(&t, jint(r, "id"));
		names_cell(&t, json_get(r, "gpu_types"), "any");
		table_add_opt(&t, cJSON_IsNumber(json_get(r, "max_count")), jint(r, "max_count"));
		duration_cell(&t, r, "max_time");
		names_cell(&t, json_get(r, "users"), scope_text(r));
		duration_cell(&t, r, "daily_cap");
		table_add(&t, fmt_when(fmt_member_time(r, "created_at"), now, when, sizeof when));
		table_add(&t, jstr(r, "created_by"));
		table_add(&t, jstr(r, "note"));
	}
	table_print(&t, stdout, false);
	table_free(&t);
}

int cmd_admin_rule_list(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	(void)a;
	int rc = ctl_ask(c, "rule.list", NULL, &data);
	if (rc != 0)
		return rc;
	const cJSON *rules = json_get(data, "rules"), *r;
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		cJSON_ArrayForEach(r, rules) printf("%lld\n", (long long)jint(r, "id"));
	else if (cJSON_GetArraySize(rules) == 0)
		fprintf(stderr, "no rules: every job waits for an admin\n");
	else
		print_rules(rules);
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_rule_del(struct ctl *c, const struct ctl_args *a)
{
	int64_t id;
	if (parse_id(c, "rule", a->pos[0], &id) < 0)
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject(), *data = NULL;
	json_add_int(args, "id", id);
	int rc = ctl_ask(c, "rule.delete", args, &data);
	if (rc != 0)
		return rc;
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		printf("%lld\n", (long long)id);
	else
		printf("Deleted rule %lld\n", (long long)id);
	cJSON_Delete(data);
	return 0;
}
