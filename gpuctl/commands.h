/* The command table (commands.c) and the arguments its central parser
 * (args.c) hands to each handler. Every command, ping, help, shell and
 * __complete included, is one entry; help, the man page's COMMANDS section
 * and completion all read these entries. */
#ifndef GPUAAS_GPUCTL_COMMANDS_H
#define GPUAAS_GPUCTL_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "gpuctl/ctl.h"

/* One option of a command: --lng, maybe -shrt, with a value when arg is set. */
struct ctl_opt {
	const char *lng;   /* "gpu", written --gpu (or --gpu=VALUE) */
	char shrt;         /* 'g', written -g (or -gVALUE); 0 for none */
	const char *arg;   /* the value's name ("TYPE"); NULL for a flag */
};

/* Values of ctl_cmd.flags. */
enum {
	CMD_HIDDEN = 1 << 0,   /* not in help, the man page or completion (__complete) */
	CMD_GROUP = 1 << 1,    /* names a group: the entries "NAME SUB" are its subcommands */
	CMD_REST = 1 << 2,     /* "-- WORD..." after the options is kept in ctl_args.rest */
	CMD_RAW = 1 << 3,      /* words are not parsed: all positional, no --help */
	CMD_JOB_IDS = 1 << 4,  /* positionals are job ids (completion offers them) */
	CMD_COMMANDS = 1 << 5, /* positionals name a command (completion offers commands) */
	CMD_IDENTITY = 1 << 6, /* may change who we are (the shell remakes its prompt) */
};

#define CTL_MAX_OPTS 8 /* options of one command, at most */
#define CTL_MANY (-1)  /* max_pos: no limit */

struct ctl_args;

/* A handler: returns the exit code. */
typedef int (*ctl_cmd_fn)(struct ctl *c, const struct ctl_args *a);

struct ctl_cmd {
	const char *name;           /* "submit", "admin approve" */
	const char *usage;          /* "submit [--gpu TYPE] ..." */
	const char *help;           /* one paragraph */
	const struct ctl_opt *opts; /* ends with {0}; NULL for none */
	int min_pos, max_pos;       /* positional arguments; max_pos may be CTL_MANY */
	unsigned flags;             /* CMD_* */
	ctl_cmd_fn fn;
};

/* What the central parser found on a command line, for cmd's handler. */
struct ctl_args {
	const struct ctl_cmd *cmd;
	const char *val[CTL_MAX_OPTS]; /* by index in cmd->opts: an option's value */
	bool set[CTL_MAX_OPTS];        /* by index in cmd->opts: was it given */
	char **pos;                    /* positionals (borrowed words; the array is owned) */
	int npos;
	char **rest;                   /* the words after "--" (CMD_REST), borrowed */
	int nrest;
	bool has_rest;                 /* "--" was given */
};

extern const struct ctl_cmd ctl_commands[];

/* Finds a command by its words (argv[0], maybe argv[1] for "admin X");
 * *used: how many words it took. */
const struct ctl_cmd *ctl_find(int argc, char **argv, int *used);
/* Whether cmd has its own line in the command list (help and man page). */
bool ctl_cmd_listed(const struct ctl_cmd *cmd);
/* Prints a command's usage and help (a group's: and its subcommands). */
void ctl_print_help(const struct ctl_cmd *cmd, FILE *out);
/* Prints gpuctl's usage with the command list. */
void ctl_print_usage(FILE *out);
/* Prints the COMMANDS section of gpuctl(1) in scdoc. */
void ctl_print_man(FILE *out);

/* ---- args.c ---- */
/* Parses the words after cmd's name into *a. 0, or the exit code after
 * printing the error. Free with ctl_args_free either way. */
int ctl_args_parse(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_args *a);
/* Frees what ctl_args_parse allocated. */
void ctl_args_free(struct ctl_args *a);
/* The value of option --lng (last one given), or NULL. */
const char *args_get(const struct ctl_args *a, const char *lng);
/* Whether option --lng was given. */
bool args_has(const struct ctl_args *a, const char *lng);

/* ---- handlers: one per entry, named after it ---- */
/* cmd-account.c */
/* login [USER] [--password-stdin]: gets and caches a token. */
int cmd_login(struct ctl *c, const struct ctl_args *a);
/* logout: forgets the cached token. */
int cmd_logout(struct ctl *c, const struct ctl_args *a);
/* whoami: user, role, quota, token expiry. */
int cmd_whoami(struct ctl *c, const struct ctl_args *a);
/* passwd [--password-stdin]: changes the password, keeps the fresh token. */
int cmd_passwd(struct ctl *c, const struct ctl_args *a);
/* quota: your remaining, reserved and available GPU-seconds. */
int cmd_quota(struct ctl *c, const struct ctl_args *a);
/* admin useradd NAME: creates a user. */
int cmd_admin_useradd(struct ctl *c, const struct ctl_args *a);
/* admin userdel NAME: deletes a user. */
int cmd_admin_userdel(struct ctl *c, const struct ctl_args *a);
/* admin users: every user with role and quota. */
int cmd_admin_users(struct ctl *c, const struct ctl_args *a);
/* admin quota NAME (--set | --add) DURATION: changes a user's quota. */
int cmd_admin_quota(struct ctl *c, const struct ctl_args *a);
/* admin role NAME (--admin | --no-admin): grants or removes the admin role. */
int cmd_admin_role(struct ctl *c, const struct ctl_args *a);
/* admin usage [USER]: the quota ledger's totals per user. */
int cmd_admin_usage(struct ctl *c, const struct ctl_args *a);
/* cmd-jobs.c */
/* submit: asks for GPU time; prints the new job's id. */
int cmd_submit(struct ctl *c, const struct ctl_args *a);
/* list: your jobs (or others' as admin), newest first. */
int cmd_list(struct ctl *c, const struct ctl_args *a);
/* show ID: one job in full. */
int cmd_show(struct ctl *c, const struct ctl_args *a);
/* cancel ID...: cancels live jobs. */
int cmd_cancel(struct ctl *c, const struct ctl_args *a);
/* wait ID...: blocks until every job is final (or --timeout). */
int cmd_wait(struct ctl *c, const struct ctl_args *a);
/* logs ID [-f]: prints a job's output. */
int cmd_logs(struct ctl *c, const struct ctl_args *a);
/* gpus: the inventory per type and per device. */
int cmd_gpus(struct ctl *c, const struct ctl_args *a);
/* admin pending: every PENDING job, oldest first. */
int cmd_admin_pending(struct ctl *c, const struct ctl_args *a);
/* admin approve ID...: approves PENDING jobs. */
int cmd_admin_approve(struct ctl *c, const struct ctl_args *a);
/* admin reject ID... [--reason TEXT]: rejects PENDING jobs. */
int cmd_admin_reject(struct ctl *c, const struct ctl_args *a);
/* cmd-sys.c */
/* ping: exit 0 when the daemon answers. */
int cmd_ping(struct ctl *c, const struct ctl_args *a);
/* help [COMMAND] [--man]: the command list, one command, or the man page's list. */
int cmd_help(struct ctl *c, const struct ctl_args *a);
/* A group's name ("admin") without a known subcommand: a usage error. */
int cmd_group(struct ctl *c, const struct ctl_args *a);
/* complete.c */
/* __complete WORD... -- CURRENT: prints completion candidates, one a line. */
int cmd_complete(struct ctl *c, const struct ctl_args *a);
/* shell.c */
/* shell: the interactive prompt; returns the last command's exit code. */
int cmd_shell(struct ctl *c, const struct ctl_args *a);

#endif
