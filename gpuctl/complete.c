#include "gpuctl/complete.h"

#include <stdio.h>
#include <string.h>

#include "common/json.h"

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

static void offer_first_words(struct filter *f)
{
	const char *last = "";
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		char first[64];
		snprintf(first, sizeof first, "%s", c->name);
		first[strcspn(first, " ")] = '\0';
		if (strcmp(first, last) != 0)
			offer(f, first);
		last = c->name;
	}
	offer(f, "help");
	offer(f, "shell");
	offer(f, "ping");
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
	if (n == 0) {
		if (text[0] == '-') {
			offer(&f, "--json");
			offer(&f, "--socket");
			offer(&f, "--help");
			offer(&f, "--version");
		} else {
			offer_first_words(&f);
		}
		return;
	}
	if (n == 1 && (strcmp(words[0], "admin") == 0 || strcmp(words[0], "help") == 0)) {
		bool admin = strcmp(words[0], "admin") == 0;
		for (const struct ctl_cmd *cmd = ctl_commands; cmd->name; cmd++)
			if (admin && strncmp(cmd->name, "admin ", 6) == 0)
				offer(&f, cmd->name + 6);
		if (!admin)
			offer_first_words(&f);
		return;
	}
	int used = 0;
	const struct ctl_cmd *cmd = ctl_find(n, words, &used);
	if (!cmd)
		return;
	const char *prev = words[n - 1];
	if (strcmp(prev, "--gpu") == 0 || strcmp(prev, "-g") == 0) {
		offer_gpu_types(c, &f);
		return;
	}
	if (strcmp(prev, "--state") == 0) {
		static const char *const states[] = {"PENDING", "APPROVED", "RUNNING", "COMPLETED", "FAILED",
			"CANCELLED", "REJECTED"};
		for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
			offer(&f, states[k]);
		return;
	}
	/* After "--" of submit comes the job's own command line. */
	for (int k = used; k < n; k++)
		if (strcmp(words[k], "--") == 0)
			return;
	if (text[0] == '-') {
		char opts[256];
		snprintf(opts, sizeof opts, "%s --help", cmd->options);
		char *save = NULL;
		for (char *t = strtok_r(opts, " ", &save); t; t = strtok_r(NULL, " ", &save))
			offer(&f, t);
		return;
	}
	if (strstr(cmd->usage, " ID"))
		offer_job_ids(c, &f);
}
