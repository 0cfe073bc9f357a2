/* Commands about gpuctl and the daemon themselves: ping, help, and a group
 * name ("admin") given without a known subcommand. */
#include <stdio.h>

#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"

int cmd_ping(struct ctl *c, const struct ctl_args *a)
{
	cJSON *data = NULL;
	enum status st = ctl_call(c, "sys.ping", NULL, false, &data);
	cJSON_Delete(data);
	if (st != ST_OK)
		return ctl_report(c, st);
	if (!c->in_shell)
		printf(c->json ? "{\"pong\":true}\n" : "gpuaasd at %s answers\n", c->socket_path);
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
	if (!cmd || used != a->npos)
		return ctl_fail(c, ST_USAGE, "help: unknown command '%s%s%s'", a->pos[0], a->npos > 1 ? " " : "",
			a->npos > 1 ? a->pos[1] : "");
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
