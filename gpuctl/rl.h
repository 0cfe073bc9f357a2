/* readline, loaded by `gpuctl shell` only (dlopen): every other command
 * starts without libreadline and libtinfo, which cost each one-shot command
 * about a third of its time. The types come from readline's headers; no
 * readline symbol is linked. */
#ifndef GPUAAS_GPUCTL_RL_H
#define GPUAAS_GPUCTL_RL_H

#include <stddef.h>
#include <stdio.h>

#include <readline/readline.h>

/* The functions and variables of libreadline the shell uses. */
struct rlapi {
	void *handle;
	void (*handler_install)(const char *prompt, rl_vcpfunc_t *fn);
	void (*read_char)(void);
	void (*handler_remove)(void);
	void (*sigcleanup)(void); /* rl_callback_sigcleanup; NULL before readline 7 */
	void (*free_line_state)(void);
	void (*cleanup_after_signal)(void);
	void (*add_history)(const char *line);
	void (*using_history)(void);
	void (*stifle_history)(int max);
	int (*read_history)(const char *path);
	int (*write_history)(const char *path);
	char **(*completion_matches)(const char *text, rl_compentry_func_t *fn);
	int *catch_signals;
	rl_completion_func_t **attempted_completion_function;
	const char **basic_word_break_characters;
	char **line_buffer;
	int *attempted_completion_over;
	const char **readline_name;
};

/* Loads libreadline into *r. 0, or -1 with the reason in err. */
int rlapi_open(struct rlapi *r, char *err, size_t size);
/* Unloads it. */
void rlapi_close(struct rlapi *r);

#endif
