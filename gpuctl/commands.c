/* The one command table, shared by argv mode and the interactive shell:
 * every command with its usage, help, options and handler. What is printed
 * from it (help, the man page's COMMANDS section) is in help.c. */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"

/* An option list for the table: OPTS({"gpu", 'g', "TYPE", "help"}, ...). */
#define OPTS(...) ((const struct ctl_opt[]){__VA_ARGS__, {0}})
#define PASSWORD_STDIN {"password-stdin", 0, NULL, "read the password as one line from standard input"}
/* admin approve and reject: every PENDING job, narrowed by user and type. */
#define ALL_PENDING {"all-pending", 0, NULL, "every PENDING job (of --user, of --gpu)"}, \
	{"user", 'u', "NAME", "with --all-pending: only NAME's jobs"}, \
	{"gpu", 'g', "TYPE", "with --all-pending: only jobs for this GPU type"}
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
		"time GPU-seconds of your quota and waits for an admin's approval, unless an auto-approval rule "
		"approves it at once. The job's command comes after --. --dry-run stores nothing and says what "
		"would happen: the reservation, the quota left after it, whether a rule would approve it, when it "
		"would start; or the error, with the exit code, a real submit would give.",
		OPTS({"gpu", 'g', "TYPE", "GPU type, in any case (default: the daemon's default type)"},
			{"count", 'c', "N", "how many GPUs (default 1)"},
			{"time", 't', "DURATION", "time limit: " DURATIONS " (default: the daemon's)"},
			{"name", 'n', "NAME", "a name for the job"},
			{"like", 0, "ID", "start from job ID's type, count, time, name and command; what you give wins"},
			{"dry-run", 0, NULL, "store nothing: say what would happen"},
			{"chdir", 'C', "DIR", "where the job starts when it runs as your own account (default: here)"},
			{"env", 'e', "KEY=VAL", "set a variable in the job's environment (repeatable)"},
			{"export", 0, "NAME", "pass variable NAME from this environment to the job (repeatable)"}),
		0, 0, CMD_REST, cmd_submit},
	{"list", "list [-a] [-u NAME] [--state S,...] [--name PAT] [-n N] [-q] [-w]",
		"List your jobs, newest first: the time limit (TIME), how long a running job has run (ELAPSED) and "
		"when each was created. -o wide adds when jobs started and end, and why they wait or ended. In a "
		"terminal, a list cut at -n says so on standard error. --watch draws the list again whenever one of "
		"the events you may see happens (no polling), until Ctrl-C.",
		OPTS({"all", 'a', NULL, "every user's jobs (admins)"}, {"user", 'u', "NAME", "NAME's jobs (admins)"},
			{"state", 0, "S,...", "only jobs in these states: PENDING, APPROVED, RUNNING, COMPLETED, FAILED, "
				"CANCELLED, REJECTED, EXPIRED"},
			{"name", 0, "PATTERN", "only jobs whose name matches PATTERN (*, ?, [...] as in the shell)"},
			{"limit", 'n', "N", "at most N jobs (default 100, at most 1000000)"},
			{"quiet", 'q', NULL, "ids only, one a line"},
			{"watch", 'w', NULL, "draw the list again on every change, until Ctrl-C"}),
		0, 0, 0, cmd_list},
	{"queue", "queue [--gpu TYPE]",
		"Show every live job, as squeue does: per GPU type the running jobs, then the approved ones in queue "
		"order (POS) and the pending ones, with their time limit and when each started or will start at "
		"the latest (START, \"by\" an estimate). Other users' jobs never show their name, and show their "
		"id and user only if the daemon says so (--queue-visibility full); otherwise they read (other). The "
		"last line says how many jobs are ahead of your first approved one.",
		OPTS({"gpu", 'g', "TYPE", "only the jobs of this GPU type"}), 0, 0, 0, cmd_queue},
	{"show", "show ID",
		"Show one job in full. A waiting job says when it starts at the latest (starts by; a pending one: if "
		"approved now), a running one when it ends at the latest (its start plus its time limit). With "
		"GPU-type weights the job's weight is shown, under the Slurm executor its Slurm job id.",
		NULL, 1, 1, CMD_JOB_IDS, cmd_show},
	{"cancel", "cancel (ID... | --all | --state S,...) [--yes] [--wait]",
		"Cancel jobs (yours, or any as admin) that are PENDING, APPROVED or RUNNING. A job cancelled before "
		"it started costs nothing; a running one is charged what it ran. A running job whose processes are "
		"still being stopped prints as CANCELLING; --wait waits until each job is gone and prints how it "
		"ended, as docker stop does. --all and --state cancel your own live jobs, after asking in a "
		"terminal.",
		OPTS({"all", 'a', NULL, "every live job of yours"},
			{"state", 0, "S,...", "your jobs in these states (PENDING, APPROVED, RUNNING)"},
			{"yes", 'y', NULL, "do not ask first"},
			{"wait", 'w', NULL, "return when the jobs are gone, not when they were told to stop"}),
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
	{"events", "events [--since SEQ] [--job ID] [-f]",
		"Print the event log, oldest first: every job state change and every admin action you may see (your "
		"own jobs and account; admins: all), one line each: local time, sequence number, actor (a user, "
		"gpuaasd, or rule:N), kind, job, user, details. -o json prints one object per line. -f goes on "
		"printing events as they happen until Ctrl-C; after a daemon restart it connects again and goes on "
		"after the last event it printed.",
		OPTS({"since", 0, "SEQ", "only events after sequence number SEQ"},
			{"job", 0, "ID", "only the events of job ID"},
			{"follow", 'f', NULL, "keep printing new events, until Ctrl-C"}),
		0, 0, 0, cmd_events},
	{"gpus", "gpus", "Show the GPU inventory per type (total, busy, free) and which job holds each device.", NULL,
		0, 0, 0, cmd_gpus},
	{"quota", "quota", "Show your GPU-hours: remaining, reserved by live jobs, available.", NULL, 0, 0, 0,
		cmd_quota},
	{"admin", "admin COMMAND [ARG...]",
		"Administration: the approval inbox, auto-approval rules, users, their quota and usage, and the "
		"audit log.",
		NULL, 0, CTL_MANY, CMD_GROUP, cmd_group},
	{"admin pending", "admin pending [-q]",
		"The approval inbox: every PENDING job, oldest first, with what deciding needs: its AGE and when it "
		"EXPIRES (not approved in time, it ends EXPIRED), the quota its user has AVAILABLE once it is "
		"reserved, what the user was charged in the last 30 days (USED 30D), and when it would start if "
		"approved now (EST. START). -o json carries the same fields.",
		OPTS({"quiet", 'q', NULL, "ids only, one a line"}), 0, 0, 0, cmd_admin_pending},
	{"admin approve", "admin approve (ID... | --all-pending [--user NAME] [--gpu TYPE])",
		"Approve PENDING jobs: they queue for GPUs. Several ids, or --all-pending, are approved in one "
		"request and one commit; --all-pending prints the ids it approved, one a line.",
		OPTS(ALL_PENDING), 0, CTL_MANY, CMD_JOB_IDS | CMD_PENDING_IDS, cmd_admin_approve},
	{"admin reject", "admin reject (ID... | --all-pending [-u NAME] [-g TYPE]) [-r TEXT]",
		"Reject PENDING jobs; their reservation is released. Several ids, or --all-pending, are rejected in "
		"one request and one commit; --all-pending prints the ids it rejected, one a line.",
		OPTS({"reason", 'r', "TEXT", "why, for the job's owner"}, ALL_PENDING), 0, CTL_MANY,
		CMD_JOB_IDS | CMD_PENDING_IDS, cmd_admin_reject},
	{"admin rule", "admin rule COMMAND [ARG...]",
		"Auto-approval rules: a job that matches a rule when it is submitted is approved at once, by rule:N. "
		"Quota is checked first: a rule never lets a job past it.",
		NULL, 0, CTL_MANY, CMD_GROUP, cmd_group},
	{"admin rule add", "admin rule add [--gpu TYPE,...] [--max-count N] [OPTIONS]",
		"Add an auto-approval rule and print its id. A job matches when its GPU type is one of --gpu (any "
		"without it), it asks for at most --max-count GPUs for at most --max-time, and it is submitted by "
		"one of --user (by default any non-admin; --all-users: anyone). --daily-cap bounds the GPU time "
		"the rule approves per user in 24 hours; past it jobs wait for an admin, their reason naming the "
		"cap.",
		OPTS({"gpu", 'g', "TYPE,...", "the GPU types it covers (default: any)"},
			{"max-count", 0, "N", "at most N GPUs per job"},
			{"max-time", 0, "DURATION", "at most this time limit per job"},
			{"user", 'u', "NAME,...", "only these users' jobs"},
			{"all-users", 0, NULL, "admins' jobs too (default: every non-admin)"},
			{"daily-cap", 0, "DURATION", "GPU time (count x time) it may approve per user in 24 hours"},
			{"note", 0, "TEXT", "why the rule exists, for the list"}),
		0, 0, 0, cmd_admin_rule_add},
	{"admin rule list", "admin rule list", "List the auto-approval rules, lowest id (the first to match) first.",
		NULL, 0, 0, 0, cmd_admin_rule_list},
	{"admin rule del", "admin rule del ID",
		"Delete an auto-approval rule. Jobs it approved stay approved.", NULL, 1, 1, CMD_RULE_IDS,
		cmd_admin_rule_del},
	{"admin audit", "admin audit [--user NAME] [--since WHEN]",
		"The admin actions from the event log, oldest first: users created, deleted and given roles, quota "
		"set and added, rules added and deleted, jobs approved (by an admin or a rule) and rejected.",
		OPTS({"user", 'u', "NAME", "only actions by or about NAME"},
			{"since", 0, "WHEN", "only actions since WHEN: a date (2026-11-27, \"2026-11-27 14:00\"), or a "
				"duration that long ago (7d)"}),
		0, 0, 0, cmd_admin_audit},
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
	{"admin usage", "admin usage [USER...] [--since WHEN] [--ledger]",
		"GPU-hours per user, from the quota ledger: GRANTED NET (grants, and sets counted as the change they "
		"made), CHARGED (all charges), CHARGED SINCE (with --since), RESERVED (held by live jobs), "
		"REMAINING (what the quota now is) and JOBS CHARGED. --ledger adds one user's ledger rows.",
		OPTS({"since", 0, "WHEN", "also what was charged since WHEN: a date (2026-11-01), or a duration that "
				"long ago (30d); with --ledger, only rows since then"},
			{"ledger", 'l', NULL, "the ledger rows of one USER: time, kind, change, job, actor, reason"}),
		0, CTL_MANY, 0, cmd_admin_usage},
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
		OPTS({"man", 0, NULL, "print the COMMANDS section of gpuctl(1) in scdoc (for the build)"}), 0, 3,
		CMD_COMMANDS, cmd_help},
	{"__complete", "__complete WORD... -- CURRENT",
		"Completion candidates for the bash and zsh scripts: WORDs are the words typed after \"gpuctl\", "
		"CURRENT the one being typed.",
		NULL, 0, CTL_MANY, CMD_HIDDEN | CMD_RAW, cmd_complete},
	{NULL, NULL, NULL, NULL, 0, 0, 0, NULL},
};

/* How many of argv's first words spell name ("admin rule add": 3), or 0
 * when they do not. */
static int name_words(const char *name, int argc, char **argv)
{
	const char *p = name;
	for (int k = 0; k < argc; k++) {
		size_t len = strcspn(p, " ");
		if (strlen(argv[k]) != len || strncmp(p, argv[k], len) != 0)
			return 0;
		if (p[len] == '\0')
			return k + 1;
		p += len + 1;
	}
	return 0;
}

const struct ctl_cmd *ctl_find(int argc, char **argv, int *used)
{
	const struct ctl_cmd *best = NULL;
	*used = 0;
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		int k = name_words(c->name, argc, argv);
		if (k > *used) {
			*used = k;
			best = c;
		}
	}
	return best;
}

/* The word of name after prefix (the first word when prefix is NULL) into
 * buf; false when name does not continue prefix. */
static bool word_after(const char *name, const char *prefix, char *buf, size_t size)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	if (prefix && (strncmp(name, prefix, plen) != 0 || name[plen] != ' '))
		return false;
	const char *w = prefix ? name + plen + 1 : name;
	snprintf(buf, size, "%.*s", (int)strcspn(w, " "), w);
	return true;
}

void ctl_next_words(const char *prefix, void (*fn)(void *arg, const char *word), void *arg)
{
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		char word[64], seen[64];
		if ((c->flags & CMD_HIDDEN) || !word_after(c->name, prefix, word, sizeof word))
			continue;
		bool dup = false;
		for (const struct ctl_cmd *p = ctl_commands; p < c && !dup; p++)
			dup = !(p->flags & CMD_HIDDEN) && word_after(p->name, prefix, seen, sizeof seen) &&
			      strcmp(seen, word) == 0;
		if (!dup)
			fn(arg, word);
	}
}

bool ctl_cmd_listed(const struct ctl_cmd *cmd)
{
	/* A group is listed through its subcommands. */
	return !(cmd->flags & (CMD_HIDDEN | CMD_GROUP));
}
