/* gpuctl's state and helpers: one connection per invocation (or per shell
 * session), the cached token, output format and error reporting. The
 * command table is in commands.h. */
#ifndef GPUAAS_GPUCTL_CTL_H
#define GPUAAS_GPUCTL_CTL_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/status.h"

/* Exit code of a command cut short by Ctrl-C in the shell (128 + SIGINT). */
#define EXIT_INTERRUPTED 130

/* -o: how results are printed. */
enum out_fmt {
	OUT_TEXT = 0, /* tables and lines for people */
	OUT_WIDE,     /* text with more columns */
	OUT_JSON,     /* the wire protocol's objects, one per line (-j, --json, -o json) */
	OUT_YAML,     /* the same objects as YAML */
	OUT_NAME,     /* ids or names only, one a line */
};

struct ctl_cmd;

struct ctl {
	char socket_path[4096];
	enum out_fmt out;
	int fd;            /* -1 until connected */
	int64_t next_id;
	char *token;       /* loaded lazily; owned */
	bool in_shell;
	const struct ctl_cmd *cmd; /* the command running: errors name its flags */
	char err[1024];    /* message of the last failure */
};

/* Set by the shell's SIGINT handler; blocking reads and writes give up
 * when they see it (the shell's Ctrl-C cancels the running command). */
extern volatile sig_atomic_t ctl_interrupted;

/* ---- client.c ---- */
/* Connects if needed. ST_OK or ST_UNREACHABLE (message in c->err). */
enum status ctl_connect(struct ctl *c);
/* Closes the connection, if any. */
void ctl_disconnect(struct ctl *c);
/* Sends op with args (consumed; may be NULL) and waits for the reply.
 * with_token: attach the cached token (error ST_UNAUTHENTICATED when there
 * is none). On ST_OK *data is the reply's data (caller frees); otherwise
 * c->err has the daemon's (or our) message. */
enum status ctl_call(struct ctl *c, const char *op, cJSON *args, bool with_token, cJSON **data);
/* ctl_call with this token instead of the cached one. */
enum status ctl_call_as(struct ctl *c, const char *token, const char *op, cJSON *args, cJSON **data);
/* Like ctl_call with a token, but on success returns the reply's data as
 * JSON text (malloc'd, *text; caller frees) without building a tree. */
enum status ctl_call_text(struct ctl *c, const char *op, cJSON *args, char **text, size_t *len);
/* ctl_call_text in two halves, for requests sent ahead of their replies:
 * ctl_send sends one (args consumed) and gives its id; ctl_read_text reads
 * the reply to id, which must be the next one to arrive. */
enum status ctl_send(struct ctl *c, const char *op, cJSON *args, int64_t *id);
enum status ctl_read_text(struct ctl *c, int64_t id, char **text, size_t *len);
/* Pipelined: sends n requests, then reads n replies in order. Every
 * args[i] is consumed and set to NULL; data[i] (caller frees) is set for
 * each st[i] == ST_OK, errs[i] for the others. */
enum status ctl_call_many(struct ctl *c, const char *op, cJSON **args, size_t n, enum status *st, cJSON **data,
	char (*errs)[256]);

/* ---- token.c: the current token ---- */
/* Path of the current token's cache file into buf. 0 or -1. */
int token_path(char *buf, size_t size);
/* Loads the token: $GPUAAS_TOKEN, else the cache (refused when it is a
 * symlink, not ours, or readable by others). NULL with c->err set. */
char *token_load(struct ctl *c);
/* Reads a token file with the cache's safety checks. NULL with c->err set;
 * *missing tells a file that is not there from a refused one. */
char *token_read_file(struct ctl *c, const char *path, bool *missing);
/* Writes a token file atomically (0600, its directory 0700). 0 or -1. */
int token_write_file(struct ctl *c, const char *path, const char *token);
/* Writes the current token's cache. 0 or -1. */
int token_store(struct ctl *c, const char *token);
/* Removes the current token's cache; 0 when it is gone. */
int token_remove(struct ctl *c);

/* ---- accounts.c: one cached token per daemon and account ---- */
/* Keeps token as user's account for this daemon and makes it current. 0 or -1. */
int account_save(struct ctl *c, const char *user, const char *token);
/* The cached token of user's account for this daemon (malloc'd), or NULL
 * with c->err set (*missing: there is none). */
char *account_token(struct ctl *c, const char *user, bool *missing);
/* Calls fn for each account cached for this daemon, in name order;
 * current: its token is the current one. The count, or -1. */
int account_list(struct ctl *c, void (*fn)(void *arg, const char *user, bool current), void *arg);
/* Forgets user's account for this daemon. 0 or -1. */
int account_forget(struct ctl *c, const char *user);
/* The account whose token is the current one, into buf ("" when none). */
void account_current(struct ctl *c, char *buf, size_t size);

/* ---- output.c ---- */
/* Prints "gpuctl: msg" to stderr and returns the exit code for st. */
int ctl_fail(struct ctl *c, enum status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reports the failure of a call (message from c->err, in the terms of the
 * running command's flags); returns its exit code. */
int ctl_report(struct ctl *c, enum status st);
/* ctl_call with the cached token, reporting a failure: 0 with *data
 * (caller frees), or the exit code. args: consumed (may be NULL). */
int ctl_ask(struct ctl *c, const char *op, cJSON *args, cJSON **data);
/* Whether results are printed as data (JSON or YAML). */
bool ctl_structured(const struct ctl *c);
/* Prints a value as JSON (one line) or YAML, by c->out. */
void ctl_emit(const struct ctl *c, const cJSON *v);
/* Prints {key: list} as JSON or YAML; list is consumed. */
void ctl_emit_list(const struct ctl *c, const char *key, cJSON *list);
/* "-o name does not apply to CMD": for results without ids or names. */
int ctl_no_names(struct ctl *c);
/* The quota lines (remaining, reserved, available) in GPU-hours; -o wide
 * adds the GPU-seconds. */
void ctl_print_quota(const struct ctl *c, const cJSON *q, const char *indent);
/* Prints a value as JSON on one line. */
void print_json(const cJSON *v);
/* Reads a number member as int64 (0 when absent). */
int64_t jint(const cJSON *o, const char *key);
/* Reads a string member ("" when absent or null). */
const char *jstr(const cJSON *o, const char *key);
/* Reads a password: from stdin line when from_stdin, else from /dev/tty
 * without echo. 0 or -1 (message in c->err). */
int read_password(struct ctl *c, const char *prompt, bool from_stdin, char *buf, size_t size);
/* Asks a yes/no question on the terminal; true for yes. *no_tty: there is
 * no terminal to ask on. */
bool ask_yes(struct ctl *c, const char *question, bool *no_tty);

/* ---- errmap.c ---- */
/* Rewrites a daemon message about wire fields and ops ("gpu_count must…",
 * "job.approve needs the admin role") in the terms of cmd's flags. */
void errmap_rewrite(const struct ctl_cmd *cmd, enum status st, char *msg, size_t size);

/* ---- yaml.c ---- */
/* Prints a value as a YAML document. */
void yaml_print(FILE *out, const cJSON *v);

#endif
