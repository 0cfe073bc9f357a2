/* The one command table, shared by argv mode and the interactive shell:
 * every command with its usage, help, options and handler. What is printed
 * from it (help, the man page's COMMANDS section) is in help.c. */
#include <string.h>

#include "gpuctl/commands.h"

/* An option list for the table: OPTS({"gpu", 'g', "TYPE", "help"}, ...). */
#define OPTS(...) ((const struct ctl_opt[]){__VA_ARGS__, {0}})
#define PASSWORD_STDIN {"password-stdin", 0, NULL, "read the password as one line from standard input"}
#define DURATIONS "90s, 15m, 1h30m, 1.5h, 1d, or Slurm's MM:SS, HH:MM:SS, D-HH[:MM[:SS]]"

const struct ctl_opt ctl_global_opts[] = {
	{"socket", 's', "PATH", "the daemon's socket (default: $GPUAAS_SOCKET, else /run/gpuaas/gpuaasd.sock "
		"when it exists, else the per-user socket)"},
	{"json", 'j', NULL, "print JSON, the wire protocol's objects (as -o json)"},
	{"output", 'o', "FORMAT", "json, yaml, wide (more columns) or name (ids or names only, one a line)"},
	{"help", 'h', NULL, "show the command list, or a command's help"},
	{"version", 0, NULL, "show gpuctl's version"},
	{0},
};

const struct ctl_cmd ctl_commands[] = {
	{"login", "login [NAME] [--password-stdin]",
		"Log in as NAME (default: $USER) and make that account the current one. The password is asked "
		"without echo. Each account's token is kept per daemon, so logging in as someone else forgets "
		"nobody: gpuctl switch goes back (see FILES in gpuctl(1)).",
		OPTS(PASSWORD_STDIN), 0, 1, CMD_IDENTITY, cmd_login},
	{"logout", "logout", "Forget the current account's token.", NULL, 0, 0, CMD_IDENTITY, cmd_logout},
	{"switch", "switch [NAME]",
		"Make NAME's account, logged in earlier on this daemon, the current one. Without NAME, list the "
		"accounts kept for this daemon; the current one is marked with '*'.",
		NULL, 0, 1, CMD_IDENTITY, cmd_switch},
	{"whoami", "whoami", "Show your user name, role, quota and when your token expires.", NULL, 0, 0, 0,
		cmd_whoami},
	{"passwd", "passwd [--password-stdin]",
		"Change your password (at least 8 characters). Every older token of yours stops working; this "
		"session gets a fresh one.",
		OPTS({"password-stdin", 0, NULL, "read two lines from standard input: the old password, then the new one"}),
		0, 0, 0, cmd_passwd},
	{"submit", "submit [OPTIONS] [-- CMD [ARG...]]",
		"Ask for GPU time. Prints the new job's id alone (-o json: the whole job). The job reserves count x "
		"time GPU-seconds of your quota and waits for an admin's approval. The job's command comes after --.",
		OPTS({"gpu", 'g', "TYPE", "GPU type, in any case (default: the first type of the inventory)"},
			{"count", 'c', "N", "how many GPUs (default 1)"},
			{"time", 't', "DURATION", "time limit: " DURATIONS " (default: the daemon's)"},
			{"name", 'n', "NAME", "a name for the job"},
			{"like", 0, "ID", "start from job ID's type, count, time, name and command; what you give wins"}),
		0, 0, CMD_REST, cmd_submit},
	{"list", "list [-a] [-u NAME] [--state S,...] [--name PATTERN] [-n N] [-q]",
		"List your jobs, newest first: the time limit (TIME), how long a running job has run (ELAPSED) and "
		"when each was created. -o wide adds when jobs started and end, and why they wait or ended. In a "
		"terminal, a list cut at -n says so on standard error.",
		OPTS({"all", 'a', NULL, "every user's jobs (admins)"}, {"user", 'u', "NAME", "NAME's jobs (admins)"},
			{"state", 0, "S,...", "only jobs in these states: PENDING, APPROVED, RUNNING, COMPLETED, FAILED, "
				"CANCELLED, REJECTED"},
			{"name", 0, "PATTERN", "only jobs whose name matches PATTERN (*, ?, [...] as in the shell)"},
			{"limit", 'n', "N", "at most N jobs (default 100, at most 1000000)"},
			{"quiet", 'q', NULL, "ids only, one a line"}),
		0, 0, 0, cmd_list},
	{"show", "show ID",
		"Show one job in full; a running job says when it ends at the latest (its start plus its time "
		"limit).",
		NULL, 1, 1, CMD_JOB_IDS, cmd_show},
	{"cancel", "cancel (ID... | --all | --state S,...) [--yes]",
		"Cancel jobs (yours, or any as admin) that are PENDING, APPROVED or RUNNING. A job cancelled before "
		"it started costs nothing; a running one is charged what it ran. --all and --state cancel your own "
		"live jobs, after asking in a terminal.",
		OPTS({"all", 'a', NULL, "every live job of yours"},
			{"state", 0, "S,...", "your jobs in these states (PENDING, APPROVED, RUNNING)"},
			{"yes", 'y', NULL, "do not ask first"}),
		0, CTL_MANY, CMD_JOB_IDS | CMD_LIVE_IDS, cmd_cancel},
	{"wait", "wait ID... [--timeout DURATION]",
		"Wait until every job is final. Exit 0 if all COMPLETED, 1 if one ended otherwise (its reason is "
		"printed), 8 on timeout.",
		OPTS({"timeout", 't', "DURATION", "give up after DURATION (exit 8)"}), 1, CTL_MANY, CMD_JOB_IDS,
		cmd_wait},
	{"logs", "logs ID [-f] [--tail N] [-t]",
		"Print a job's output (executor local). A job that has not started, or that wrote nothing (every job "
		"of the simulated executor), is explained on standard error.",
		OPTS({"follow", 'f', NULL, "keep printing as the job writes, until it ends"},
			{"tail", 'n', "N", "only the last N lines (then follow with -f)"},
			{"timestamps", 't', NULL, "start each line with the local time gpuctl received it"}),
		1, 1, CMD_JOB_IDS, cmd_logs},
	{"gpus", "gpus", "Show the GPU inventory per type (total, busy, free) and which job holds each device.", NULL,
		0, 0, 0, cmd_gpus},
	{"quota", "quota", "Show your GPU-hours: remaining, reserved by live jobs, available.", NULL, 0, 0, 0,
		cmd_quota},
	{"admin", "admin COMMAND [ARG...]", "Administration: jobs waiting for approval, users and their quota.",
		NULL, 0, CTL_MANY, CMD_GROUP, cmd_group},
	{"admin pending", "admin pending [-q]", "List every PENDING job, oldest first.",
		OPTS({"quiet", 'q', NULL, "ids only, one a line"}), 0, 0, 0, cmd_admin_pending},
	{"admin approve", "admin approve ID...", "Approve PENDING jobs: they queue for GPUs.", NULL, 1, CTL_MANY,
		CMD_JOB_IDS | CMD_PENDING_IDS, cmd_admin_approve},
	{"admin reject", "admin reject ID... [--reason TEXT]", "Reject PENDING jobs; their reservation is released.",
		OPTS({"reason", 'r', "TEXT", "why, for the job's owner"}), 1, CTL_MANY, CMD_JOB_IDS | CMD_PENDING_IDS,
		cmd_admin_reject},
	{"admin useradd", "admin useradd NAME [--admin] [--quota DURATION] [--password-stdin]",
		"Create a user (names: lower-case letters, digits, '_', '.', '-', up to 32). The password (at least "
		"8 characters) is asked twice.",
		OPTS({"admin", 0, NULL, "with the admin role"},
			{"quota", 0, "DURATION", "GPU time to grant, such as 10h (default 0)"}, PASSWORD_STDIN),
		1, 1, 0, cmd_admin_useradd},
	{"admin userdel", "admin userdel NAME",
		"Delete a user: their tokens stop working and their live jobs are cancelled. History stays.", NULL, 1, 1,
		0, cmd_admin_userdel},
	{"admin users", "admin users", "List users with role and quota.", NULL, 0, 0, 0, cmd_admin_users},
	{"admin quota", "admin quota NAME (--set DURATION | --add DURATION)",
		"Set a user's remaining GPU time, or grant more. Every change is kept in the quota ledger.",
		OPTS({"set", 0, "DURATION", "make the remaining quota DURATION"},
			{"add", 0, "DURATION", "grant DURATION more"}),
		1, 1, 0, cmd_admin_quota},
	{"admin role", "admin role NAME (--admin | --no-admin)",
		"Grant or remove the admin role; effective at the user's next request.",
		OPTS({"admin", 0, NULL, "grant the admin role"}, {"no-admin", 0, NULL, "remove it"}), 1, 1, 0,
		cmd_admin_role},
	{"admin usage", "admin usage [USER]", "GPU-hours granted, charged and reserved per user, from the quota ledger.",
		NULL, 0, 1, 0, cmd_admin_usage},
	{"shell", "shell",
		"An interactive prompt (\"user@gpuaas> \") running the same commands without \"gpuctl\", over one "
		"connection. History is kept in ${XDG_STATE_HOME:-~/.local/state}/gpuaas/history (passwords are never "
		"part of a command line, so never in it). Tab completes commands, options, GPU types and job ids. "
		"Ctrl-C cancels the line being typed or the command running; exit or Ctrl-D leaves.",
		NULL, 0, 0, 0, cmd_shell},
	{"ping", "ping", "Check that the daemon answers (exit 0) or not (exit 7). For health checks.", NULL, 0, 0, 0,
		cmd_ping},
	{"version", "version", "Show gpuctl's version and the daemon's (when it answers).", NULL, 0, 0, 0,
		cmd_version},
	{"completion", "completion (bash | zsh)",
		"Print the completion script for bash or zsh, for example: source <(gpuctl completion bash).", NULL, 1,
		1, 0, cmd_completion},
	{"help", "help [COMMAND]", "Show the command list, or one command.",
		OPTS({"man", 0, NULL, "print the COMMANDS section of gpuctl(1) in scdoc (for the build)"}), 0, 2,
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
