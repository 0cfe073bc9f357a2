/* The dispatcher: request envelope -> op lookup -> token -> role -> handler,
 * in that order and only here. Write ops of one loop iteration share one
 * transaction, committed in the before-wait hook before any of their replies
 * leave, so many clients share one fsync. */
#ifndef GPUAAS_GPUAASD_DISPATCH_H
#define GPUAAS_GPUAASD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuaasd/daemon.h"
#include "gpuaasd/server.h"

struct dispatcher;

/* NULL on ENOMEM. */
struct dispatcher *dispatch_create(struct daemon *d);
void dispatch_destroy(struct dispatcher *disp);
/* The server's request callback (data is the dispatcher). */
void dispatch_request(void *data, struct request *r, const char *payload, size_t len);
/* Commits the open batch and releases the replies held for it. Returns true
 * when something was committed. */
bool dispatch_commit(struct dispatcher *disp);
/* True while a batch transaction is open. */
bool dispatch_batch_open(const struct dispatcher *disp);
/* Runs fn inside the batch transaction, for writes that do not come from a
 * request (scheduler timers). 0, or -1 when the transaction failed. */
int dispatch_run_write(struct dispatcher *disp, int (*fn)(struct daemon *d, void *arg), void *arg);
/* Registers a callback run after each successful commit (the scheduler uses
 * it to act on what was committed) and after a failed one (to resync). */
void dispatch_on_commit(struct dispatcher *disp, void (*cb)(struct daemon *d, bool committed));

#endif
