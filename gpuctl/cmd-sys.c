/* Commands about gpuctl and the daemon themselves: ping, version, help,
 * completion, and a group name ("admin") given without a subcommand. */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"

/* The completion scripts, embedded at build time from gpuctl/completions/. */
extern const char gpuctl_completion_bash[];
extern const char gpuctl_completion_zsh[];

int cmd_ping(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "sys.ping", NULL, false, &data);
	cJSON_Delete(data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (ctl_structured(c)) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddTrueToObject(o, "pong");
		ctl_emit(c, o);
		cJSON_Delete(o);
	} else if (!c->in_shell) {
		printf("gpuaasd at %s answers\n", c->socket_path);
	}
	return 0;
}

int cmd_version(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "sys.ping", NULL, false, &data);
	const char *daemon = st == ST_OK ? jstr(data, "version") : "";
	if (ctl_structured(c)) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "gpuctl", GPUAAS_VERSION);
		if (*daemon)
			cJSON_AddStringToObject(o, "gpuaasd", daemon);
		else
			cJSON_AddNullToObject(o, "gpuaasd");
		cJSON_AddStringToObject(o, "socket", c->socket_path);
		ctl_emit(c, o);
		cJSON_Delete(o);
	} else {
		printf("gpuctl %s\n", GPUAAS_VERSION);
		if (*daemon)
			printf("gpuaasd %s at %s\n", daemon, c->socket_path);
		else
			fprintf(stderr, "gpuctl: gpuaasd does not answer at %s (%s)\n", c->socket_path, c->err);
	}
	cJSON_Delete(data);
	return 0;
}

int cmd_help(struct ctl *c, const struct ctl_args *a)
{
	if (args_has(a, "man")) {
		if (a->npos > 0)
			return ctl_fail(c, ST_USAGE, "help: --man takes no command");
		ctl_print_man(stdout);
		return 0;
	}
	if (a->npos == 0) {
		ctl_print_usage(stdout);
		return 0;
	}
	int used = 0;
	const struct ctl_cmd *cmd = ctl_find(a->npos, a->pos, &used);
	if (!cmd || used != a->npos || (cmd->flags & CMD_HIDDEN)) {
		const char *near = suggest_command(a->npos, a->pos);
		char words[256] = "";
		for (int i = 0; i < a->npos; i++)
			snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s", i ? " " : "", a->pos[i]);
		return ctl_fail(c, ST_USAGE, "help: unknown command '%s'%s%s%s", words, near ? "; did you mean " : "",
			near ? near : "", near ? "?" : "");
	}
	ctl_print_help(cmd, stdout);
	return 0;
}

int cmd_group(struct ctl *c, const struct ctl_args *a)
{
	const char *name = a->cmd->name;
	if (a->npos == 0)
		return ctl_fail(c, ST_USAGE, "%s: missing subcommand (see gpuctl help %s)", name, name);
	return ctl_fail(c, ST_USAGE, "%s: unknown subcommand '%s' (see gpuctl help %s)", name, a->pos[0], name);
}

int cmd_completion(struct ctl *c, const struct ctl_args *a)
{
	if (strcmp(a->pos[0], "bash") == 0)
		fputs(gpuctl_completion_bash, stdout);
	else if (strcmp(a->pos[0], "zsh") == 0)
		fputs(gpuctl_completion_zsh, stdout);
	else
		return ctl_fail(c, ST_USAGE, "completion: unknown shell '%s' (bash or zsh)", a->pos[0]);
	return 0;
}
