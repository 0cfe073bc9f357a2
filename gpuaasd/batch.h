/* The batch transaction: every write of one loop round (requests, the
 * scheduler's starts and ends, timers) goes into one SQLite transaction,
 * committed once before any reply about it leaves, so many writers share one
 * fsync. Each unit of work runs in its own savepoint: a failed unit is
 * undone alone and the rest of the batch stays. It sits on the database and
 * knows nothing of requests: the dispatcher holds replies until the commit,
 * and the daemon tells each layer how the commit went. */
#ifndef GPUAAS_GPUAASD_BATCH_H
#define GPUAAS_GPUAASD_BATCH_H

#include <stdbool.h>

struct db;
struct batch;

enum batch_result {
	BATCH_EMPTY,     /* nothing was open */
	BATCH_COMMITTED,
	BATCH_FAILED,    /* rolled back: a database error */
	BATCH_FAILED_TRANSIENT, /* rolled back: disk full, read-only or locked */
};

/* NULL on ENOMEM. The batch uses db but does not own it. */
struct batch *batch_create(struct db *db);
/* Commits what is open, then frees. NULL is a no-op. */
void batch_destroy(struct batch *b);
/* True while a transaction is open. */
bool batch_is_open(const struct batch *b);
/* Starts one unit of work: opens the transaction when none is, then a
 * savepoint. 0 or -1 (the unit must not run). */
int batch_enter(struct batch *b);
/* Ends the unit begun by batch_enter: keep its writes or undo them. 0 or -1
 * (keeping failed: the unit's writes are undone). */
int batch_leave(struct batch *b, bool keep);
/* Runs fn(arg) as one unit: kept when it returns 0, undone otherwise.
 * Returns fn's result, or -1 when the unit could not start or be kept. */
int batch_run(struct batch *b, int (*fn)(void *arg), void *arg);
/* Commits the open transaction (rolling back when that fails). */
enum batch_result batch_commit(struct batch *b);
/* Units of work in the open transaction (for logs). */
unsigned batch_units(const struct batch *b);

#endif
