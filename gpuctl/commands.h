/* The command table (commands.c) and the arguments its central parser
 * (args.c) hands to each handler. Every command, ping, help, shell and
 * __complete included, is one entry; help, the man page's COMMANDS section
 * and completion all read these entries (help.c, complete.c). */
#ifndef GPUAAS_GPUCTL_COMMANDS_H
#define GPUAAS_GPUCTL_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "gpuctl/ctl.h"

/* One option of a command: --lng, maybe -shrt, with a value when arg is set. */
struct ctl_opt {
	const char *lng;   /* "gpu", written --gpu (or --gpu=VALUE) */
	char shrt;         /* 'g', written -g (or -gVALUE); 0 for none */
	const char *arg;   /* the value's name ("TYPE", "DURATION"); NULL for a flag */
	const char *help;  /* one line for `gpuctl help COMMAND` and the man page */
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
	CMD_LIVE_IDS = 1 << 7, /* completion offers only live jobs (cancel) */
	CMD_PENDING_IDS = 1 << 8, /* completion offers only PENDING jobs (approve, reject) */
	CMD_RULE_IDS = 1 << 9,    /* positionals are auto-approval rule ids (admin rule del) */
};

#define CTL_MAX_OPTS 12 /* options of one command, at most */
#define CTL_MANY (-1)  /* max_pos: no limit */

struct ctl_args;

/* A handler: returns the exit code. */
typedef int (*ctl_cmd_fn)(struct ctl *c, const struct ctl_args *a);

struct ctl_cmd {
	const char *name;           /* "submit", "admin approve", "admin rule add": up to 3 words */
	const char *usage;          /* "submit [OPTIONS] [-- CMD [ARG...]]": at most 66 characters (help: 80 columns) */
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
	struct ctl_given {             /* every option given, in order (repeatable ones: --env) */
		int opt;               /* index in cmd->opts */
		const char *val;       /* its value (borrowed), NULL for a flag */
	} *given;                      /* owned */
	int ngiven;
	char **pos;                    /* positionals (borrowed words; the array is owned) */
	int npos;
	char **rest;                   /* the words after "--" (CMD_REST), borrowed */
	int nrest;
	bool has_rest;                 /* "--" was given */
	bool version;                  /* --version was given: print it, run nothing */
};

extern const struct ctl_cmd ctl_commands[];
/* The global options: -s, -j, -o, -h, --version (accepted anywhere before "--"). */
extern const struct ctl_opt ctl_global_opts[];

/* Finds the command whose name is the longest run of argv's first words
 * ("admin rule add" over "admin rule" over "admin"); *used: how many words
 * it took. */
const struct ctl_cmd *ctl_find(int argc, char **argv, int *used);
/* Calls fn once for each word that follows prefix in the names of visible
 * commands ("approve", "rule", ... after "admin"; prefix NULL: the first
 * words), in table order. */
void ctl_next_words(const char *prefix, void (*fn)(void *arg, const char *word), void *arg);
/* Whether cmd has its own line in the command list (help and man page). */
bool ctl_cmd_listed(const struct ctl_cmd *cmd);

/* ---- help.c ---- */
/* Prints a command's usage, options and help (a group's: and its subcommands). */
void ctl_print_help(const struct ctl_cmd *cmd, FILE *out);
/* Prints gpuctl's usage with the command list. */
void ctl_print_usage(FILE *out);
/* Prints the COMMANDS section of gpuctl(1) in scdoc. */
void ctl_print_man(FILE *out);

/* ---- args.c ---- */
/* Parses the words after cmd's name into *a; global options among them
 * go to c. 0, or the exit code after printing the error. Free with
 * ctl_args_free either way. */
int ctl_args_parse(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_args *a);
/* Reads the global options before the command: returns the index of the
 * command word, or -(exit code + 1) when gpuctl is done (--help, --version,
 * a usage error). */
int ctl_global_prefix(struct ctl *c, int argc, char **argv);
/* Frees what ctl_args_parse allocated. */
void ctl_args_free(struct ctl_args *a);
/* The value of option --lng (last one given), or NULL. */
const char *args_get(const struct ctl_args *a, const char *lng);
/* Whether option --lng was given. */
bool args_has(const struct ctl_args *a, const char *lng);

/* ---- suggest.c ---- */
/* The candidate closest to word (a typo or a prefix of one), or NULL when
 * none is close. */
const char *suggest_closest(const char *word, const char *const *cands, size_t n);
/* The command closest to words[0] ("lsit" -> "list"), or NULL. */
const char *suggest_command(int argc, char **argv);

/* ---- argument helpers (parse.c) ---- */
/* Parses an id (1..2^53) of a what ("rule"); prints "CMD: 'x' is not a
 * rule id". 0 or -1. */
int parse_id(struct ctl *c, const char *what, const char *text, int64_t *out);
/* Parses a job id (1..2^53); prints "CMD: 'x' is not a job id". 0 or -1. */
int parse_job_id(struct ctl *c, const char *text, int64_t *out);
/* Parses a duration given to option opt ("--time"), refusing a bare number
 * with "write 90s or 90m". 0 or -1 after printing the error. */
int parse_duration_opt(struct ctl *c, const char *opt, const char *text, int64_t *out);
/* Parses a point in time given to option opt: a date ("2026-11-27",
 * "2026-11-27 14:00[:SS]" local time, RFC 3339 UTC) or a duration that
 * long ago ("7d"), into Unix seconds. 0 or -1 after printing the error. */
int parse_when_opt(struct ctl *c, const char *opt, const char *text, int64_t *out);
/* Parses a whole number in [min, max] given to option opt. 0 or -1. */
int parse_count_opt(struct ctl *c, const char *opt, const char *text, int64_t min, int64_t max, int64_t *out);

/* New passwords (useradd, passwd) have at least this many characters. */
#define PASSWORD_MIN_CHARS 8
/* Whether a new password is long enough; prints why not. */
bool password_acceptable(struct ctl *c, const char *pw);
/* A new password into pw: read, checked, and from a terminal asked twice
 * (again_prompt). 0 or an exit code (the reason printed). */
int read_new_password(struct ctl *c, const char *prompt, const char *again_prompt, bool from_stdin, char *pw,
	size_t size);

/* ---- handlers: one per entry, named after it ---- */
/* cmd-account.c */
/* login [NAME] [--password-stdin]: adds the account and makes it current. */
int cmd_login(struct ctl *c, const struct ctl_args *a);
/* logout: forgets the current account's token. */
int cmd_logout(struct ctl *c, const struct ctl_args *a);
/* switch [NAME]: makes a cached account current; lists them without NAME. */
int cmd_switch(struct ctl *c, const struct ctl_args *a);
/* whoami: user, role, quota, token expiry. */
int cmd_whoami(struct ctl *c, const struct ctl_args *a);
/* passwd [--password-stdin]: changes the password, keeps the fresh token. */
int cmd_passwd(struct ctl *c, const struct ctl_args *a);
/* quota: your remaining, reserved and available GPU-hours. */
int cmd_quota(struct ctl *c, const struct ctl_args *a);
/* cmd-admin.c */
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
/* cmd-usage.c */
/* admin usage [USER...] [--since WHEN] [--ledger]: the quota ledger per user. */
int cmd_admin_usage(struct ctl *c, const struct ctl_args *a);
/* cmd-rules.c */
/* admin rule add: adds an auto-approval rule; prints its id. */
int cmd_admin_rule_add(struct ctl *c, const struct ctl_args *a);
/* admin rule list: the auto-approval rules. */
int cmd_admin_rule_list(struct ctl *c, const struct ctl_args *a);
/* admin rule del ID: deletes an auto-approval rule. */
int cmd_admin_rule_del(struct ctl *c, const struct ctl_args *a);
/* cmd-events.c */
/* events [--since SEQ] [--job ID] [-f]: the event log, followed with -f. */
int cmd_events(struct ctl *c, const struct ctl_args *a);
/* admin audit [--user NAME] [--since WHEN]: the admin actions. */
int cmd_admin_audit(struct ctl *c, const struct ctl_args *a);
/* cmd-queue.c */
/* queue [--gpu TYPE]: every live job, others' anonymous. */
int cmd_queue(struct ctl *c, const struct ctl_args *a);
/* cmd-submit.c */
/* submit: asks for GPU time; prints the new job's id. */
int cmd_submit(struct ctl *c, const struct ctl_args *a);
/* cmd-list.c */
/* list: your jobs (or others' as admin), newest first. */
int cmd_list(struct ctl *c, const struct ctl_args *a);
/* admin pending [-q]: the approval inbox, oldest first. */
int cmd_admin_pending(struct ctl *c, const struct ctl_args *a);
/* cmd-jobs.c */
/* show ID: one job in full. */
int cmd_show(struct ctl *c, const struct ctl_args *a);
/* cancel ID... | --all | --state S [--wait]: cancels live jobs. */
int cmd_cancel(struct ctl *c, const struct ctl_args *a);
/* wait ID...: blocks until every job is final (or --timeout). */
int cmd_wait(struct ctl *c, const struct ctl_args *a);
/* cmd-approve.c */
/* admin approve (ID... | --all-pending): approves PENDING jobs. */
int cmd_admin_approve(struct ctl *c, const struct ctl_args *a);
/* admin reject (ID... | --all-pending) [--reason TEXT]: rejects PENDING jobs. */
int cmd_admin_reject(struct ctl *c, const struct ctl_args *a);
/* cmd-logs.c */
/* logs ID [-f] [--tail N] [-t]: prints a job's output. */
int cmd_logs(struct ctl *c, const struct ctl_args *a);
/* cmd-gpus.c */
/* gpus: the inventory per type and per device. */
int cmd_gpus(struct ctl *c, const struct ctl_args *a);
/* cmd-sys.c */
/* ping: exit 0 when the daemon answers. */
int cmd_ping(struct ctl *c, const struct ctl_args *a);
/* version: gpuctl's version and the daemon's. */
int cmd_version(struct ctl *c, const struct ctl_args *a);
/* help [COMMAND] [--man]: the command list, one command, or the man page's list. */
int cmd_help(struct ctl *c, const struct ctl_args *a);
/* A group's name ("admin") without a known subcommand: a usage error. */
int cmd_group(struct ctl *c, const struct ctl_args *a);
/* completion bash|zsh: prints the shell's completion script. */
int cmd_completion(struct ctl *c, const struct ctl_args *a);
/* complete.c */
/* __complete WORD... -- CURRENT: prints completion candidates, one a line. */
int cmd_complete(struct ctl *c, const struct ctl_args *a);
/* shell.c */
/* shell: the interactive prompt; returns the last command's exit code. */
int cmd_shell(struct ctl *c, const struct ctl_args *a);

#endif
