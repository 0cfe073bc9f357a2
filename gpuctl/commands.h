/* The command handlers (cmd-account.c, cmd-jobs.c), collected into
 * ctl_commands[] by commands.c. */
#ifndef GPUAAS_GPUCTL_COMMANDS_H
#define GPUAAS_GPUCTL_COMMANDS_H

#include "gpuctl/ctl.h"

int cmd_login(struct ctl *c, int argc, char **argv);
int cmd_logout(struct ctl *c, int argc, char **argv);
int cmd_whoami(struct ctl *c, int argc, char **argv);
int cmd_passwd(struct ctl *c, int argc, char **argv);
int cmd_quota(struct ctl *c, int argc, char **argv);
int cmd_submit(struct ctl *c, int argc, char **argv);
int cmd_list(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, int argc, char **argv);
int cmd_cancel(struct ctl *c, int argc, char **argv);
int cmd_wait(struct ctl *c, int argc, char **argv);
int cmd_logs(struct ctl *c, int argc, char **argv);
int cmd_gpus(struct ctl *c, int argc, char **argv);
int cmd_admin_pending(struct ctl *c, int argc, char **argv);
int cmd_admin_approve(struct ctl *c, int argc, char **argv);
int cmd_admin_reject(struct ctl *c, int argc, char **argv);
int cmd_admin_useradd(struct ctl *c, int argc, char **argv);
int cmd_admin_userdel(struct ctl *c, int argc, char **argv);
int cmd_admin_users(struct ctl *c, int argc, char **argv);
int cmd_admin_quota(struct ctl *c, int argc, char **argv);
int cmd_admin_role(struct ctl *c, int argc, char **argv);
int cmd_admin_usage(struct ctl *c, int argc, char **argv);

#endif
