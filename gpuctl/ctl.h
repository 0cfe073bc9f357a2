/* gpuctl's state and helpers: one connection per invocation (or per shell
 * session), the cached token, output mode and error reporting. The command
 * table is in commands.h. */
#ifndef GPUAAS_GPUCTL_CTL_H
#define GPUAAS_GPUCTL_CTL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/status.h"

struct ctl {
	char socket_path[4096];
	bool json;
	int fd;            /* -1 until connected */
	int64_t next_id;
	char *token;       /* loaded lazily; owned */
	bool in_shell;
	char err[1024];    /* message of the last failure */
};

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
/* Like ctl_call with a token, but on success returns the reply's data as
 * JSON text (malloc'd, *text; caller frees) without building a tree. */
enum status ctl_call_text(struct ctl *c, const char *op, cJSON *args, char **text, size_t *len);
/* Pipelined: sends n requests, then reads n replies in order. Every
 * args[i] is consumed and set to NULL; data[i] (caller frees) is set for
 * each st[i] == ST_OK, errs[i] for the others. */
enum status ctl_call_many(struct ctl *c, const char *op, cJSON **args, size_t n, enum status *st, cJSON **data,
	char (*errs)[256]);

/* ---- token.c ---- */
/* Path of the token cache into buf. */
int token_path(char *buf, size_t size);
/* Loads the token: $GPUAAS_TOKEN, else the cache (refused when it is a
 * symlink, not ours, or readable by others). NULL with c->err set. */
char *token_load(struct ctl *c);
/* Writes the cache atomically (0600 file in a 0700 dir). 0 or -1. */
int token_store(struct ctl *c, const char *token);
/* Removes the cache; 0 when it is gone. */
int token_remove(struct ctl *c);

/* ---- output.c ---- */
/* Prints "gpuctl: msg" to stderr and returns the exit code for st. */
int ctl_fail(struct ctl *c, enum status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reports the failure of a call (message from c->err). */
int ctl_report(struct ctl *c, enum status st);
/* Prints a JSON value on one line. */
void print_json(const cJSON *v);
/* Reads a number member as int64 (0 when absent). */
int64_t jint(const cJSON *o, const char *key);
/* Reads a string member ("" when absent or null). */
const char *jstr(const cJSON *o, const char *key);
/* "10h (36000 s)" */
char *fmt_secs(int64_t secs, char *buf, size_t size);
/* Reads a password: from stdin line when from_stdin, else from /dev/tty
 * without echo. 0 or -1 (message in c->err). */
int read_password(struct ctl *c, const char *prompt, bool from_stdin, char *buf, size_t size);

#endif
