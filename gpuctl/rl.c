/* libreadline through dlopen (rl.h). */
#include "gpuctl/rl.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#ifndef GPUCTL_READLINE_SONAME
#define GPUCTL_READLINE_SONAME "libreadline.so.8"
#endif

/* One symbol: *slot gets its address; false when it is missing. */
static bool sym(void *handle, const char *name, void *slot)
{
	void *p = dlsym(handle, name);
	memcpy(slot, &p, sizeof p); /* object and function pointers alike (POSIX) */
	return p != NULL;
}

int rlapi_open(struct rlapi *r, char *err, size_t size)
{
	memset(r, 0, sizeof *r);
	r->handle = dlopen(GPUCTL_READLINE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!r->handle) {
		const char *why = dlerror();
		snprintf(err, size, "the shell needs %s: %s", GPUCTL_READLINE_SONAME, why ? why : "cannot load it");
		return -1;
	}
	bool ok = sym(r->handle, "rl_callback_handler_install", &r->handler_install) &&
		  sym(r->handle, "rl_callback_read_char", &r->read_char) &&
		  sym(r->handle, "rl_callback_handler_remove", &r->handler_remove) &&
		  sym(r->handle, "rl_free_line_state", &r->free_line_state) &&
		  sym(r->handle, "rl_cleanup_after_signal", &r->cleanup_after_signal) &&
		  sym(r->handle, "add_history", &r->add_history) && sym(r->handle, "using_history", &r->using_history) &&
		  sym(r->handle, "stifle_history", &r->stifle_history) &&
		  sym(r->handle, "read_history", &r->read_history) && sym(r->handle, "write_history", &r->write_history) &&
		  sym(r->handle, "rl_completion_matches", &r->completion_matches) &&
		  sym(r->handle, "rl_catch_signals", &r->catch_signals) &&
		  sym(r->handle, "rl_attempted_completion_function", &r->attempted_completion_function) &&
		  sym(r->handle, "rl_basic_word_break_characters", &r->basic_word_break_characters) &&
		  sym(r->handle, "rl_line_buffer", &r->line_buffer) &&
		  sym(r->handle, "rl_attempted_completion_over", &r->attempted_completion_over) &&
		  sym(r->handle, "rl_readline_name", &r->readline_name);
	if (!ok) {
		const char *why = dlerror();
		snprintf(err, size, "%s lacks a function the shell needs: %s", GPUCTL_READLINE_SONAME, why ? why : "?");
		rlapi_close(r);
		return -1;
	}
	sym(r->handle, "rl_callback_sigcleanup", &r->sigcleanup);
	return 0;
}

void rlapi_close(struct rlapi *r)
{
	if (r->handle)
		dlclose(r->handle);
	memset(r, 0, sizeof *r);
}
