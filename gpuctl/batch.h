/* One op on many job ids, pipelined on one connection: cancel, wait,
 * approve, reject (and job.get to show what a bulk action did). Requests
 * are built from the ids as typed, failures are reported per id in the
 * terms of the command's flags. */
#ifndef GPUAAS_GPUCTL_BATCH_H
#define GPUAAS_GPUCTL_BATCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "gpuctl/ctl.h"

/* One pipelined request per job id, and what ctl_call_many fills in. */
struct batch {
	int n;
	cJSON **args;      /* owned until ctl_call_many consumes them (and sets them NULL) */
	cJSON **data;      /* owned: the replies */
	enum status *st;
	char (*errs)[256];
	char **ids;        /* the ids as given, for messages (borrowed) */
};

/* Parses the ids, sends op for each (with a copy of extra, may be NULL,
 * plus "id") and reads the replies. 0, or the exit code after a usage
 * error; batch_free either way. */
int batch_run(struct ctl *c, struct batch *b, const char *op, int nids, char **ids, const cJSON *extra);
/* Frees what batch_run allocated. */
void batch_free(struct batch *b);
/* Prints the failure of request i ("gpuctl: cancel 7: no job 7"); *rc
 * gets its exit code when it is the first failure. */
void batch_report(struct ctl *c, const struct batch *b, int i, int *rc);
/* Prints the jobs that came back as JSON or YAML: {"jobs": [...]}, or
 * (unless list) one object when there was one id. */
void batch_emit(const struct ctl *c, const struct batch *b, bool list);
/* Prints the results of a batch: a line per job ("7 APPROVED", "8
 * CANCELLING"), its id (-o name) or the objects (-o json); failures on
 * stderr. Returns the exit code of the first failure, else 0. */
int batch_print(struct ctl *c, const struct batch *b);
/* batch_run, batch_print and batch_free: runs op on every id and prints
 * each result. Returns the exit code of the first failure, else 0. */
int batch_per_id(struct ctl *c, const char *op, int nids, char **ids, const cJSON *extra);
/* The status as people should read it: CANCELLING for a RUNNING job whose
 * processes are being stopped after a cancel, else the job's status. */
const char *job_shown_status(const cJSON *job);

#endif
