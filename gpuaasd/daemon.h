/* The daemon's life cycle (daemon.c): main parses the options and calls
 * daemon_configure, daemon_init, daemon_run and daemon_finish; the fuzz
 * target wires the same daemon through daemon_init_core. The state they
 * build is struct daemon (state.h). */
#ifndef GPUAAS_GPUAASD_DAEMON_H
#define GPUAAS_GPUAASD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuaasd/state.h"

/* Picks the executor and the GPU inventory for d->cfg (options parsed and
 * validated). 0, or -1 with a message (a configuration error: exit 2). */
int daemon_configure(struct daemon *d, char *err, size_t errlen);
/* Everything below the socket: state dir, database, key, first admin, loop,
 * batch, hasher, parking, dispatcher and scheduler, with the jobs found in
 * the database recovered. 0 or -1 with err. */
int daemon_init_core(struct daemon *d, int hasher_threads, char *err, size_t errlen);
/* daemon_init_core plus signals and the listening socket (or the one
 * systemd passed). 0 or -1 with err. */
int daemon_init(struct daemon *d, char *err, size_t errlen);
/* Runs the loop until SIGTERM/SIGINT. 0 or -1 with err. */
int daemon_run(struct daemon *d, char *err, size_t errlen);
/* One round of what happens before the loop sleeps: schedule, commit,
 * release replies, answer parked requests, flush. True while there is more
 * to do. */
bool daemon_round(struct daemon *d);
/* Stops cleanly in order (answers hash jobs, commits, ends jobs that cannot
 * outlive the daemon, closes connections) and frees everything; clean says
 * whether the socket file is removed. Safe after a failed init. */
void daemon_finish(struct daemon *d, bool clean);

#endif
