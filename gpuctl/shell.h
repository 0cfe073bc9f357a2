/* The interactive shell: the same command table with readline. */
#ifndef GPUAAS_GPUCTL_SHELL_H
#define GPUAAS_GPUCTL_SHELL_H

#include "gpuctl/ctl.h"

/* Runs one command line (defined in main.c). */
int ctl_run(struct ctl *c, int argc, char **argv);
/* Runs the shell until EOF or "exit"; returns the last exit code. */
int ctl_shell(struct ctl *c);

#endif
