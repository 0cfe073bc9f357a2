/* The dispatcher: request envelope -> op lookup -> token -> role -> handler,
 * in that order and only here. Write ops run as units of the batch
 * transaction (batch.h); every reply produced while the batch is open is
 * held until the daemon has committed it, so nobody is told about, or sees,
 * what could still be rolled back. */
#ifndef GPUAAS_GPUAASD_DISPATCH_H
#define GPUAAS_GPUAASD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuaasd/batch.h"
#include "gpuaasd/state.h"
#include "gpuaasd/server.h"

struct dispatcher;

/* NULL on ENOMEM. */
struct dispatcher *dispatch_create(struct daemon *d);
/* Sends what is still held and frees. NULL is a no-op. */
void dispatch_destroy(struct dispatcher *disp);
/* The server's request callback (data is the dispatcher). */
void dispatch_request(void *data, struct request *r, const char *payload, size_t len);
/* After the batch commit: releases the held replies; when the commit
 * failed, successful writes among them are turned into errors. */
void dispatch_after_commit(struct dispatcher *disp, enum batch_result result);

#endif
