/* Completion candidates from the command table: commands, group
 * subcommands, each command's options, option values (GPU types, job
 * states) and job ids. One implementation for the readline shell and for the
 * bash/zsh scripts (gpuctl __complete). */
#include "gpuctl/complete.h"

#include <stdio.h>
#include <string.h>

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

/* The first word of every visible command, each once. */
static void offer_first_words(struct filter *f)
{
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		if (c->flags & CMD_HIDDEN)
			continue;
		size_t len = strcspn(c->name, " ");
		bool seen = false;
		for (const struct ctl_cmd *p = ctl_commands; p < c && !seen; p++)
			seen = !(p->flags & CMD_HIDDEN) && strncmp(p->name, c->name, len) == 0 &&
			       (p->name[len] == ' ' || p->name[len] == '\0');
		if (seen)
			continue;
		char first[64];
		snprintf(first, sizeof first, "%.*s", (int)len, c->name);
		offer(f, first);
	}
}

/* The subcommands of group ("approve" for "admin approve"). */
static void offer_subcommands(struct filter *f, const struct ctl_cmd *group)
{
	size_t len = strlen(group->name);
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
		if (!(c->flags & CMD_HIDDEN) && strncmp(c->name, group->name, len) == 0 && c->name[len] == ' ')
			offer(f, c->name + len + 1);
}

/* Command names for the n words typed so far (none, or a group's name). */
static void offer_command_words(struct filter *f, char **words, int n)
{
	int used = 0;
	const struct ctl_cmd *cmd = n > 0 ? ctl_find(n, words, &used) : NULL;
	if (n == 0)
		offer_first_words(f);
	else if (n == 1 && cmd && (cmd->flags & CMD_GROUP))
		offer_subcommands(f, cmd);
}

static void offer_gpu_types(struct ctl *c, struct filter *f)
{
	cJSON *data = NULL;
	if (ctl_call(c, "gpu.list", NULL, true, &data) != ST_OK)
		return;
	const cJSON *g;
	cJSON_ArrayForEach(g, json_get(data, "gpus")) offer(f, jstr(g, "type"));
	cJSON_Delete(data);
}

static void offer_job_ids(struct ctl *c, struct filter *f)
{
	cJSON *args = cJSON_CreateObject();
	cJSON_AddNumberToObject(args, "limit", 200);
	cJSON_AddTrueToObject(args, "brief");
	cJSON *data = NULL;
	if (ctl_call(c, "job.list", args, true, &data) != ST_OK)
		return;
	const cJSON *j;
	cJSON_ArrayForEach(j, json_get(data, "jobs"))
	{
		char id[32];
		snprintf(id, sizeof id, "%lld", (long long)cJSON_GetArrayItem(j, 0)->valuedouble);
		offer(f, id);
	}
	cJSON_Delete(data);
}

/* The option of cmd that word names ("--gpu", "-g"), or NULL. */
static const struct ctl_opt *opt_named(const struct ctl_cmd *cmd, const char *word)
{
	for (const struct ctl_opt *o = cmd->opts; o && o->lng; o++)
		if ((word[1] == '-' && strcmp(word + 2, o->lng) == 0) || (o->shrt && word[1] == o->shrt && !word[2]))
			return o;
	return NULL;
}

/* Values for an option's argument, by the name the table gives it. */
static void offer_values(struct ctl *c, struct filter *f, const struct ctl_opt *o)
{
	static const char *const states[] = {"PENDING", "APPROVED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED",
		"REJECTED"};
	if (strcmp(o->arg, "TYPE") == 0)
		offer_gpu_types(c, f);
	else if (strcmp(o->arg, "STATE") == 0)
		for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
			offer(f, states[k]);
}

/* Candidates after cmd's name: option values, options, positionals. */
static void complete_args(struct ctl *c, struct filter *f, const struct ctl_cmd *cmd, char **words, int n)
{
	const struct ctl_opt *prev = n > 0 && words[n - 1][0] == '-' ? opt_named(cmd, words[n - 1]) : NULL;
	if (prev && prev->arg) {
		offer_values(c, f, prev);
		return;
	}
	/* After "--" of submit comes the job's own command line. */
	for (int k = 0; k < n; k++)
		if (strcmp(words[k], "--") == 0)
			return;
	if (f->text[0] == '-') {
		char opt[64];
		for (const struct ctl_opt *o = cmd->opts; o && o->lng; o++) {
			snprintf(opt, sizeof opt, "--%s", o->lng);
			offer(f, opt);
		}
		offer(f, "--help");
		return;
	}
	if (cmd->flags & CMD_COMMANDS)
		offer_command_words(f, words, n);
	else if (cmd->flags & CMD_JOB_IDS)
		offer_job_ids(c, f);
}

void ctl_complete(struct ctl *c, char **words, int n, const char *text, void (*add)(void *arg, const char *s),
	void *arg)
{
	struct filter f = {text, add, arg};
	/* Global options come first: step over them. */
	int i = 0;
	while (i < n && words[i][0] == '-') {
		if (strcmp(words[i], "-s") == 0 || strcmp(words[i], "--socket") == 0)
			i++;
		i++;
	}
	words += i < n ? i : n;
	n -= i < n ? i : n;
	if (n == 0 && text[0] == '-') {
		offer(&f, "--json");
		offer(&f, "--socket");
		offer(&f, "--help");
		offer(&f, "--version");
		return;
	}
	int used = 0;
	const struct ctl_cmd *cmd = n > 0 ? ctl_find(n, words, &used) : NULL;
	if (n == 0 || (n == 1 && cmd && (cmd->flags & CMD_GROUP))) {
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
