/* Admin commands about users: useradd, userdel, users, quota, role. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"
#include "gpuctl/table.h"

/* The daemon's rule for user names (docs/PROTOCOL.md), checked before any
 * password is asked. */
static bool username_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Before asking for a password twice: is the caller an admin, and is the
 * name free? 0, or the exit code after the error. */
static int useradd_precheck(struct ctl *c, const char *name)
{
	if (!username_valid(name))
		return ctl_fail(c, ST_BAD_REQUEST, "invalid username '%.40s': 1-32 characters, lower-case letters, digits, "
			"'_', '.', '-', starting with a letter or '_'", name);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.list", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	int rc = 0;
	const cJSON *u;
	cJSON_ArrayForEach(u, json_get(data, "users"))
	{
		if (strcmp(jstr(u, "username"), name) == 0)
			rc = ctl_fail(c, ST_CONFLICT, "user '%s' already exists", name);
	}
	cJSON_Delete(data);
	return rc;
}

/* Reads the new user's password (twice from a terminal) into pw. 0 or an exit code. */
static int read_useradd_password(struct ctl *c, const char *name, bool from_stdin, char *pw, size_t size)
{
	char prompt[128];
	snprintf(prompt, sizeof prompt, "Password for new user %s: ", name);
	return read_new_password(c, prompt, "Again: ", from_stdin, pw, size);
}

int cmd_admin_useradd(struct ctl *c, const struct ctl_args *a)
{
	bool admin = args_has(a, "admin");
	const char *quota = args_get(a, "quota"), *name = a->pos[0];
	int64_t q = 0;
	if (quota && parse_duration_opt(c, "--quota", quota, &q) < 0)
		return EXIT_USAGE;
	char pw[4096];
	int rc = useradd_precheck(c, name);
	if (rc == 0)
		rc = read_useradd_password(c, name, args_has(a, "password-stdin"), pw, sizeof pw);
	if (rc != 0)
		goto wipe;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", name);
	cJSON_AddStringToObject(args, "password", pw);
	cJSON_AddBoolToObject(args, "is_admin", admin);
	json_add_int(args, "quota", q);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.create", args, true, &data);
	if (st != ST_OK) {
		rc = ctl_report(c, st);
		goto wipe;
	}
	char hours[64];
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		printf("%s\n", jstr(data, "username"));
	else
		printf("Created user %s (role: %s, quota %s)\n", jstr(data, "username"), admin ? "admin" : "user",
			fmt_gpu_hours(jint(json_get(data, "quota"), "remaining"), hours, sizeof hours));
	cJSON_Delete(data);
wipe:
	explicit_bzero(pw, sizeof pw);
	return rc;
}

int cmd_admin_userdel(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", a->pos[0]);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.delete", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	char n[64];
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		printf("%s\n", jstr(data, "username"));
	else
		printf("Deleted user %s (%s cancelled)\n", jstr(data, "username"),
			fmt_count(jint(data, "jobs_cancelled"), "live job", n, sizeof n));
	cJSON_Delete(data);
	return 0;
}

/* Prints a list of objects' "username" members, one a line (-o name). */
static void print_usernames(const cJSON *list)
{
	const cJSON *u;
	cJSON_ArrayForEach(u, list) printf("%s\n", jstr(u, "username"));
}

int cmd_admin_users(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.list", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c)) {
		ctl_emit(c, data);
	} else if (c->out == OUT_NAME) {
		print_usernames(json_get(data, "users"));
	} else {
		static const char *const heads[] = {"USERNAME", "ROLE", ">REMAINING", ">RESERVED", ">AVAILABLE"};
		struct table t;
		table_init(&t, 5, heads);
		const cJSON *u;
		cJSON_ArrayForEach(u, json_get(data, "users"))
		{
			const cJSON *q = json_get(u, "quota");
			table_add(&t, jstr(u, "username"));
			table_add(&t, cJSON_IsTrue(json_get(u, "is_admin")) ? "admin" : "user");
			table_add_hours(&t, jint(q, "remaining"));
			table_add_hours(&t, jint(q, "reserved"));
			table_add_hours(&t, jint(q, "available"));
		}
		table_print(&t, stdout, false);
		table_free(&t);
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_quota(struct ctl *c, const struct ctl_args *a)
{
	const char *set = args_get(a, "set"), *add = args_get(a, "add");
	if ((!set) == (!add))
		return ctl_fail(c, ST_USAGE, "admin quota: give --set DURATION or --add DURATION (usage: gpuctl %s)",
			a->cmd->usage);
	int64_t v;
	if (parse_duration_opt(c, set ? "--set" : "--add", set ? set : add, &v) < 0)
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", a->pos[0]);
	json_add_int(args, set ? "set" : "add", v);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.quota", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c)) {
		ctl_emit(c, data);
	} else if (c->out == OUT_NAME) {
		printf("%s\n", jstr(data, "username"));
	} else {
		printf("%s:\n", jstr(data, "username"));
		ctl_print_quota(c, json_get(data, "quota"), "  ");
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_role(struct ctl *c, const struct ctl_args *a)
{
	bool admin = args_has(a, "admin"), no_admin = args_has(a, "no-admin");
	if (admin == no_admin)
		return ctl_fail(c, ST_USAGE, "admin role: give --admin or --no-admin (usage: gpuctl %s)", a->cmd->usage);
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", a->pos[0]);
	cJSON_AddBoolToObject(args, "is_admin", admin);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.role", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		printf("%s\n", jstr(data, "username"));
	else
		printf("%s is now %s\n", jstr(data, "username"), cJSON_IsTrue(json_get(data, "is_admin")) ? "an admin" : "a user");
	cJSON_Delete(data);
	return 0;
}
