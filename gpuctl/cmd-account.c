/* Account commands: login, logout, whoami, passwd, quota, admin user*. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"

static void print_quota_lines(const cJSON *q, const char *indent)
{
	char b[96];
	printf("%sremaining: %s\n", indent, fmt_secs(jint(q, "remaining"), b, sizeof b));
	printf("%sreserved:  %s\n", indent, fmt_secs(jint(q, "reserved"), b, sizeof b));
	printf("%savailable: %s\n", indent, fmt_secs(jint(q, "available"), b, sizeof b));
}

int cmd_login(struct ctl *c, const struct ctl_args *a)
{
	bool from_stdin = args_has(a, "password-stdin");
	const char *user = a->npos ? a->pos[0] : getenv("USER");
	if (!user || !*user)
		return ctl_fail(c, ST_USAGE, "login: give a username (gpuctl login USER)");
	char password[4096];
	char prompt[128];
	snprintf(prompt, sizeof prompt, "Password for %s: ", user);
	if (read_password(c, prompt, from_stdin, password, sizeof password) < 0)
		return ctl_report(c, ST_USAGE);
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", user);
	cJSON_AddStringToObject(args, "password", password);
	explicit_bzero(password, sizeof password);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "auth.login", args, false, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	const char *token = jstr(data, "token");
	int rc = 0;
	if (!*token) {
		rc = ctl_fail(c, ST_INTERNAL, "the daemon sent no token");
		goto out;
	}
	if (!c->in_shell || !getenv("GPUAAS_TOKEN")) {
		if (token_store(c, token) < 0) {
			rc = ctl_report(c, ST_INTERNAL);
			goto out;
		}
	}
	free(c->token);
	c->token = strdup(token);
	const cJSON *u = json_get(data, "user");
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "username", jstr(u, "username"));
		cJSON_AddBoolToObject(o, "is_admin", cJSON_IsTrue(json_get(u, "is_admin")));
		cJSON_AddStringToObject(o, "token_expires_at", jstr(data, "expires_at"));
		print_json(o);
		cJSON_Delete(o);
	} else {
		printf("Logged in as %s%s (token valid until %s)\n", jstr(u, "username"),
			cJSON_IsTrue(json_get(u, "is_admin")) ? " (admin)" : "", jstr(data, "expires_at"));
	}
out:
	cJSON_Delete(data);
	return rc;
}

int cmd_logout(struct ctl *c, const struct ctl_args *a)
{
	if (token_remove(c) < 0)
		return ctl_report(c, ST_INTERNAL);
	free(c->token);
	c->token = NULL;
	if (!c->json)
		printf("Logged out\n");
	else
		printf("{\"logged_out\":true}\n");
	return 0;
}

int cmd_whoami(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "auth.whoami", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json) {
		print_json(data);
	} else {
		printf("username: %s\n", jstr(data, "username"));
		printf("role:     %s\n", cJSON_IsTrue(json_get(data, "is_admin")) ? "admin" : "user");
		printf("quota:\n");
		print_quota_lines(json_get(data, "quota"), "  ");
		printf("token expires: %s\n", jstr(data, "token_expires_at"));
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_passwd(struct ctl *c, const struct ctl_args *a)
{
	bool from_stdin = args_has(a, "password-stdin");
	char old_pw[4096], new_pw[4096], again[4096];
	if (read_password(c, "Current password: ", from_stdin, old_pw, sizeof old_pw) < 0 ||
	    read_password(c, "New password: ", from_stdin, new_pw, sizeof new_pw) < 0)
		return ctl_report(c, ST_USAGE);
	if (!from_stdin) {
		if (read_password(c, "New password again: ", false, again, sizeof again) < 0)
			return ctl_report(c, ST_USAGE);
		if (strcmp(again, new_pw) != 0)
			return ctl_fail(c, ST_USAGE, "passwd: the new passwords do not match");
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "old_password", old_pw);
	cJSON_AddStringToObject(args, "new_password", new_pw);
	explicit_bzero(old_pw, sizeof old_pw);
	explicit_bzero(new_pw, sizeof new_pw);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "auth.passwd", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	/* Older tokens are dead now, ours included: keep the fresh one. */
	const char *token = jstr(data, "token");
	if (*token && !getenv("GPUAAS_TOKEN")) {
		if (token_store(c, token) < 0) {
			cJSON_Delete(data);
			return ctl_report(c, ST_INTERNAL);
		}
		free(c->token);
		c->token = strdup(token);
	}
	if (c->json)
		printf("{\"username\":\"%s\",\"password_changed\":true}\n", jstr(data, "username"));
	else
		printf("Password changed for %s; other sessions must log in again\n", jstr(data, "username"));
	cJSON_Delete(data);
	return 0;
}

int cmd_quota(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "quota.get", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json)
		print_json(data);
	else
		print_quota_lines(data, "");
	cJSON_Delete(data);
	return 0;
}

static int parse_duration_arg(struct ctl *c, const char *what, const char *text, int64_t *out)
{
	if (duration_parse(text, out) < 0)
		return ctl_fail(c, ST_USAGE, "%s: '%s' is not a duration (like 90, 90s, 15m, 2h, 1h30m, 1d)", what,
			text);
	return 0;
}

int cmd_admin_useradd(struct ctl *c, const struct ctl_args *a)
{
	bool admin = args_has(a, "admin"), from_stdin = args_has(a, "password-stdin");
	const char *quota = args_get(a, "quota"), *name = a->pos[0];
	int64_t q = 0;
	if (quota && parse_duration_arg(c, "useradd --quota", quota, &q))
		return EXIT_USAGE;
	char pw[4096], again[4096], prompt[128];
	snprintf(prompt, sizeof prompt, "Password for new user %s: ", name);
	if (read_password(c, prompt, from_stdin, pw, sizeof pw) < 0)
		return ctl_report(c, ST_USAGE);
	if (!from_stdin) {
		if (read_password(c, "Again: ", false, again, sizeof again) < 0)
			return ctl_report(c, ST_USAGE);
		if (strcmp(pw, again) != 0)
			return ctl_fail(c, ST_USAGE, "useradd: the passwords do not match");
	}
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", name);
	cJSON_AddStringToObject(args, "password", pw);
	cJSON_AddBoolToObject(args, "is_admin", admin);
	cJSON_AddNumberToObject(args, "quota", (double)q);
	explicit_bzero(pw, sizeof pw);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.create", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json)
		print_json(data);
	else
		printf("Created user %s%s\n", jstr(data, "username"), admin ? " (admin)" : "");
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_userdel(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", a->pos[0]);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.delete", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json)
		print_json(data);
	else
		printf("Deleted user %s (%lld live jobs cancelled)\n", jstr(data, "username"),
			(long long)jint(data, "jobs_cancelled"));
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_users(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.list", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json) {
		print_json(data);
	} else {
		printf("%-32s  %-5s  %12s  %12s  %12s\n", "USERNAME", "ROLE", "REMAINING", "RESERVED", "AVAILABLE");
		const cJSON *u;
		cJSON_ArrayForEach(u, json_get(data, "users"))
		{
			const cJSON *q = json_get(u, "quota");
			char rem[32], res[32], avail[32];
			printf("%-32s  %-5s  %12s  %12s  %12s\n", jstr(u, "username"),
				cJSON_IsTrue(json_get(u, "is_admin")) ? "admin" : "user",
				duration_format(jint(q, "remaining"), rem, sizeof rem),
				duration_format(jint(q, "reserved"), res, sizeof res),
				duration_format(jint(q, "available"), avail, sizeof avail));
		}
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_quota(struct ctl *c, const struct ctl_args *a)
{
	const char *set = args_get(a, "set"), *add = args_get(a, "add");
	if ((!set) == (!add))
		return ctl_fail(c, ST_USAGE, "usage: gpuctl %s", a->cmd->usage);
	int64_t v;
	if (parse_duration_arg(c, set ? "quota --set" : "quota --add", set ? set : add, &v))
		return EXIT_USAGE;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", a->pos[0]);
	cJSON_AddNumberToObject(args, set ? "set" : "add", (double)v);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.quota", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json) {
		print_json(data);
	} else {
		printf("%s:\n", jstr(data, "username"));
		print_quota_lines(json_get(data, "quota"), "  ");
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_role(struct ctl *c, const struct ctl_args *a)
{
	bool admin = args_has(a, "admin"), no_admin = args_has(a, "no-admin");
	if (admin == no_admin)
		return ctl_fail(c, ST_USAGE, "usage: gpuctl %s", a->cmd->usage);
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "username", a->pos[0]);
	cJSON_AddBoolToObject(args, "is_admin", admin);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "user.role", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json)
		print_json(data);
	else
		printf("%s is now %s\n", jstr(data, "username"), cJSON_IsTrue(json_get(data, "is_admin")) ? "an admin" : "a user");
	cJSON_Delete(data);
	return 0;
}

int cmd_admin_usage(struct ctl *c, const struct ctl_args *a)
{
	cJSON *args = cJSON_CreateObject();
	if (a->npos == 1)
		cJSON_AddStringToObject(args, "username", a->pos[0]);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "usage.report", args, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (c->json) {
		print_json(data);
	} else {
		printf("%-32s  %12s  %12s  %12s  %12s  %6s\n", "USERNAME", "GRANTED", "CHARGED", "RESERVED", "REMAINING",
			"JOBS");
		const cJSON *u;
		cJSON_ArrayForEach(u, json_get(data, "users"))
		{
			char gr[32], ch[32], res[32], rem[32];
			printf("%-32s  %12s  %12s  %12s  %12s  %6lld\n", jstr(u, "username"),
				duration_format(jint(u, "granted"), gr, sizeof gr),
				duration_format(jint(u, "charged"), ch, sizeof ch),
				duration_format(jint(u, "reserved"), res, sizeof res),
				duration_format(jint(u, "remaining"), rem, sizeof rem), (long long)jint(u, "jobs_charged"));
		}
	}
	cJSON_Delete(data);
	return 0;
}
