/* The central option parser: reads a command's words against its entry in
 * the command table (options, positional counts, "--") into struct ctl_args. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuctl/commands.h"

/* The index in cmd->opts of the option written as arg ("--gpu", "--gpu=T4",
 * "-g", "-gT4"), or -1. *val: an attached value, or NULL. *bad: set when the option is
 * known but written wrongly (a value attached to a flag). */
static int find_opt(const struct ctl_cmd *cmd, const char *arg, const char **val, bool *bad)
{
	*val = NULL;
	*bad = false;
	if (!cmd->opts)
		return -1;
	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		for (int i = 0; cmd->opts[i].lng; i++) {
			if (strlen(cmd->opts[i].lng) != len || strncmp(cmd->opts[i].lng, name, len) != 0)
				continue;
			*val = eq ? eq + 1 : NULL;
			*bad = eq && !cmd->opts[i].arg;
			return i;
		}
		return -1;
	}
	for (int i = 0; cmd->opts[i].lng; i++) {
		if (!cmd->opts[i].shrt || cmd->opts[i].shrt != arg[1])
			continue;
		/* "-n10": a value attached to a short option; "-qx" is unknown. */
		if (arg[2] != '\0' && !cmd->opts[i].arg)
			return -1;
		*val = arg[2] != '\0' ? arg + 2 : NULL;
		return i;
	}
	return -1;
}

/* Adds a positional word; -1 after a usage error when there is no room. */
static int add_pos(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a, char *word)
{
	if (cmd->max_pos != CTL_MANY && a->npos >= cmd->max_pos) {
		ctl_fail(c, ST_USAGE, "%s: unexpected argument '%s' (see gpuctl %s --help)", cmd->name, word, cmd->name);
		return -1;
	}
	a->pos[a->npos++] = word;
	return 0;
}

/* Parses one option word at argv[*i] (moving *i past a separate value). */
static int parse_opt(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a, int argc, char **argv, int *i)
{
	const char *word = argv[*i], *val;
	bool bad;
	int k = find_opt(cmd, word, &val, &bad);
	if (k < 0) {
		/* "-1" etc. are values, not options (negative numbers). */
		if (word[1] >= '0' && word[1] <= '9' && (cmd->max_pos == CTL_MANY || a->npos < cmd->max_pos))
			return add_pos(c, cmd, a, argv[*i]);
		ctl_fail(c, ST_USAGE, "%s: unknown option '%s' (see gpuctl %s --help)", cmd->name, word, cmd->name);
		return -1;
	}
	const struct ctl_opt *o = &cmd->opts[k];
	if (bad) {
		ctl_fail(c, ST_USAGE, "%s: option --%s takes no value", cmd->name, o->lng);
		return -1;
	}
	if (o->arg && !val) {
		if (*i + 1 >= argc) {
			ctl_fail(c, ST_USAGE, "%s: option --%s needs a value", cmd->name, o->lng);
			return -1;
		}
		val = argv[++*i];
	}
	a->set[k] = true;
	a->val[k] = val;
	return 0;
}

/* Checks what parsing found against the command's entry: "--" only where
 * the command takes one, at least min_pos positionals. */
static int check_counts(struct ctl *c, const struct ctl_cmd *cmd, const struct ctl_args *a)
{
	if (a->has_rest && !(cmd->flags & CMD_REST)) {
		ctl_fail(c, ST_USAGE, "%s: unexpected '--'", cmd->name);
		return -1;
	}
	if (a->npos < cmd->min_pos) {
		ctl_fail(c, ST_USAGE, "usage: gpuctl %s (see gpuctl %s --help)", cmd->usage, cmd->name);
		return -1;
	}
	return 0;
}

int ctl_args_parse(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_args *a)
{
	memset(a, 0, sizeof *a);
	a->cmd = cmd;
	int nopts = 0;
	while (cmd->opts && cmd->opts[nopts].lng)
		nopts++;
	if (nopts > CTL_MAX_OPTS)
		return ctl_fail(c, ST_INTERNAL, "%s: more than %d options in the command table", cmd->name, CTL_MAX_OPTS);
	a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
	if (!a->pos)
		return ctl_fail(c, ST_INTERNAL, "out of memory");
	for (int i = 0; i < argc; i++) {
		char *word = argv[i];
		if (cmd->flags & CMD_RAW) {
			a->pos[a->npos++] = word;
		} else if (strcmp(word, "--") == 0) {
			a->has_rest = true;
			a->rest = argv + i + 1;
			a->nrest = argc - i - 1;
			break;
		} else if (word[0] != '-' || word[1] == '\0') {
			if (add_pos(c, cmd, a, word) < 0)
				return EXIT_USAGE;
		} else if (parse_opt(c, cmd, a, argc, argv, &i) < 0) {
			return EXIT_USAGE;
		}
	}
	return check_counts(c, cmd, a) < 0 ? EXIT_USAGE : 0;
}

void ctl_args_free(struct ctl_args *a)
{
	free(a->pos);
	a->pos = NULL;
	a->npos = 0;
}

/* The index of option lng in a's command; a name that is not there is a
 * mistake in the program, not in the command line. */
static int opt_index(const struct ctl_args *a, const char *lng)
{
	for (int i = 0; a->cmd->opts && a->cmd->opts[i].lng; i++)
		if (strcmp(a->cmd->opts[i].lng, lng) == 0)
			return i;
	fprintf(stderr, "gpuctl: internal error: %s has no option --%s\n", a->cmd->name, lng);
	abort();
}

const char *args_get(const struct ctl_args *a, const char *lng)
{
	return a->val[opt_index(a, lng)];
}

bool args_has(const struct ctl_args *a, const char *lng)
{
	return a->set[opt_index(a, lng)];
}
