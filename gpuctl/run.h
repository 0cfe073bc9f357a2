/* Runs one command line through the command table: argv mode (main.c) and
 * the interactive shell (shell.c) both come here. */
#ifndef GPUAAS_GPUCTL_RUN_H
#define GPUAAS_GPUCTL_RUN_H

#include "gpuctl/ctl.h"

/* Runs the command in argv[0] (maybe argv[0..1], "admin approve") with the
 * rest of argv as its arguments; returns the exit code. */
int ctl_run(struct ctl *c, int argc, char **argv);

#endif
