/* The one command table, shared by argv mode and the interactive shell, and
 * what is printed from it: the command list, one command's help and the
 * COMMANDS section of gpuctl(1). */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"

/* An option list for the table: OPTS({"gpu", 'g', "TYPE"}, ...). */
#define OPTS(...) ((const struct ctl_opt[]){__VA_ARGS__, {0}})
#define PASSWORD_STDIN {"password-stdin", 0, NULL}

const struct ctl_cmd ctl_commands[] = {
	{"login", "login [USER] [--password-stdin]",
		"Log in as USER (default: $USER). The password is asked without echo, or read as one line from "
		"standard input with --password-stdin. The token is cached (see FILES in gpuctl(1)).",
		OPTS(PASSWORD_STDIN), 0, 1, CMD_IDENTITY, cmd_login},
	{"logout", "logout", "Forget the cached token.", NULL, 0, 0, CMD_IDENTITY, cmd_logout},
	{"whoami", "whoami", "Show your user name, role, quota and when your token expires.", NULL, 0, 0, 0,
		cmd_whoami},
	{"passwd", "passwd [--password-stdin]",
		"Change your password. With --password-stdin, standard input holds two lines: the old password, then "
		"the new one. Every older token of yours stops working; this session gets a fresh one.",
		OPTS(PASSWORD_STDIN), 0, 0, 0, cmd_passwd},
	{"submit", "submit [--gpu TYPE] [--count N] [--time DURATION] [--name NAME] [-- CMD [ARG...]]",
		"Ask for GPU time. Prints the new job's id (the whole job with --json). Defaults: the first GPU type "
		"of the inventory, 1 GPU, the daemon's default time. The job reserves count x time GPU-seconds of "
		"your quota and waits for an admin's approval.",
		OPTS({"gpu", 'g', "TYPE"}, {"count", 'c', "N"}, {"time", 't', "DURATION"}, {"name", 'n', "NAME"}), 0, 0,
		CMD_REST, cmd_submit},
	{"list", "list [-a|--all] [--state S[,S...]] [--user NAME] [-n|--limit N] [-q|--quiet]",
		"List your jobs, newest first (admins: --all or --user NAME for others'). -q prints ids only.",
		OPTS({"all", 'a', NULL}, {"state", 0, "STATE"}, {"user", 'u', "NAME"}, {"limit", 'n', "N"},
			{"quiet", 'q', NULL}),
		0, 0, 0, cmd_list},
	{"show", "show ID", "Show one job in full.", NULL, 1, 1, CMD_JOB_IDS, cmd_show},
	{"cancel", "cancel ID...",
		"Cancel jobs (yours, or any as admin) that are PENDING, APPROVED or RUNNING. A job cancelled before "
		"it started costs nothing; a running one is charged what it ran.",
		NULL, 1, CTL_MANY, CMD_JOB_IDS, cmd_cancel},
	{"wait", "wait ID... [--timeout DURATION]",
		"Wait until every job is final. Exit 0 if all COMPLETED, 1 if one ended otherwise, 8 on timeout.",
		OPTS({"timeout", 't', "DURATION"}), 1, CTL_MANY, CMD_JOB_IDS, cmd_wait},
	{"logs", "logs ID [-f|--follow]",
		"Print a job's output (executor local). With -f, keep printing as the job writes until it ends.",
		OPTS({"follow", 'f', NULL}), 1, 1, CMD_JOB_IDS, cmd_logs},
	{"gpus", "gpus", "Show the GPU inventory per type: total, busy, free.", NULL, 0, 0, 0, cmd_gpus},
	{"quota", "quota", "Show your GPU-seconds: remaining, reserved by live jobs, available.", NULL, 0, 0, 0,
		cmd_quota},
	{"admin", "admin COMMAND [ARG...]", "Administration: jobs waiting for approval, users and their quota.",
		NULL, 0, CTL_MANY, CMD_GROUP, cmd_group},
	{"admin pending", "admin pending [-q]", "List every PENDING job, oldest first.", OPTS({"quiet", 'q', NULL}),
		0, 0, 0, cmd_admin_pending},
	{"admin approve", "admin approve ID...", "Approve PENDING jobs: they queue for GPUs.", NULL, 1, CTL_MANY,
		CMD_JOB_IDS, cmd_admin_approve},
	{"admin reject", "admin reject ID... [--reason TEXT]", "Reject PENDING jobs; their reservation is released.",
		OPTS({"reason", 'r', "TEXT"}), 1, CTL_MANY, CMD_JOB_IDS, cmd_admin_reject},
	{"admin useradd", "admin useradd NAME [--admin] [--quota DURATION] [--password-stdin]",
		"Create a user (names: lower-case letters, digits, '_', '.', '-', up to 32). The password is asked "
		"twice, or read as one line with --password-stdin.",
		OPTS({"admin", 0, NULL}, {"quota", 0, "DURATION"}, PASSWORD_STDIN), 1, 1, 0, cmd_admin_useradd},
	{"admin userdel", "admin userdel NAME",
		"Delete a user: their tokens stop working and their live jobs are cancelled. History stays.", NULL, 1, 1,
		0, cmd_admin_userdel},
	{"admin users", "admin users", "List users with role and quota.", NULL, 0, 0, 0, cmd_admin_users},
	{"admin quota", "admin quota NAME (--set DURATION | --add DURATION)",
		"Set a user's remaining GPU-seconds, or grant more. Every change is kept in the quota ledger.",
		OPTS({"set", 0, "DURATION"}, {"add", 0, "DURATION"}), 1, 1, 0, cmd_admin_quota},
	{"admin role", "admin role NAME (--admin | --no-admin)",
		"Grant or remove the admin role; effective at the user's next request.",
		OPTS({"admin", 0, NULL}, {"no-admin", 0, NULL}), 1, 1, 0, cmd_admin_role},
	{"admin usage", "admin usage [USER]", "GPU-seconds granted, charged and reserved per user, from the quota ledger.",
		NULL, 0, 1, 0, cmd_admin_usage},
	{"shell", "shell",
		"An interactive prompt (\"user@gpuaas> \") running the same commands without \"gpuctl\", over one "
		"connection. History is kept in ${XDG_STATE_HOME:-~/.local/state}/gpuaas/history (passwords are never "
		"part of a command line, so never in it). Tab completes commands, options, GPU types and job ids. help "
		"lists commands; exit or Ctrl-D leaves.",
		NULL, 0, 0, 0, cmd_shell},
	{"ping", "ping", "Check that the daemon answers (exit 0) or not (exit 7). For health checks.", NULL, 0, 0, 0,
		cmd_ping},
	{"help", "help [COMMAND]", "Show the command list, or one command.", OPTS({"man", 0, NULL}), 0, 2,
		CMD_COMMANDS, cmd_help},
	{"__complete", "__complete WORD... -- CURRENT",
		"Completion candidates for the bash and zsh scripts: WORDs are the words typed after \"gpuctl\", "
		"CURRENT the one being typed.",
		NULL, 0, CTL_MANY, CMD_HIDDEN | CMD_RAW, cmd_complete},
	{NULL, NULL, NULL, NULL, 0, 0, 0, NULL},
};

const struct ctl_cmd *ctl_find(int argc, char **argv, int *used)
{
	if (argc < 1)
		return NULL;
	size_t len0 = strlen(argv[0]);
	/* Two words ("admin approve") win over one ("admin"). */
	for (const struct ctl_cmd *c = ctl_commands; c->name && argc >= 2; c++) {
		if (strncmp(c->name, argv[0], len0) == 0 && c->name[len0] == ' ' && strcmp(c->name + len0 + 1, argv[1]) == 0) {
			*used = 2;
			return c;
		}
	}
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		if (strcmp(c->name, argv[0]) == 0) {
			*used = 1;
			return c;
		}
	}
	return NULL;
}

bool ctl_cmd_listed(const struct ctl_cmd *cmd)
{
	/* A group is listed through its subcommands. */
	return !(cmd->flags & (CMD_HIDDEN | CMD_GROUP));
}

void ctl_print_help(const struct ctl_cmd *cmd, FILE *out)
{
	fprintf(out, "Usage: gpuctl [-s SOCKET] [-j] %s\n\n%s\n", cmd->usage, cmd->help);
	if (!(cmd->flags & CMD_GROUP))
		return;
	size_t len = strlen(cmd->name);
	fprintf(out, "\nCommands:\n");
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
		if (strncmp(c->name, cmd->name, len) == 0 && c->name[len] == ' ' && ctl_cmd_listed(c))
			fprintf(out, "  %s\n", c->usage);
}

void ctl_print_usage(FILE *out)
{
	fprintf(out, "Usage: gpuctl [-s|--socket PATH] [-j|--json] COMMAND [ARGS...]\n"
		     "       gpuctl help [COMMAND]    gpuctl --version\n\n"
		     "GPU-as-a-Service client: ask for GPU time, wait for approval, run, get charged.\n\n"
		     "Commands:\n");
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
		if (ctl_cmd_listed(c))
			fprintf(out, "  %s\n", c->usage);
	fprintf(out, "\nExit codes: 0 ok, 1 failed, 2 usage, 3 not authenticated, 4 forbidden, 5 not found,\n"
		     "6 quota exceeded, 7 daemon unreachable, 8 timed out, 9 try again later.\n"
		     "See gpuctl(1).\n");
}

/* Writes s escaped for scdoc (which gives '*', '_' and '\\' meaning). */
static void scd_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void ctl_print_man(FILE *out)
{
	/* The same entries as the command list, so the two never disagree. */
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		if (!ctl_cmd_listed(c))
			continue;
		fputc('*', out);
		scd_escaped(out, c->usage);
		fprintf(out, "*\n\t");
		scd_escaped(out, c->help);
		fprintf(out, "\n\n");
	}
}
