/* The one command table, shared by argv mode and the interactive shell. */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"
#include "gpuctl/ctl.h"

const struct ctl_cmd ctl_commands[] = {
	{"login", cmd_login, "login [USER] [--password-stdin]",
		"Log in as USER (default: $USER). The password is asked without echo, or read as one line from "
		"standard input with --password-stdin. The token is cached (see FILES in gpuctl(1)).",
		"--password-stdin"},
	{"logout", cmd_logout, "logout", "Forget the cached token.", ""},
	{"whoami", cmd_whoami, "whoami", "Show your user name, role, quota and when your token expires.", ""},
	{"passwd", cmd_passwd, "passwd [--password-stdin]",
		"Change your password. With --password-stdin, standard input holds two lines: the old password, then "
		"the new one. Every older token of yours stops working; this session gets a fresh one.",
		"--password-stdin"},
	{"submit", cmd_submit, "submit [--gpu TYPE] [--count N] [--time DURATION] [--name NAME] [-- CMD [ARG...]]",
		"Ask for GPU time. Prints the new job's id (the whole job with --json). Defaults: the first GPU type "
		"of the inventory, 1 GPU, the daemon's default time. The job reserves count x time GPU-seconds of "
		"your quota and waits for an admin's approval.",
		"--gpu --count --time --name"},
	{"list", cmd_list, "list [-a|--all] [--state S[,S...]] [--user NAME] [-n|--limit N] [-q|--quiet]",
		"List your jobs, newest first (admins: --all or --user NAME for others'). -q prints ids only.",
		"--all --state --user --limit --quiet"},
	{"show", cmd_show, "show ID", "Show one job in full.", ""},
	{"cancel", cmd_cancel, "cancel ID...",
		"Cancel jobs (yours, or any as admin) that are PENDING, APPROVED or RUNNING. A job cancelled before "
		"it started costs nothing; a running one is charged what it ran.", ""},
	{"wait", cmd_wait, "wait ID... [--timeout DURATION]",
		"Wait until every job is final. Exit 0 if all COMPLETED, 1 if one ended otherwise, 8 on timeout.",
		"--timeout"},
	{"logs", cmd_logs, "logs ID [-f|--follow]",
		"Print a job's output (executor local). With -f, keep printing as the job writes until it ends.",
		"--follow"},
	{"gpus", cmd_gpus, "gpus", "Show the GPU inventory per type: total, busy, free.", ""},
	{"quota", cmd_quota, "quota", "Show your GPU-seconds: remaining, reserved by live jobs, available.", ""},
	{"admin pending", cmd_admin_pending, "admin pending [-q]", "List every PENDING job, oldest first.", "--quiet"},
	{"admin approve", cmd_admin_approve, "admin approve ID...", "Approve PENDING jobs: they queue for GPUs.", ""},
	{"admin reject", cmd_admin_reject, "admin reject ID... [--reason TEXT]",
		"Reject PENDING jobs; their reservation is released.", "--reason"},
	{"admin useradd", cmd_admin_useradd, "admin useradd NAME [--admin] [--quota DURATION] [--password-stdin]",
		"Create a user (names: lower-case letters, digits, '_', '.', '-', up to 32). The password is asked "
		"twice, or read as one line with --password-stdin.", "--admin --quota --password-stdin"},
	{"admin userdel", cmd_admin_userdel, "admin userdel NAME",
		"Delete a user: their tokens stop working and their live jobs are cancelled. History stays.", ""},
	{"admin users", cmd_admin_users, "admin users", "List users with role and quota.", ""},
	{"admin quota", cmd_admin_quota, "admin quota NAME (--set DURATION | --add DURATION)",
		"Set a user's remaining GPU-seconds, or grant more. Every change is kept in the quota ledger.",
		"--set --add"},
	{"admin role", cmd_admin_role, "admin role NAME (--admin | --no-admin)",
		"Grant or remove the admin role; effective at the user's next request.", "--admin --no-admin"},
	{"admin usage", cmd_admin_usage, "admin usage [USER]",
		"GPU-seconds granted, charged and reserved per user, from the quota ledger.", ""},
	{NULL, NULL, NULL, NULL, NULL},
};

const struct ctl_cmd *ctl_find(int argc, char **argv, int *used)
{
	if (argc < 1)
		return NULL;
	char two[128];
	if (argc >= 2) {
		snprintf(two, sizeof two, "%s %s", argv[0], argv[1]);
		for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
			if (strcmp(c->name, two) == 0) {
				*used = 2;
				return c;
			}
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

void ctl_print_help(const struct ctl_cmd *cmd, FILE *out)
{
	fprintf(out, "Usage: gpuctl [-s SOCKET] [-j] %s\n\n%s\n", cmd->usage, cmd->help);
}
