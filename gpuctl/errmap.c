/* The daemon's messages name wire fields and ops ("gpu_count must be from
 * 1 to 2", "job.approve needs the admin role"): raw protocol clients keep
 * them; gpuctl says the same in the terms of its own flags and commands. */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"

struct field_map {
	const char *cmd;   /* the command it applies to; NULL: all */
	const char *field; /* the wire argument */
	const char *flag;  /* what gpuctl calls it */
};

static const struct field_map fields[] = {
	{NULL, "gpu_count", "--count"},
	{NULL, "time_limit", "--time"},
	{NULL, "gpu_type", "--gpu"},
	{"submit", "name", "--name"},
	{"submit", "command", "the command after --"},
	{"list", "states", "--state"},
	{"list", "user", "--user"},
	{"list", "limit", "--limit"},
	{"cancel", "states", "--state"},
	{"wait", "timeout", "--timeout"},
	{"admin reject", "reason", "--reason"},
	{"admin useradd", "quota", "--quota"},
	{"admin useradd", "is_admin", "--admin"},
	{"admin quota", "set", "--set"},
	{"admin quota", "add", "--add"},
	{"submit", "env", "--env"},
	{"submit", "chdir", "--chdir"},
	{"events", "since", "--since"},
	{"events", "job", "--job"},
	{"admin approve", "user", "--user"},
	{"admin reject", "user", "--user"},
	{"admin rule add", "gpu_types", "--gpu"},
	{"admin rule add", "max_count", "--max-count"},
	{"admin rule add", "max_time", "--max-time"},
	{"admin rule add", "daily_cap", "--daily-cap"},
	{"admin rule add", "users", "--user"},
	{"admin rule add", "note", "--note"},
	{"admin audit", "user", "--user"},
	{"admin audit", "since_time", "--since"},
	{"admin usage", "usernames", "USER"},
	{"admin usage", "since", "--since"},
	{"admin usage", "ledger", "--ledger"},
	{NULL, "username", "NAME"},
	{NULL, "id", "ID"},
};

/* Messages that name no field but are about one option: prefixed with it. */
static const struct field_map prefixes[] = {
	{"submit", "unknown GPU type", "--gpu: "},
	{"queue", "unknown GPU type", "--gpu: "},
	{"admin approve", "unknown GPU type", "--gpu: "},
	{"admin reject", "unknown GPU type", "--gpu: "},
	{"admin rule add", "unknown GPU type", "--gpu: "},
	{"list", "unknown state", "--state: "},
	{"cancel", "unknown state", "--state: "},
};

static bool word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
}

/* Replaces every from in msg by to (only as a whole word when bounded). */
static void replace_all(char *msg, size_t size, const char *from, const char *to, bool bounded)
{
	char out[1024];
	size_t o = 0, flen = strlen(from), tlen = strlen(to);
	for (const char *p = msg; *p && o + 1 < sizeof out;) {
		bool hit = strncmp(p, from, flen) == 0 &&
			   (!bounded || ((p == msg || !word_char(p[-1])) && !word_char(p[flen])));
		if (hit && o + tlen + 1 < sizeof out) {
			memcpy(out + o, to, tlen);
			o += tlen;
			p += flen;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	snprintf(msg, size, "%s", out);
}

/* "job.approve needs the admin role" and "only admins can list other
 * users' jobs" -> the command that needs the role. */
static bool rewrite_forbidden(const struct ctl_cmd *cmd, char *msg, size_t size)
{
	if (!strstr(msg, "admin role") && !strstr(msg, "only admins"))
		return false;
	if (strcmp(cmd->name, "list") == 0)
		snprintf(msg, size, "list --all and --user need the admin role (without them you see your own jobs)");
	else
		snprintf(msg, size, "gpuctl %s needs the admin role", cmd->name);
	return true;
}

void errmap_rewrite(const struct ctl_cmd *cmd, enum status st, char *msg, size_t size)
{
	if (!cmd)
		return;
	if (st == ST_FORBIDDEN && rewrite_forbidden(cmd, msg, size))
		return;
	if (st != ST_BAD_REQUEST && st != ST_FORBIDDEN)
		return;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		if (strcmp(prefixes[i].cmd, cmd->name) == 0 && strncmp(msg, prefixes[i].field, strlen(prefixes[i].field)) == 0) {
			char out[1024];
			snprintf(out, sizeof out, "%s%s", prefixes[i].flag, msg);
			snprintf(msg, size, "%s", out);
			return;
		}
	}
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const struct field_map *f = &fields[i];
		if (f->cmd && strcmp(f->cmd, cmd->name) != 0)
			continue;
		char quoted[64];
		snprintf(quoted, sizeof quoted, "argument '%s'", f->field);
		replace_all(msg, size, quoted, f->flag, false);
		snprintf(quoted, sizeof quoted, "'%s'", f->field);
		replace_all(msg, size, quoted, f->flag, false);
		/* Bare words only for names no prose uses ("gpu_count"). */
		if (strchr(f->field, '_'))
			replace_all(msg, size, f->field, f->flag, true);
	}
}
