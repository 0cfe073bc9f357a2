/* Completion candidates for a partly typed command line: one implementation
 * for the readline shell and for the bash/zsh scripts (gpuctl __complete). */
#ifndef GPUAAS_GPUCTL_COMPLETE_H
#define GPUAAS_GPUCTL_COMPLETE_H

#include "gpuctl/ctl.h"

/* words: the complete words before the one being typed (no "gpuctl");
 * text: the word being typed. Calls add for each candidate starting with
 * text. GPU types and job ids are asked of the daemon; when it cannot be
 * reached there are just fewer candidates. */
void ctl_complete(struct ctl *c, char **words, int n, const char *text, void (*add)(void *arg, const char *s),
	void *arg);

#endif
