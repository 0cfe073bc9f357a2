/* Account commands: login, logout, switch, whoami, passwd, quota. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"
#include "gpuctl/fmt.h"

static const char *role_of(const cJSON *u)
{
	return cJSON_IsTrue(json_get(u, "is_admin")) ? "admin" : "user";
}

/* Prints the login's result; previous: the account current before it. */
static void print_login(const struct ctl *c, const cJSON *data, const char *previous)
{
	const cJSON *u = json_get(data, "user");
	const char *name = jstr(u, "username");
	if (ctl_structured(c)) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "username", name);
		cJSON_AddBoolToObject(o, "is_admin", cJSON_IsTrue(json_get(u, "is_admin")));
		cJSON_AddStringToObject(o, "token_expires_at", jstr(data, "expires_at"));
		ctl_emit(c, o);
		cJSON_Delete(o);
		return;
	}
	if (c->out == OUT_NAME) {
		printf("%s\n", name);
		return;
	}
	char until[96];
	int64_t now = (int64_t)time(NULL);
	printf("Logged in as %s (role: %s); the token is valid until %s\n", name, role_of(u),
		fmt_when_age(fmt_member_time(data, "expires_at"), now, until, sizeof until));
	if (previous[0] && strcmp(previous, name) != 0)
		printf("%s's token is kept: gpuctl switch %s goes back\n", previous, previous);
}

int cmd_login(struct ctl *c, const struct ctl_args *a)
{
	bool from_stdin = args_has(a, "password-stdin");
	const char *user = a->npos ? a->pos[0] : getenv("USER");
	if (!user || !*user)
		return ctl_fail(c, ST_USAGE, "login: give a user name (gpuctl login NAME)");
	char password[4096], prompt[128], previous[65] = "";
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
	const char *token = jstr(data, "token"), *name = jstr(json_get(data, "user"), "username");
	int rc = 0;
	if (!*token || !*name) {
		rc = ctl_fail(c, ST_INTERNAL, "the daemon sent no token");
		goto out;
	}
	/* In a shell started with $GPUAAS_TOKEN, the new identity lives in memory only. */
	if (!c->in_shell || !getenv("GPUAAS_TOKEN")) {
		account_current(c, previous, sizeof previous);
		if (account_save(c, name, token) < 0) {
			rc = ctl_report(c, ST_INTERNAL);
			goto out;
		}
	}
	free(c->token);
	c->token = strdup(token);
	print_login(c, data, previous);
out:
	cJSON_Delete(data);
	return rc;
}

/* account_list's callback: names of the accounts, with the current one. */
struct names {
	char list[512];
	char current[65];
	int n;
	cJSON *arr; /* -o json: [{"username", "current"}] */
	const struct ctl *c;
};

static void add_name(void *arg, const char *user, bool current)
{
	struct names *nm = arg;
	size_t len = strlen(nm->list);
	snprintf(nm->list + len, sizeof nm->list - len, "%s%s", len ? ", " : "", user);
	if (current)
		snprintf(nm->current, sizeof nm->current, "%s", user);
	nm->n++;
	if (nm->arr) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "username", user);
		cJSON_AddBoolToObject(o, "current", current);
		cJSON_AddItemToArray(nm->arr, o);
	} else if (nm->c && nm->c->out == OUT_NAME) {
		printf("%s\n", user);
	} else if (nm->c) {
		printf("%s %s\n", current ? "*" : " ", user);
	}
}

int cmd_logout(struct ctl *c, const struct ctl_args *a)
{
	char name[65];
	account_current(c, name, sizeof name);
	if (token_remove(c) < 0 || (name[0] && account_forget(c, name) < 0))
		return ctl_report(c, ST_INTERNAL);
	free(c->token);
	c->token = NULL;
	struct names others = {.n = 0};
	account_list(c, add_name, &others);
	if (ctl_structured(c)) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddTrueToObject(o, "logged_out");
		if (name[0])
			cJSON_AddStringToObject(o, "username", name);
		ctl_emit(c, o);
		cJSON_Delete(o);
	} else if (c->out != OUT_NAME) {
		printf("Logged out%s%s\n", name[0] ? " " : "", name);
		if (others.n)
			printf("Still kept for this daemon: %s (gpuctl switch NAME)\n", others.list);
	}
	return 0;
}

/* switch without NAME: the accounts kept for this daemon. */
static int list_accounts(struct ctl *c)
{
	struct names nm = {.c = c, .arr = ctl_structured(c) ? cJSON_CreateArray() : NULL};
	int n = account_list(c, add_name, &nm);
	if (n < 0) {
		cJSON_Delete(nm.arr);
		return ctl_report(c, ST_INTERNAL);
	}
	if (nm.arr) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "accounts", nm.arr);
		ctl_emit(c, o);
		cJSON_Delete(o);
	} else if (n == 0) {
		fprintf(stderr, "no accounts kept for gpuaasd at %s: gpuctl login NAME adds one\n", c->socket_path);
	}
	return 0;
}

int cmd_switch(struct ctl *c, const struct ctl_args *a)
{
	if (a->npos == 0)
		return list_accounts(c);
	const char *user = a->pos[0];
	bool missing;
	char *tok = account_token(c, user, &missing);
	if (!tok && missing)
		return ctl_fail(c, ST_UNAUTHENTICATED, "switch: no account '%s' kept for gpuaasd at %s: gpuctl login %s",
			user, c->socket_path, user);
	if (!tok)
		return ctl_report(c, ST_UNAUTHENTICATED);
	cJSON *data = NULL;
	enum status st = ctl_call_as(c, tok, "auth.whoami", NULL, &data);
	int rc = 0;
	if (st == ST_UNAUTHENTICATED) {
		char why[sizeof c->err];
		snprintf(why, sizeof why, "%s", c->err);
		account_forget(c, user);
		rc = ctl_fail(c, st, "switch: %s's token no longer works (%s): gpuctl login %s", user, why, user);
		goto out;
	}
	if (st != ST_OK || token_store(c, tok) < 0) {
		rc = ctl_report(c, st != ST_OK ? st : ST_INTERNAL);
		goto out;
	}
	free(c->token);
	c->token = tok;
	tok = NULL;
	if (ctl_structured(c))
		ctl_emit(c, data);
	else if (c->out == OUT_NAME)
		printf("%s\n", jstr(data, "username"));
	else
		printf("Switched to %s (role: %s)\n", jstr(data, "username"), role_of(data));
out:
	free(tok);
	cJSON_Delete(data);
	return rc;
}

int cmd_whoami(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "auth.whoami", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c)) {
		ctl_emit(c, data);
	} else if (c->out == OUT_NAME) {
		printf("%s\n", jstr(data, "username"));
	} else {
		char until[96];
		printf("username: %s\n", jstr(data, "username"));
		printf("role:     %s\n", role_of(data));
		printf("quota:\n");
		ctl_print_quota(c, json_get(data, "quota"), "  ");
		printf("token expires: %s\n", fmt_when_age(fmt_member_time(data, "token_expires_at"),
						  (int64_t)time(NULL), until, sizeof until));
	}
	cJSON_Delete(data);
	return 0;
}

/* Reads the old and the new password (twice from a terminal). 0 or an exit code. */
static int read_passwords(struct ctl *c, bool from_stdin, char *old_pw, char *new_pw, size_t size)
{
	if (read_password(c, "Current password: ", from_stdin, old_pw, size) < 0)
		return ctl_report(c, ST_USAGE);
	return read_new_password(c, "New password: ", "New password again: ", from_stdin, new_pw, size);
}

int cmd_passwd(struct ctl *c, const struct ctl_args *a)
{
	char old_pw[4096], new_pw[4096];
	int rc = read_passwords(c, args_has(a, "password-stdin"), old_pw, new_pw, sizeof old_pw);
	if (rc != 0)
		goto wipe;
	cJSON *args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "old_password", old_pw);
	cJSON_AddStringToObject(args, "new_password", new_pw);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "auth.passwd", args, true, &data);
	if (st != ST_OK) {
		rc = ctl_report(c, st);
		goto wipe;
	}
	/* Older tokens are dead now, ours included: keep the fresh one. */
	const char *token = jstr(data, "token"), *name = jstr(data, "username");
	if (*token && !getenv("GPUAAS_TOKEN") && account_save(c, name, token) < 0) {
		rc = ctl_report(c, ST_INTERNAL);
	} else {
		free(c->token);
		c->token = *token ? strdup(token) : NULL;
		if (ctl_structured(c)) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "username", name);
			cJSON_AddTrueToObject(o, "password_changed");
			ctl_emit(c, o);
			cJSON_Delete(o);
		} else
			printf("Password changed for %s; other sessions must log in again\n", name);
	}
	cJSON_Delete(data);
wipe:
	explicit_bzero(old_pw, sizeof old_pw);
	explicit_bzero(new_pw, sizeof new_pw);
	return rc;
}

int cmd_quota(struct ctl *c, const struct ctl_args *a)
{
	if (c->out == OUT_NAME)
		return ctl_no_names(c);
	cJSON *data = NULL;
	enum status st = ctl_call(c, "quota.get", NULL, true, &data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c))
		ctl_emit(c, data);
	else
		ctl_print_quota(c, data, "");
	cJSON_Delete(data);
	return 0;
}
