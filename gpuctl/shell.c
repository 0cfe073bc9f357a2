/* `gpuctl shell`: readline prompt "user@gpuaas> ", the same command table
 * as argv mode, one connection for the whole session, history in
 * ${XDG_STATE_HOME:-~/.local/state}/gpuaas/history, tab completion of
 * commands, options, GPU types and job ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "common/json.h"
#include "common/paths.h"
#include "gpuctl/commands.h"
#include "gpuctl/complete.h"
#include "gpuctl/run.h"

static struct ctl *shell_ctl;

/* Splits a line into words with '...' and "..." quoting and \ escapes.
 * Returns the word count, or -1 on an unterminated quote. words are
 * malloc'd into *out (free with free_words). */
static int split_words(const char *line, char ***out)
{
	size_t cap = 8, n = 0;
	char **words = calloc(cap, sizeof *words);
	char *buf = malloc(strlen(line) + 1);
	if (!words || !buf) {
		free(words);
		free(buf);
		return -1;
	}
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = 0;
		char quote = 0;
		while (*p && (quote || (*p != ' ' && *p != '\t'))) {
			if (quote) {
				if (*p == quote)
					quote = 0;
				else if (*p == '\\' && quote == '"' && p[1])
					buf[len++] = *++p;
				else
					buf[len++] = *p;
			} else if (*p == '\'' || *p == '"') {
				quote = *p;
			} else if (*p == '\\' && p[1]) {
				buf[len++] = *++p;
			} else {
				buf[len++] = *p;
			}
			p++;
		}
		if (quote) {
			for (size_t i = 0; i < n; i++)
				free(words[i]);
			free(words);
			free(buf);
			return -1;
		}
		buf[len] = '\0';
		if (n + 1 >= cap) {
			cap *= 2;
			char **nw = realloc(words, cap * sizeof *nw);
			if (!nw)
				break;
			words = nw;
		}
		words[n++] = strdup(buf);
	}
	free(buf);
	words[n] = NULL;
	*out = words;
	return (int)n;
}

static void free_words(char **words, int n)
{
	for (int i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

/* ---- completion --------------------------------------------------------- */

static char **candidates;
static size_t ncand;

static void cand_clear(void)
{
	for (size_t i = 0; i < ncand; i++)
		free(candidates[i]);
	free(candidates);
	candidates = NULL;
	ncand = 0;
}

static void cand_add(const char *s)
{
	for (size_t i = 0; i < ncand; i++)
		if (strcmp(candidates[i], s) == 0)
			return;
	char **nc = realloc(candidates, (ncand + 1) * sizeof *nc);
	if (!nc)
		return;
	candidates = nc;
	candidates[ncand++] = strdup(s);
}

static char *cand_generator(const char *text, int state)
{
	static size_t idx;
	if (state == 0)
		idx = 0;
	size_t len = strlen(text);
	while (idx < ncand) {
		const char *s = candidates[idx++];
		if (strncmp(s, text, len) == 0)
			return strdup(s);
	}
	return NULL;
}

static void cand_add_cb(void *arg, const char *s)
{
	(void)arg;
	cand_add(s);
}

static char **shell_complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	cand_clear();
	char *head = strndup(rl_line_buffer, (size_t)start);
	char **words = NULL;
	int n = head ? split_words(head, &words) : -1;
	free(head);
	if (n < 0)
		return NULL;
	/* In the shell the first word is already the command. */
	ctl_complete(shell_ctl, words, n, text, cand_add_cb, NULL);
	if (n == 0 && strncmp("exit", text, strlen(text)) == 0)
		cand_add("exit");
	free_words(words, n);
	return rl_completion_matches(text, cand_generator);
}

/* ---- the loop --------------------------------------------------------------- */

static void history_path(char *buf, size_t size)
{
	char dir[4096];
	buf[0] = '\0';
	if (paths_user_state_dir(dir, sizeof dir) < 0 || paths_mkdir_p(dir, 0700) < 0)
		return;
	snprintf(buf, size, "%s/history", dir);
}

static void make_prompt(struct ctl *c, char *buf, size_t size)
{
	cJSON *data = NULL;
	if (ctl_call(c, "auth.whoami", NULL, true, &data) == ST_OK)
		snprintf(buf, size, "%s@gpuaas> ", jstr(data, "username"));
	else
		snprintf(buf, size, "gpuaas> ");
	cJSON_Delete(data);
	c->err[0] = '\0';
}

/* Runs one line: *last gets the exit code of a command it ran. Returns
 * true when the line asks to leave ("exit", "quit"). */
static bool run_line(struct ctl *c, const char *line, char *prompt, size_t psize, int *last)
{
	char **words = NULL;
	int n = split_words(line, &words);
	if (n < 0) {
		fprintf(stderr, "gpuctl: unterminated quote\n");
		return false;
	}
	bool leave = false;
	if (n == 0)
		goto out;
	add_history(line);
	if (strcmp(words[0], "exit") == 0 || strcmp(words[0], "quit") == 0) {
		leave = true;
		goto out;
	}
	int used = 0;
	const struct ctl_cmd *cmd = ctl_find(n, words, &used);
	*last = ctl_run(c, n, words);
	/* login and logout change who we are. */
	if (cmd && (cmd->flags & CMD_IDENTITY))
		make_prompt(c, prompt, psize);
	fflush(stdout);
out:
	free_words(words, n);
	return leave;
}

int cmd_shell(struct ctl *c, const struct ctl_args *a)
{
	if (c->in_shell)
		return ctl_fail(c, ST_USAGE, "already in the shell");
	shell_ctl = c;
	c->in_shell = true;
	char hist[4200];
	history_path(hist, sizeof hist);
	using_history();
	stifle_history(1000);
	if (hist[0])
		read_history(hist);
	rl_attempted_completion_function = shell_complete;
	rl_basic_word_break_characters = " \t";
	char prompt[128];
	make_prompt(c, prompt, sizeof prompt);
	int last = 0;
	for (bool leave = false; !leave;) {
		char *line = readline(prompt);
		if (!line) {
			putchar('\n');
			break;
		}
		leave = run_line(c, line, prompt, sizeof prompt, &last);
		free(line);
	}
	if (hist[0]) {
		if (write_history(hist) == 0)
			chmod(hist, 0600);
	}
	cand_clear();
	c->in_shell = false;
	return last;
}
