/* The central option parser: reads a command's words against its entry in
 * the command table (options, positional counts, "--") into struct
 * ctl_args. Global options (-s, -j, -o, -h, --version) are accepted before
 * the command and anywhere among its words, as gh does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuctl/commands.h"

/* The index in opts of the option written as arg ("--gpu", "--gpu=T4",
 * "-g", "-gT4"), or -1. *val: an attached value, or NULL. *bad: set when the
 * option is known but written wrongly (a value attached to a flag). */
static int find_opt(const struct ctl_opt *opts, const char *arg, const char **val, bool *bad)
{
	*val = NULL;
	*bad = false;
	if (!opts)
		return -1;
	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		for (int i = 0; opts[i].lng; i++) {
			if (strlen(opts[i].lng) != len || strncmp(opts[i].lng, name, len) != 0)
				continue;
			*val = eq ? eq + 1 : NULL;
			*bad = eq && !opts[i].arg;
			return i;
		}
		return -1;
	}
	for (int i = 0; opts[i].lng; i++) {
		if (!opts[i].shrt || opts[i].shrt != arg[1])
			continue;
		/* "-n10": a value attached to a short option; "-qx" is unknown. */
		if (arg[2] != '\0' && !opts[i].arg)
			return -1;
		*val = arg[2] != '\0' ? arg + 2 : NULL;
		return i;
	}
	return -1;
}

/* Applies global option k (of ctl_global_opts) with its value. 0, or -1
 * after a usage error. *version: --version was given. */
static int apply_global(struct ctl *c, int k, const char *val, bool *version)
{
	const char *name = ctl_global_opts[k].lng;
	if (strcmp(name, "socket") == 0) {
		if (c->in_shell) {
			ctl_fail(c, ST_USAGE, "--socket: the shell keeps its connection; start it as gpuctl -s PATH shell");
			return -1;
		}
		snprintf(c->socket_path, sizeof c->socket_path, "%s", val);
	} else if (strcmp(name, "json") == 0) {
		c->out = OUT_JSON;
	} else if (strcmp(name, "output") == 0) {
		static const char *const names[] = {"text", "wide", "json", "yaml", "name"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			if (strcmp(val, names[i]) == 0) {
				c->out = (enum out_fmt)i;
				return 0;
			}
		}
		ctl_fail(c, ST_USAGE, "-o: unknown format '%s' (json, yaml, wide or name)", val);
		return -1;
	} else if (strcmp(name, "version") == 0) {
		*version = true;
	}
	/* --help is answered before parsing (run.c). */
	return 0;
}

/* Names of the options of cmd and the global ones, as written ("--gpu"),
 * for "did you mean". */
static const char *closest_option(const struct ctl_cmd *cmd, const char *word)
{
	static char names[2 * CTL_MAX_OPTS + 8][40];
	const char *ptrs[2 * CTL_MAX_OPTS + 8];
	size_t n = 0;
	const struct ctl_opt *lists[2] = {cmd ? cmd->opts : NULL, ctl_global_opts};
	for (int l = 0; l < 2; l++)
		for (const struct ctl_opt *o = lists[l]; o && o->lng && n < sizeof ptrs / sizeof ptrs[0]; o++) {
			snprintf(names[n], sizeof names[n], "--%s", o->lng);
			ptrs[n] = names[n];
			n++;
		}
	char base[64];
	snprintf(base, sizeof base, "%.*s", (int)strcspn(word, "="), word);
	return suggest_closest(base, ptrs, n);
}

/* Reports an unknown option, with the closest known one when there is one. */
static void unknown_option(struct ctl *c, const struct ctl_cmd *cmd, const char *word)
{
	const char *near = word[1] == '-' ? closest_option(cmd, word) : NULL;
	const char *name = cmd ? cmd->name : "gpuctl";
	if (near)
		ctl_fail(c, ST_USAGE, "%s: unknown option '%s'; did you mean %s?", name, word, near);
	else
		ctl_fail(c, ST_USAGE, "%s: unknown option '%s' (see gpuctl %s --help)", name, word, cmd ? cmd->name : "");
}

/* Reads one global option at argv[*i]: 1 when it was one (moving *i past
 * a separate value), 0 when it is not global, -1 after an error. */
static int global_opt(struct ctl *c, int argc, char **argv, int *i, bool *version)
{
	const char *val;
	bool bad;
	int k = find_opt(ctl_global_opts, argv[*i], &val, &bad);
	if (k < 0)
		return 0;
	const struct ctl_opt *o = &ctl_global_opts[k];
	if (bad) {
		ctl_fail(c, ST_USAGE, "option --%s takes no value", o->lng);
		return -1;
	}
	if (o->arg && !val) {
		if (*i + 1 >= argc) {
			ctl_fail(c, ST_USAGE, "option --%s needs a value (%s)", o->lng, o->arg);
			return -1;
		}
		val = argv[++*i];
	}
	return apply_global(c, k, val, version) < 0 ? -1 : 1;
}

int ctl_global_prefix(struct ctl *c, int argc, char **argv)
{
	int i = 1;
	bool version = false;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ctl_print_usage(stdout);
			return -1;
		}
		int r = global_opt(c, argc, argv, &i, &version);
		if (r < 0)
			return -(EXIT_USAGE + 1);
		if (r == 0) {
			unknown_option(c, NULL, a);
			return -(EXIT_USAGE + 1);
		}
	}
	if (version) {
		printf("gpuctl %s\n", GPUAAS_VERSION);
		return -1;
	}
	return i;
}

/* Adds a positional word; -1 after a usage error when there is no room. */
static int add_pos(struct ctl *c, const struct ctl_cmd *cmd, struct ctl_args *a, char *word)
{
	if (cmd->max_pos != CTL_MANY && a->npos >= cmd->max_pos) {
		if (cmd->flags & CMD_REST)
			ctl_fail(c, ST_USAGE, "%s: unexpected argument '%s': the job's command goes after --, as in "
				"gpuctl %s [OPTIONS] -- %s ...", cmd->name, word, cmd->name, word);
		else
			ctl_fail(c, ST_USAGE, "%s: unexpected argument '%s' (see gpuctl %s --help)", cmd->name, word,
				cmd->name);
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
	int k = find_opt(cmd->opts, word, &val, &bad);
	if (k < 0) {
		int g = global_opt(c, argc, argv, i, &a->version);
		if (g != 0)
			return g < 0 ? -1 : 0;
		/* "-1" etc. are values, not options (negative numbers). */
		if (word[1] >= '0' && word[1] <= '9' && (cmd->max_pos == CTL_MANY || a->npos < cmd->max_pos))
			return add_pos(c, cmd, a, argv[*i]);
		unknown_option(c, cmd, word);
		return -1;
	}
	const struct ctl_opt *o = &cmd->opts[k];
	if (bad) {
		ctl_fail(c, ST_USAGE, "%s: option --%s takes no value", cmd->name, o->lng);
		return -1;
	}
	if (o->arg && !val) {
		if (*i + 1 >= argc) {
			ctl_fail(c, ST_USAGE, "%s: option --%s needs a value (%s)", cmd->name, o->lng, o->arg);
			return -1;
		}
		val = argv[++*i];
	}
	a->set[k] = true;
	a->val[k] = val;
	a->given[a->ngiven++] = (struct ctl_given){k, val};
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
	if (a->npos < cmd->min_pos && !a->version) {
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
	a->given = calloc((size_t)argc + 1, sizeof *a->given);
	if (!a->pos || !a->given)
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
	free(a->given);
	a->pos = NULL;
	a->given = NULL;
	a->npos = a->ngiven = 0;
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
