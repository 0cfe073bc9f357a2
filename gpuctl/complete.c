/* Completion candidates from the command table: commands, group
 * subcommands, each command's options and the global ones, option values
 * (GPU types in the case typed, job states, output formats, duration
 * examples), job ids (only live ones for cancel, PENDING ones for
 * approve and reject) and rule ids (admin rule del). One implementation for the readline shell and for
 * the bash/zsh scripts (gpuctl __complete). */
#include "gpuctl/complete.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "gpuctl/commands.h"

struct filter {
	const char *text;
	void (*add)(void *arg, const char *s);
	void *arg;
};

static void offer(struct filter *f, const char *s)
{
	if (strncmp(s, f->text, strlen(f->text)) == 0)
		f->add(f->arg, s);
}

static void offer_word(void *arg, const char *word)
{
	offer(arg, word);
}

/* Command words for the n words typed so far: the first words, or the
 * next word after a group's name ("admin", "admin rule"). */
static void offer_command_words(struct filter *f, char **words, int n)
{
	int used = 0;
	const struct ctl_cmd *cmd = n > 0 ? ctl_find(n, words, &used) : NULL;
	if (n == 0)
		ctl_next_words(NULL, offer_word, f);
	else if (cmd && (cmd->flags & CMD_GROUP) && used == n)
		ctl_next_words(cmd->name, offer_word, f);
}

/* GPU types in any case: "t" offers "t4", "T" offers "T4". */
static void offer_gpu_types(struct ctl *c, struct filter *f)
{
	cJSON *data = NULL;
	if (ctl_call(c, "gpu.list", NULL, true, &data) != ST_OK)
		return;
	bool lower = false;
	for (const char *p = f->text; *p; p++)
		lower |= islower((unsigned char)*p) != 0;
	const cJSON *g;
	cJSON_ArrayForEach(g, json_get(data, "gpus"))
	{
		char type[64];
		snprintf(type, sizeof type, "%s", jstr(g, "type"));
		if (strncasecmp(type, f->text, strlen(f->text)) != 0)
			continue;
		for (char *p = type; lower && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		f->add(f->arg, type);
	}
	cJSON_Delete(data);
}

/* Job ids: yours (an admin's: everyone's for approve and reject), only
 * those in states when given. */
static void offer_job_ids(struct ctl *c, struct filter *f, const char *states, bool all)
{
	cJSON *args = cJSON_CreateObject();
	json_add_int(args, "limit", 200);
	cJSON_AddTrueToObject(args, "brief");
	if (states)
		cJSON_AddStringToObject(args, "states", states);
	if (all)
		cJSON_AddTrueToObject(args, "all");
	cJSON *data = NULL;
	if (ctl_call(c, "job.list", args, true, &data) != ST_OK)
		return;
	const cJSON *j;
	cJSON_ArrayForEach(j, json_get(data, "jobs"))
	{
		const cJSON *id = cJSON_GetArrayItem(j, 0);
		char buf[32];
		if (!cJSON_IsNumber(id))
			continue;
		snprintf(buf, sizeof buf, "%lld", (long long)id->valuedouble);
		offer(f, buf);
	}
	cJSON_Delete(data);
}

/* The auto-approval rules' ids (admin rule del). */
static void offer_rule_ids(struct ctl *c, struct filter *f)
{
	cJSON *data = NULL;
	if (ctl_call(c, "rule.list", NULL, true, &data) != ST_OK)
		return;
	const cJSON *r;
	cJSON_ArrayForEach(r, json_get(data, "rules"))
	{
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", (long long)jint(r, "id"));
		offer(f, buf);
	}
	cJSON_Delete(data);
}

/* The accounts kept for this daemon (switch NAME). */
static void offer_account(void *arg, const char *user, bool current)
{
	(void)current;
	offer(arg, user);
}

/* The option of opts that word names ("--gpu", "-g"), or NULL. */
static const struct ctl_opt *opt_named(const struct ctl_opt *opts, const char *word)
{
	for (const struct ctl_opt *o = opts; o && o->lng; o++)
		if ((word[1] == '-' && strcmp(word + 2, o->lng) == 0) || (o->shrt && word[1] == o->shrt && !word[2]))
			return o;
	return NULL;
}

/* Values for an option's argument, by the name the table gives it. */
static void offer_values(struct ctl *c, struct filter *f, const struct ctl_opt *o)
{
	static const char *const states[] = {"PENDING", "APPROVED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED",
		"REJECTED", "EXPIRED"};
	static const char *const formats[] = {"json", "yaml", "wide", "name"};
	/* Durations: examples of each form (a bare number is refused). */
	static const char *const durations[] = {"30s", "15m", "1h", "1h30m", "1.5h", "12h", "1d", "30:00", "2:00:00",
		"1-00:00:00"};
	if (strcmp(o->arg, "TYPE") == 0 || strcmp(o->arg, "TYPE,...") == 0)
		offer_gpu_types(c, f);
	else if (strcmp(o->arg, "S,...") == 0)
		for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
			offer(f, states[k]);
	else if (strcmp(o->arg, "FORMAT") == 0)
		for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++)
			offer(f, formats[k]);
	else if (strcmp(o->arg, "DURATION") == 0 || strcmp(o->arg, "WHEN") == 0)
		for (size_t k = 0; k < sizeof durations / sizeof durations[0]; k++)
			offer(f, durations[k]);
	else if (strcmp(o->arg, "ID") == 0)
		offer_job_ids(c, f, NULL, false);
}

/* Positionals of cmd: commands, job ids, shells, accounts. */
static void offer_positionals(struct ctl *c, struct filter *f, const struct ctl_cmd *cmd, char **words, int n)
{
	if (cmd->flags & CMD_COMMANDS)
		offer_command_words(f, words, n);
	else if (cmd->flags & CMD_LIVE_IDS)
		offer_job_ids(c, f, "PENDING,APPROVED,RUNNING", false);
	else if (cmd->flags & CMD_PENDING_IDS)
		offer_job_ids(c, f, "PENDING", true);
	else if (cmd->flags & CMD_JOB_IDS)
		offer_job_ids(c, f, NULL, false);
	else if (cmd->flags & CMD_RULE_IDS)
		offer_rule_ids(c, f);
	else if (strcmp(cmd->name, "completion") == 0 && n == 0) {
		offer(f, "bash");
		offer(f, "zsh");
	} else if (strcmp(cmd->name, "switch") == 0 && n == 0)
		account_list(c, offer_account, f);
}

/* Candidates after cmd's name: option values, options, positionals. */
static void complete_args(struct ctl *c, struct filter *f, const struct ctl_cmd *cmd, char **words, int n)
{
	const char *last = n > 0 ? words[n - 1] : "";
	const struct ctl_opt *prev = last[0] == '-' ? opt_named(cmd->opts, last) : NULL;
	if (!prev && last[0] == '-')
		prev = opt_named(ctl_global_opts, last);
	if (prev && prev->arg) {
		offer_values(c, f, prev);
		return;
	}
	/* After "--" of submit comes the job's own command line. */
	for (int k = 0; k < n; k++)
		if (strcmp(words[k], "--") == 0)
			return;
	if (f->text[0] == '-') {
		const struct ctl_opt *lists[2] = {cmd->opts, ctl_global_opts};
		for (int l = 0; l < 2; l++)
			for (const struct ctl_opt *o = lists[l]; o && o->lng; o++) {
				char opt[64];
				snprintf(opt, sizeof opt, "--%s", o->lng);
				offer(f, opt);
			}
		return;
	}
	/* Positionals typed so far (option words and their values skipped). */
	int npos = 0;
	for (int k = 0; k < n; k++) {
		const struct ctl_opt *o = words[k][0] == '-' ? opt_named(cmd->opts, words[k]) : NULL;
		if (!o && words[k][0] == '-')
			o = opt_named(ctl_global_opts, words[k]);
		if (o && o->arg)
			k++;
		else if (words[k][0] != '-')
			npos++;
	}
	offer_positionals(c, f, cmd, words, npos);
}

/* Steps over global options (and their values) before the command. */
static int skip_globals(char **words, int n)
{
	int i = 0;
	while (i < n && words[i][0] == '-') {
		const struct ctl_opt *o = opt_named(ctl_global_opts, words[i]);
		i += o && o->arg ? 2 : 1;
	}
	return i < n ? i : n;
}

void ctl_complete(struct ctl *c, char **words, int n, const char *text, void (*add)(void *arg, const char *s),
	void *arg)
{
	struct filter f = {text, add, arg};
	int i = skip_globals(words, n);
	words += i;
	n -= i;
	if (n == 0 && i > 0 && words[-1][0] == '-') {
		const struct ctl_opt *o = opt_named(ctl_global_opts, words[-1]);
		if (o && o->arg) {
			offer_values(c, &f, o);
			return;
		}
	}
	if (n == 0 && text[0] == '-') {
		for (const struct ctl_opt *o = ctl_global_opts; o->lng; o++) {
			char opt[64];
			snprintf(opt, sizeof opt, "--%s", o->lng);
			offer(&f, opt);
		}
		return;
	}
	int used = 0;
	const struct ctl_cmd *cmd = n > 0 ? ctl_find(n, words, &used) : NULL;
	if (n == 0 || (cmd && (cmd->flags & CMD_GROUP) && used == n)) {
		offer_command_words(&f, words, n);
		return;
	}
	if (cmd && !(cmd->flags & CMD_HIDDEN))
		complete_args(c, &f, cmd, words + used, n - used);
}

static void print_candidate(void *arg, const char *s)
{
	(void)arg;
	printf("%s\n", s);
}

int cmd_complete(struct ctl *c, const struct ctl_args *a)
{
	/* __complete WORDS... -- CURRENT: the last "--" ends the words. */
	int dash = a->npos;
	for (int i = 0; i < a->npos; i++)
		if (strcmp(a->pos[i], "--") == 0)
			dash = i;
	const char *text = dash + 1 < a->npos ? a->pos[dash + 1] : "";
	ctl_complete(c, a->pos, dash, text, print_candidate, NULL);
	return 0;
}
