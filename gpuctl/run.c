/* Command dispatch: find the entry, answer --help, parse the arguments from
 * the entry's spec, call the handler. */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"
#include "gpuctl/run.h"

/* Whether "--help" or "-h" comes before any "--". */
static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* "unknown command 'lsit'; did you mean list?", or about a group's
 * subcommand ("admin rule bogus"). */
static int unknown_command(struct ctl *c, int argc, char **argv)
{
	const char *near = suggest_command(argc, argv);
	int used = 0;
	const struct ctl_cmd *group = ctl_find(argc, argv, &used);
	if (group && (group->flags & CMD_GROUP) && argc > used)
		return near ? ctl_fail(c, ST_USAGE, "%s: unknown subcommand '%s'; did you mean %s %s?", group->name,
				      argv[used], group->name, near)
			    : ctl_fail(c, ST_USAGE, "%s: unknown subcommand '%s' (see gpuctl help %s)", group->name,
				      argv[used], group->name);
	if (near)
		return ctl_fail(c, ST_USAGE, "unknown command '%s'; did you mean %s?", argv[0], near);
	return ctl_fail(c, ST_USAGE, "unknown command '%s' (see gpuctl help)", argv[0]);
}

int ctl_run(struct ctl *c, int argc, char **argv)
{
	if (argc < 1) {
		ctl_print_usage(stderr);
		return EXIT_USAGE;
	}
	int used = 0;
	const struct ctl_cmd *cmd = ctl_find(argc, argv, &used);
	if (!cmd || ((cmd->flags & CMD_GROUP) && argc > used && argv[used][0] != '-'))
		return unknown_command(c, argc, argv);
	argc -= used;
	argv += used;
	if (!(cmd->flags & CMD_RAW) && wants_help(argc, argv)) {
		ctl_print_help(cmd, stdout);
		return 0;
	}
	struct ctl_args a;
	c->cmd = cmd;
	int rc = ctl_args_parse(c, cmd, argc, argv, &a);
	if (rc != 0)
		goto out;
	if (a.version) {
		printf("gpuctl %s\n", GPUAAS_VERSION);
		goto out;
	}
	rc = cmd->fn(c, &a);
out:
	ctl_args_free(&a);
	c->cmd = NULL;
	return rc;
}
