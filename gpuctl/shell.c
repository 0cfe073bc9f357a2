/* `gpuctl shell`: readline prompt "user@gpuaas> ", the same command table
 * as argv mode, one connection for the whole session, history in
 * ${XDG_STATE_HOME:-~/.local/state}/gpuaas/history, tab completion of
 * commands, options, GPU types and job ids. Ctrl-C cancels the line being
 * typed, or the command running (which returns 130), as in bash and psql;
 * exit, quit or Ctrl-D leaves. readline is loaded here, not at start (rl.c). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/paths.h"
#include "gpuctl/commands.h"
#include "gpuctl/complete.h"
#include "gpuctl/rl.h"
#include "gpuctl/run.h"
#include "gpuctl/words.h"

static struct ctl *shell_ctl;
static struct rlapi rl;
static volatile sig_atomic_t running_cmd; /* a command runs: Ctrl-C cuts its connection */

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

static void cand_add(void *arg, const char *s)
{
	(void)arg;
	for (size_t i = 0; i < ncand; i++)
		if (strcmp(candidates[i], s) == 0)
			return;
	char **nc = realloc(candidates, (ncand + 1) * sizeof *nc);
	if (!nc)
		return;
	candidates = nc;
	if ((candidates[ncand] = strdup(s)) != NULL)
		ncand++;
}

static char *cand_generator(const char *text, int state)
{
	static size_t idx;
	if (state == 0)
		idx = 0;
	(void)text; /* ctl_complete already matched the candidates (case-insensitively for GPU types) */
	return idx < ncand ? strdup(candidates[idx++]) : NULL;
}

static char **shell_complete(const char *text, int start, int end)
{
	(void)end;
	*rl.attempted_completion_over = 1;
	cand_clear();
	char *head = strndup(*rl.line_buffer, (size_t)start);
	char **words = NULL;
	int n = head ? words_split(head, &words) : -1;
	free(head);
	if (n < 0)
		return NULL;
	/* In the shell the first word is already the command. */
	ctl_complete(shell_ctl, words, n, text, cand_add, NULL);
	if (n == 0 && strncmp("exit", text, strlen(text)) == 0)
		cand_add(NULL, "exit");
	words_free(words, n);
	return rl.completion_matches(text, cand_generator);
}

/* ---- reading a line, with Ctrl-C ---------------------------------------------- */

static char *line_read;
static bool line_done;

static void on_line(char *line)
{
	/* Removed here, readline prints no new prompt after the line. */
	rl.handler_remove();
	line_read = line;
	line_done = true;
}

static void on_sigint(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
	/* A read already blocked on the daemon returns at once (shutdown is
	 * async-signal-safe); the daemon drops what it had parked for it. */
	if (running_cmd && shell_ctl && shell_ctl->fd >= 0)
		shutdown(shell_ctl->fd, SHUT_RDWR);
}

/* Ctrl-C at the prompt: drop the line, as bash does. */
static void cancel_line(void)
{
	rl.free_line_state();
	if (rl.sigcleanup)
		rl.sigcleanup();
	rl.cleanup_after_signal();
	rl.handler_remove();
	fputs("^C\n", stdout);
	fflush(stdout);
}

/* Reads one line: 1 with *line (malloc'd), 0 at the end of input, -1
 * when Ctrl-C cancelled it. SIGINT is blocked but inside ppoll, so that
 * one arriving while readline works on a key is seen at the next wait. */
static int read_line(const char *prompt, char **line)
{
	sigset_t block, orig;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	line_read = NULL;
	line_done = false;
	int rc = 1;
	rl.handler_install(prompt, on_line);
	while (!line_done) {
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		int r = ctl_interrupted ? -1 : ppoll(&p, 1, NULL, &orig);
		if (r < 0 && ctl_interrupted) {
			ctl_interrupted = 0;
			cancel_line();
			rc = -1;
			break;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rl.handler_remove();
			break;
		}
		rl.read_char();
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	*line = line_read;
	return rc < 0 ? -1 : line_read ? 1 : 0;
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
	int n = words_split(line, &words);
	if (n < 0) {
		fprintf(stderr, "gpuctl: unterminated quote\n");
		return false;
	}
	bool leave = false;
	if (n == 0)
		goto out;
	rl.add_history(line);
	if (strcmp(words[0], "exit") == 0 || strcmp(words[0], "quit") == 0) {
		leave = true;
		goto out;
	}
	int used = 0;
	const struct ctl_cmd *cmd = ctl_find(n, words, &used);
	enum out_fmt out = c->out; /* -o and --json on a line are for that line */
	running_cmd = 1;
	*last = ctl_run(c, n, words);
	running_cmd = 0;
	c->out = out;
	fflush(stdout);
	if (ctl_interrupted) {
		/* The terminal showed ^C; start the prompt on a line of its own,
		 * on a fresh connection. */
		ctl_interrupted = 0;
		ctl_disconnect(c);
		*last = EXIT_INTERRUPTED;
		fputc('\n', stderr);
	}
	/* login, logout and switch change who we are. */
	if (cmd && (cmd->flags & CMD_IDENTITY))
		make_prompt(c, prompt, psize);
out:
	words_free(words, n);
	return leave;
}

/* Sets up readline, history and the SIGINT handler. 0 or an exit code. */
static int shell_open(struct ctl *c, char *hist, size_t hsize, struct sigaction *old_int)
{
	char err[512];
	if (rlapi_open(&rl, err, sizeof err) < 0)
		return ctl_fail(c, ST_INTERNAL, "%s", err);
	*rl.catch_signals = 0; /* our handler, not readline's: Ctrl-C cancels, never quits */
	*rl.readline_name = "gpuctl";
	history_path(hist, hsize);
	rl.using_history();
	rl.stifle_history(1000);
	if (hist[0])
		rl.read_history(hist);
	*rl.attempted_completion_function = shell_complete;
	*rl.basic_word_break_characters = " \t";
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint; /* no SA_RESTART: blocking reads return EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, old_int) < 0) {
		rlapi_close(&rl);
		return ctl_fail(c, ST_INTERNAL, "sigaction: %s", strerror(errno));
	}
	return 0;
}

int cmd_shell(struct ctl *c, const struct ctl_args *a)
{
	if (c->in_shell)
		return ctl_fail(c, ST_USAGE, "already in the shell");
	char hist[4200], prompt[128];
	struct sigaction old_int;
	int last = shell_open(c, hist, sizeof hist, &old_int);
	if (last != 0)
		return last;
	shell_ctl = c;
	c->in_shell = true;
	make_prompt(c, prompt, sizeof prompt);
	for (bool leave = false; !leave;) {
		char *line = NULL;
		int r = read_line(prompt, &line);
		if (r == 0) {
			putchar('\n');
			break;
		}
		if (r > 0)
			leave = run_line(c, line, prompt, sizeof prompt, &last);
		free(line);
	}
	if (hist[0] && rl.write_history(hist) == 0 && chmod(hist, 0600) < 0)
		fprintf(stderr, "gpuctl: cannot make %s private: %s\n", hist, strerror(errno));
	sigaction(SIGINT, &old_int, NULL);
	cand_clear();
	/* readline stays loaded: its keymaps and history live until the
	 * process exits (gpuctl ends with the shell), and unloading them
	 * would only turn them into leaks. */
	c->in_shell = false;
	return last;
}
